"""Shared helpers of the chain tests, imported by the test modules: run ``ipf`` on a Job Order,
and simulate the small scene and run its Job Orders up to L1B.

(Not a conftest.py: a second conftest.py without ``__init__.py`` would shadow the top-level one.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

IPF = Path(sys.executable).with_name("ipf")
SIM = Path(sys.executable).with_name("ipf-sim")


def run_ipf(job: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    """``ipf JOB`` in a subprocess, output captured."""
    return subprocess.run([str(IPF), str(job)], capture_output=True, text=True, timeout=timeout)


def small_scene_to_l1b(folder: Path) -> Path:
    """Simulate the small scene (seed 3) in ``folder/sim`` and run its L0, L1A and L1B Job Orders
    (each must exit 0); returns the simulation folder."""
    sim = folder / "sim"
    subprocess.run([str(SIM), "--size", "small", "--seed", "3", "--out", str(sim), "--quiet"],
                   check=True, capture_output=True)
    for level in ("L0", "L1A", "L1B"):
        run = run_ipf(sim / "joborders" / f"JobOrder_{level}.xml")
        assert run.returncode == 0, (level, run.stdout[-3000:], run.stderr[-3000:])
    return sim
