"""The simulated scenes of the chain and batch tests, each made once per session.

The small scene of seed 3 is simulated once and run once through its L0, L1A, L1B and L1C Job
Orders; every chain test reads these products. ``ipf`` runs on one thread, so the scenes are made
in a background thread (one ``ipf`` or ``ipf-sim`` subprocess at a time) while the other tests run
on the second core: :class:`Scenes` starts what the collected tests need at the start of the
session, and a fixture asking for a scene waits for it (or makes it, when it was not started).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import run_job, simulate

__all__ = ["L1BScene", "L1CScene", "Scenes", "SCENE_FIXTURES"]

LEVELS = ("L0", "L1A", "L1B")
FAULTS = ("--lost-packets", "0.08", "--crc-errors", "0.05", "--time-jumps", "0.1")


@dataclass(frozen=True)
class L1BScene:
    """The small scene of seed 3 after its L0, L1A and L1B Job Orders (``runs`` by level).

    ``sim`` is the working folder (the L1C products are added to it later); for the clean scene,
    ``input`` is a copy of the simulation before any run, ``after_l1b`` a copy of ``sim`` right
    after the L1B run."""

    sim: Path
    runs: dict[str, subprocess.CompletedProcess]
    input: Path | None = None
    after_l1b: Path | None = None


@dataclass(frozen=True)
class L1CScene:
    """An L1C Job Order ``job`` of a scene folder ``sim`` and its ``run``."""

    sim: Path
    job: Path
    run: subprocess.CompletedProcess


def _run_levels(sim: Path) -> dict[str, subprocess.CompletedProcess]:
    return {level: run_job(sim / "joborders" / f"JobOrder_{level}.xml", timeout=300) for level in LEVELS}


def _check_l1b(scene: L1BScene) -> None:
    for level, run in scene.runs.items():
        assert run.returncode == 0, (level, run.stdout[-3000:], run.stderr[-3000:])


def _l1c_job(sim: Path) -> Path:
    (job,) = sorted((sim / "joborders").glob("JobOrder_L1C_T*.xml"))
    return job


def _without_tci(src: Path) -> Path:
    """The L1C Job Order ``src`` without FORMAT_IMG_PVI_TCI and without the PDI_TILE_TCI input of
    FORMAT_METADATA_TILE_L1C, written next to it as ``JobOrder_L1C_SAFE.xml``."""
    from ipf.interface import joborder as jo

    job = jo.read(src)
    procs = []
    for p in job.procs:
        if p.task_name == "FORMAT_IMG_PVI_TCI":
            continue
        if p.task_name == "FORMAT_METADATA_TILE_L1C":
            p = p.model_copy(update={"inputs": tuple(i for i in p.inputs if i.file_type != "PDI_TILE_TCI")})
        procs.append(p)
    assert "FORMAT_METADATA_TILE_L1C" in [p.task_name for p in procs]
    return jo.write(job.model_copy(update={"procs": tuple(procs)}), src.with_name("JobOrder_L1C_SAFE.xml"))


class Scenes:
    """The session's scenes in ``root``, each made at most once, in one background thread."""

    def __init__(self, root: Path):
        self.root = root
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="scenes")
        self._futures: dict[str, Future] = {}
        self._lock = threading.RLock()
        self._steps = {"l1b": ((), self._l1b), "faulty": ((), self._faulty), "l1c": (("l1b",), self._l1c),
                       "l1c_safe": (("l1b",), self._l1c_safe)}

    def start(self, names: set[str]) -> None:
        """Start making the scenes ``names`` (and those they need), in a fixed order."""
        for name in self._steps:
            if name in names:
                self._submit(name)

    def get(self, name: str):
        """The scene ``name``, once made (an error of its making raised again)."""
        return self._submit(name).result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, name: str) -> Future:
        with self._lock:
            if name not in self._futures:
                needs, make = self._steps[name]
                for n in needs:
                    self._submit(n)
                self._futures[name] = self._pool.submit(make)
            return self._futures[name]

    def _l1b(self) -> L1BScene:
        sim = simulate(self.root / "clean")
        pristine = self.root / "input"
        shutil.copytree(sim, pristine)
        runs = _run_levels(sim)
        after = self.root / "after_l1b"
        shutil.copytree(sim, after)
        return L1BScene(sim, runs, pristine, after)

    def _l1c(self) -> L1CScene:
        l1b = self.get("l1b")
        _check_l1b(l1b)
        job = _l1c_job(l1b.sim)
        return L1CScene(l1b.sim, job, run_job(job))

    def _l1c_safe(self) -> L1CScene:
        """The L1C Job Order without the true colour image, on a copy of the scene after L1B."""
        l1b = self.get("l1b")
        _check_l1b(l1b)
        sim = self.root / "l1c_safe"
        shutil.copytree(l1b.after_l1b, sim)
        job = _without_tci(_l1c_job(sim))
        return L1CScene(sim, job, run_job(job))

    def _faulty(self) -> L1BScene:
        """The small scene of seed 3 with lost packets, CRC errors and time jumps, to L1B."""
        sim = simulate(self.root / "faulty", *FAULTS)
        return L1BScene(sim, _run_levels(sim))


SCENE_FIXTURES = {"l1b_scene": "l1b", "l1c_scene": "l1c", "l1c_safe_scene": "l1c_safe",
                  "faulty_scene": "faulty"}
