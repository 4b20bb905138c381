"""Start-up cost: time from process start to the first task's first log line, demo Job Order.

The Production Service starts one ``ipf`` process per task, so this is paid on every task. The
anchor is a bare ``python -c pass`` of the same interpreter, measured in the same run.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IPF = Path(sys.executable).with_name("ipf")
GOAL_S = 0.5


def _time_to_line(cmd: list[str], needle: str, cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, text=True)
    elapsed = None
    for line in proc.stdout:
        if elapsed is None and needle in line:
            elapsed = time.perf_counter() - t0
    proc.wait()
    if elapsed is None or proc.returncode != 0:
        raise RuntimeError(f"{cmd} exited {proc.returncode} without {needle!r}")
    return elapsed


def _python_startup() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - t0


def run(repeat: int = 7) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "joborders" / "demo", work / "demo")
        times = []
        for i in range(repeat + 1):
            job = work / f"run{i}"
            job.mkdir()
            shutil.copy(REPO / "joborders" / "JobOrder.S2IPF_DEMO.xml", job / "JobOrder.xml")
            os.symlink(work / "demo", job / "demo")
            t = _time_to_line([str(IPF), "JobOrder.xml"], "DEMO_GENERATE:", job)
            if i:  # the first run warms the file cache
                times.append(t)
        anchor = statistics.median(_python_startup() for _ in range(repeat))
    value = statistics.median(times)
    return {"startup": {
        "name": "start-up: process start to first task log line, demo",
        "unit": "s", "value": round(value, 4), "min": round(min(times), 4),
        "goal": GOAL_S, "goal_met": value <= GOAL_S,
        "anchor_name": "python -c pass", "anchor": round(anchor, 4),
        "ratio": round(value / anchor, 2),
    }}
