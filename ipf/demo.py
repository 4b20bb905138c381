"""``make demo``: copy the sample Job Order into a fresh directory and run it with ``ipf``.

``python -m ipf.demo DIR`` empties ``DIR``, copies ``joborders/JobOrder.S2IPF_DEMO.xml`` and its
input there, runs ``ipf JobOrder.xml`` in a subprocess (exactly as a Production Service would) and
lists the products. The exit status is ``ipf``'s.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    work = Path(argv[0] if argv else "build/demo").resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    shutil.copy(REPO / "joborders" / "JobOrder.S2IPF_DEMO.xml", work / "JobOrder.xml")
    shutil.copytree(REPO / "joborders" / "demo", work / "demo")
    ipf = Path(sys.executable).with_name("ipf")
    print(f"$ cd {work} && {ipf} JobOrder.xml", flush=True)
    status = subprocess.call([str(ipf), "JobOrder.xml"], cwd=work)
    print(f"ipf exit code: {status}")
    products = sorted(p for p in (work / "output").rglob("*") if p.is_file()) if status == 0 else []
    for p in products:
        print(f"  product file: {p}")
    return status


if __name__ == "__main__":
    sys.exit(main())
