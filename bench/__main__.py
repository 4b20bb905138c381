"""``python -m bench``: run the benchmarks, print a table, write ``bench/results.json``."""

from __future__ import annotations

import json
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

from bench import startup

BENCHMARKS = {"startup": startup.run}


def main() -> int:
    results = {}
    for key, fn in BENCHMARKS.items():
        results[key] = fn()
    out = Path(__file__).resolve().parent / "results.json"
    doc = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                       "processor": platform.processor()},
           "results": results}
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"{'benchmark':<70} {'ours':>10} {'anchor':>10} {'ratio':>7} {'goal':>8}")
    for r in results.values():
        goal = f"{'ok' if r['goal_met'] else 'MISSED'}" if "goal" in r else ""
        print(f"{r['name']:<70} {r['value']:>9}{r['unit']} {r['anchor']:>9}{r['unit']} "
              f"{r['ratio']:>7} {goal:>8}")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
