"""The task API: what an in-process task receives from the executor (:class:`TaskContext`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipf.interface import joborder as jo
from ipf.interface import tasktable as tt
from ipf.interface.errors import TaskError
from ipf.interface.plan import choose
from ipf.interface.staging import Staged

__all__ = ["TaskContext", "TaskError"]


@dataclass
class TaskContext:
    """What an in-process task receives: its Job Order entry, parameters, logger and paths."""

    job: jo.JobOrder
    table: tt.TaskTable
    task: tt.Task
    proc: jo.IpfProc
    params: dict[str, Any]
    log: Any
    working_dir: Path
    staged: dict[str, Staged] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def test(self) -> bool:
        return self.job.test

    def inputs(self, file_type: str) -> list[Path]:
        """Every file the Job Order gives for ``file_type`` (for the files of a task-table
        ``Input`` with alternatives, see :meth:`input_of`)."""
        return self.proc.input_files(file_type)

    def input(self, file_type: str) -> Path:
        """The one file the Job Order gives for ``file_type``; ``TaskError`` otherwise."""
        files = self.inputs(file_type)
        if len(files) != 1:
            raise TaskError(f"expected one {file_type} input, the Job Order gives {len(files)}")
        return files[0]

    def alternative(self, key: str | int) -> tt.Alternative | None:
        """The ``Alternative`` chosen for the task-table ``Input`` ``key`` (see
        :func:`~ipf.interface.plan.choose`: the first, in ``Order``, whose files the Job Order
        gives and that exist); ``None`` when the Job Order gives none of its file types.

        ``key`` is the ``Input``'s ``id``, its position (from 1) in the task's
        ``List_of_Inputs``, or the file type of one of its alternatives.
        """
        return choose(self._table_input(key), self.proc)

    def input_of(self, key: str | int) -> list[Path]:
        """The files of the task-table ``Input`` ``key`` (as for :meth:`alternative`): every file
        the Job Order gives for the chosen alternative's file type; empty when it gives none."""
        chosen = self.alternative(key)
        return [] if chosen is None else self.inputs(chosen.file_type)

    def _table_input(self, key: str | int) -> tt.TaskInput:
        inputs = self.task.inputs
        if isinstance(key, int) and not isinstance(key, bool):
            if 1 <= key <= len(inputs):
                return inputs[key - 1]
        else:
            found = next((i for i in inputs if i.id == key), None) \
                or next((i for i in inputs if key in i.file_types), None)
            if found is not None:
                return found
        raise TaskError(f"task {self.task.name} has no Input {key!r} in its task table "
                        f"({len(inputs)} Inputs)")

    def output(self, file_type: str) -> Path:
        """Where to write the ``file_type`` output: a staging path, renamed into place at the end.

        For a ``Directory`` output the directory exists (empty); for a file, its parent does.
        """
        try:
            return self.staged[file_type].path
        except KeyError:
            raise TaskError(f"the Job Order gives no Output of type {file_type}") from None

    def breakpoint(self, name: str) -> Path | None:
        """Path of breakpoint file ``name`` when breakpoints are enabled, else ``None``.

        ``name`` is a ``Breakpoint/File_Name`` of the task table. The Job Order's ``Brk_File`` of
        that ``File_Type`` gives the path; without one it goes to
        ``<working dir>/breakpoints/<task>/<name>``.
        """
        if name not in {b.file_name for b in self.task.breakpoints}:
            raise TaskError(f"breakpoint {name!r} is not declared in the task table")
        if not self.job.breakpoint_enable:
            return None
        for b in self.proc.breakpoints:
            if b.file_type == name:
                if not b.enable:
                    return None
                b.file_name.parent.mkdir(parents=True, exist_ok=True)
                return b.file_name
        path = self.working_dir / "breakpoints" / self.task.name / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def progress(self, percent: float, message: str = "") -> None:
        self.log.progress(percent, message)

    def warn(self, message: str) -> None:
        """Log a warning; the task ends with ``PROCESSING_WARNING``."""
        self.warnings.append(message)
        self.log.warning(message)
