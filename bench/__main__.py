"""``python -m bench``: run the benchmarks, print a table, write ``bench/results.json``."""

from __future__ import annotations

import json
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

from bench import jp2, l1b_tile, l1c_tile, radiometry, startup, warp

#: each returns {key: result}; a result has name, unit, value and, when compared, anchor, ratio
#: and goal (goal_met)
BENCHMARKS = (startup.run, radiometry.run, warp.run, l1b_tile.run, l1c_tile.run, jp2.run)


def main() -> int:
    results = {}
    for fn in BENCHMARKS:
        results.update(fn())
    out = Path(__file__).resolve().parent / "results.json"
    doc = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                       "processor": platform.processor()},
           "results": results}
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"{'benchmark':<62} {'ours':>14} {'anchor':>14} {'ratio':>7} {'goal':>7}")
    for r in results.values():
        goal = ("ok" if r["goal_met"] else "MISSED") if "goal" in r else ""
        anchor = f"{r['anchor']} {r['unit']}" if "anchor" in r else ""
        print(f"{r['name']:<62} {str(r['value']) + ' ' + r['unit']:>14} {anchor:>14} "
              f"{r.get('ratio', ''):>7} {goal:>7}")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
