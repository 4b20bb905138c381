"""Plain helpers of the processor task tests (``from tests.processors.proc_fixtures import ...``):
a TaskContext built from a dict of inputs, outputs and parameters (:func:`task_context`) and the
inputs a simulation's Job Order gives a task (:func:`job_inputs`). The fixtures are in
conftest.py."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

from ipf.interface import joborder
from ipf.interface.context import TaskContext
from ipf.interface.staging import Staged

__all__ = ["TaskLog", "task_context", "job_inputs"]


class TaskLog:
    """A task logger that keeps its messages: ``(level, message)`` in :attr:`records`."""

    def __init__(self):
        self.records: list[tuple[str, str]] = []

    def _add(self, level, message):
        self.records.append((level, str(message)))
        logging.getLogger("ipf.test").log(getattr(logging, level.upper(), logging.INFO), message)

    def info(self, message):
        self._add("info", message)

    def debug(self, message):
        self._add("debug", message)

    def warning(self, message):
        self._add("warning", message)

    def progress(self, percent, message=""):
        self.records.append(("progress", f"{percent:.0f} {message}"))


def task_context(name: str, inputs: dict[str, Path | list[Path]], outputs: dict[str, Path],
                 params: dict | None = None) -> TaskContext:
    """A TaskContext of task ``name``: ``inputs`` {File_Type: path or paths}, ``outputs``
    {File_Type: path} (a path without a suffix is a directory output, created empty)."""
    files = {k: ([v] if isinstance(v, Path) else list(v)) for k, v in inputs.items()}
    staged = {}
    for file_type, path in outputs.items():
        directory = path.suffix == ""
        (path if directory else path.parent).mkdir(parents=True, exist_ok=True)
        staged[file_type] = Staged(final=path, container=path.parent, path=path, directory=directory)
    proc = SimpleNamespace(input_files=lambda file_type: list(files.get(file_type, [])),
                           breakpoints=[])
    job = SimpleNamespace(test=False, breakpoint_enable=False, sensing_time=None)
    task = SimpleNamespace(name=name, breakpoints=[])
    return TaskContext(job=job, table=None, task=task, proc=proc, params=dict(params or {}),
                       log=TaskLog(), working_dir=Path(next(iter(outputs.values()), Path("."))).parent,
                       staged=staged)


def job_inputs(sim: Path, level: str, task: str, **replace: Path | list[Path]) -> dict[str, list[Path]]:
    """{File_Type: absolute paths} of task ``task`` in ``joborders/JobOrder_<level>.xml`` of
    simulation folder ``sim``, with the file types in ``replace`` given instead."""
    job = joborder.read(sim / "joborders" / f"JobOrder_{level}.xml")
    proc = next(p for p in job.procs if p.task_name == task)
    files: dict[str, list[Path]] = {}
    for i in proc.inputs:
        files.setdefault(i.file_type, []).extend((sim / "joborders" / f).resolve() for f in i.file_names)
    files.update({k: [v] if isinstance(v, Path) else list(v) for k, v in replace.items()})
    return files
