"""``ipf-batch watch SPOOL``: a service that runs the Job Orders dropped into a spool directory.

The state is on disk, in four places:

* ``SPOOL/*.xml``: jobs waiting. A producer writes a Job Order under a name that does not end in
  ``.xml`` (``.name.tmp``, ``name.xml.part``) and renames it when complete.
* ``SPOOL/running/NAME.xml``: a job claimed, by a rename (atomic), and its log ``NAME.log``.
* ``SPOOL/done/`` and ``SPOOL/failed/``: finished jobs, each as ``NAME.xml``, ``NAME.log`` and
  ``NAME.json`` (exit code, attempts, times). A name already used gets a ``~N`` suffix when
  claimed.

A job ends by writing ``running/NAME.json`` and then moving the three files; a job in
``running/`` with its JSON is finished and only moved at start-up, one without was interrupted.
An interrupted job is re-run from scratch (its outputs removed first) as soon as its lock is free:
the lock (see :mod:`ipf.ops.batch.attempt`) is held while any process still runs it, such as an
``ipf`` left on a worker of a remote cluster. One service per spool (``SPOOL/.ipf-batch.lock``).
Job Orders must name their files with absolute paths: relative ones would be taken relative to
``running/``.
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from ipf.ops.batch.runner import Job, JobResult, Runner
from ipf.ops.batch.summary import line, write_json


__all__ = ["LOCK", "SUFFIXES", "SpoolBusy", "locked", "Spool", "watch"]

LOCK = ".ipf-batch.lock"
SUFFIXES = (".log", ".xml", ".json")


class SpoolBusy(Exception):
    """Another service serves this spool."""


def locked(path: Path) -> bool:
    """True while some process holds the lock of the Job Order ``path``."""
    try:
        with open(path, "rb") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except FileNotFoundError:
        return False
    return False


class Spool:
    def __init__(self, root: os.PathLike | str):
        self.root = Path(root).resolve()
        self.running, self.done, self.failed = (self.root / d for d in ("running", "done", "failed"))
        for d in (self.running, self.done, self.failed):
            d.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def served(self) -> Iterator[None]:
        """Hold the spool's lock; ``SpoolBusy`` when another service holds it."""
        with open(self.root / LOCK, "a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SpoolBusy(f"{self.root} is served by another ipf-batch watch") from None
            yield

    def incoming(self) -> list[Path]:
        """The jobs waiting, oldest first."""
        found = []
        for p in self.root.iterdir():
            if p.suffix == ".xml" and not p.name.startswith("."):
                try:
                    found.append((p.stat().st_mtime, p.name, p))
                except FileNotFoundError:
                    continue
        return [p for _, _, p in sorted(found)]

    def _free_stem(self, stem: str) -> str:
        name, n = stem, 1
        while any((d / f"{name}{s}").exists() for d in (self.running, self.done, self.failed)
                  for s in SUFFIXES):
            n += 1
            name = f"{stem}~{n}"
        return name

    def claim(self, path: Path) -> Path | None:
        """Move ``path`` into ``running/``; ``None`` when it is gone."""
        claimed = self.running / f"{self._free_stem(path.stem)}.xml"
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            return None
        return claimed

    def job(self, claimed: Path) -> Job:
        return Job(claimed.stem, claimed, claimed.with_suffix(".log"))

    def finalize(self, result: JobResult, *, recovered: bool = False) -> Path:
        """Record ``result`` and move the job into ``done/`` or ``failed/``; returns that place."""
        stem = result.job.job_order.stem
        dest = self.done if result.ok else self.failed
        data = result.to_json()
        data.update(job_order=str(dest / f"{stem}.xml"), log=str(dest / f"{stem}.log"),
                    finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    recovered=recovered)
        write_json(data, self.running / f"{stem}.json")
        return self._move(stem, dest)

    def _move(self, stem: str, dest: Path) -> Path:
        for suffix in SUFFIXES:
            try:
                os.replace(self.running / f"{stem}{suffix}", dest / f"{stem}{suffix}")
            except FileNotFoundError:
                pass
        return dest

    def recover(self) -> list[Path]:
        """Move the finished jobs left in ``running/``; returns the interrupted ones."""
        import json

        for record in sorted(self.running.glob("*.json")):
            status = json.loads(record.read_text()).get("status")
            self._move(record.stem, self.done if status == "ok" else self.failed)
        return sorted(self.running.glob("*.xml"))


def watch(spool: Spool, runner: Runner, stop: threading.Event, *, poll: float = 1.0,
          say: Callable[[str], None] = print) -> None:
    """Serve ``spool`` until ``stop`` is set, then finish the jobs started and return."""
    waiting = spool.recover()
    recovered = set(waiting)
    for path in waiting:
        say(f"ipf-batch: {path.name} was interrupted: it runs again from scratch")
    while not (stop.is_set() and not runner.busy):
        if not stop.is_set():
            for path in [p for p in waiting if not locked(p)]:
                waiting.remove(path)
                runner.submit(spool.job(path), clean=True)
            free = runner.capacity() - runner.busy
            for path in spool.incoming()[:max(0, free)]:
                claimed = spool.claim(path)
                if claimed is not None:
                    say(f"ipf-batch: {path.name} claimed as {claimed.name}")
                    runner.submit(spool.job(claimed))
        for result in runner.poll(poll):
            dest = spool.finalize(result, recovered=result.job.job_order in recovered)
            say(f"{line(result)} -> {dest.name}/")
