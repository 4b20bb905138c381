"""The plan of a run and the checks made before any task starts.

:func:`plan` lists the task table's tasks that the Job Order names, in table order (pools in
sequence, the tasks of a pool one after the other: this processor uses one core; a ``Detached``
pool runs in its place, see :func:`detached_pools`). Then, before anything runs: mandatory inputs,
the alternative chosen for each input and its files' validity (:func:`check_inputs`), outputs
(:func:`check_outputs`: parent
writable, destination absent or an empty directory, no collisions between tasks),
``Min_Disk_Space`` (:func:`check_disk_space`). Each failure is an
:class:`~ipf.interface.errors.IpfError` naming the Job Order or task table element at fault.
"""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ipf.interface import joborder as jo
from ipf.interface import tasktable as tt
from ipf.interface.errors import (DiskFullError, JobOrderError, MissingInputError, OutputError,
                                  UnknownProcessorError)
from ipf.interface.exitcodes import ExitCode
from ipf.interface.staging import STAGING_PREFIX, container_name

__all__ = ["Step", "plan", "detached_pools", "working_dir", "check_inputs", "choose",
           "outside_validity", "check_outputs", "check_disk_space", "print_plan"]


@dataclass
class Step:
    """One planned task: its table entry, pool and the Job Order's ``Ipf_Proc``."""

    task: tt.Task
    pool: tt.Pool
    proc: jo.IpfProc


def plan(job: jo.JobOrder, table: tt.TaskTable) -> list[Step]:
    """The tasks to run, in task-table order (pools in sequence, a ``Detached`` pool in its place);
    every ``Ipf_Proc`` must name a table task. A task name that the table repeats is paired in
    order: its n-th occurrence runs with the n-th ``Ipf_Proc`` of that name."""
    listed: dict[str, list[jo.IpfProc]] = {}
    for proc in job.procs:
        where = dict(source=job.source, element=f"{proc.xpath}/Task_Name")
        occurrences = sum(t.name == proc.task_name for t in table.tasks)
        if not occurrences:
            raise UnknownProcessorError(f"task {proc.task_name!r} is not in task table "
                                        f"{table.source} (tasks: "
                                        f"{', '.join(t.name for t in table.tasks)})", **where)
        procs = listed.setdefault(proc.task_name, [])
        if len(procs) == occurrences:
            raise JobOrderError(f"task {proc.task_name} is listed twice" if occurrences == 1 else
                                f"task {proc.task_name} is listed more than the {occurrences} "
                                "times the task table has it", **where)
        procs.append(proc)
    steps = []
    for pool in table.pools:
        for task in pool.tasks:
            procs = listed.get(task.name)
            if procs:
                steps.append(Step(task, pool, procs.pop(0)))
    return steps


def detached_pools(steps: list[Step], table: tt.TaskTable) -> list[int]:
    """Numbers (from 1) of the ``Detached`` pools that have planned tasks: on this single-core
    processor they run in sequence, after their predecessors and before their successors."""
    return sorted({table.pools.index(s.pool) + 1 for s in steps if s.pool.detached})


def working_dir(job: jo.JobOrder, *, create: bool = True) -> Path:
    """The ``WORKING`` input directory (created when missing unless ``create`` is false: then
    only checked), else the current directory."""
    for proc in job.procs:
        for n, path in enumerate(proc.input_files("WORKING"), 1):
            try:
                if create:
                    path.mkdir(parents=True, exist_ok=True)
                else:
                    _check_creatable(path)
            except OSError as exc:
                given = next(i for i in proc.inputs if i.file_type == "WORKING")
                raise OutputError(f"working directory {path}: {exc.strerror or exc}",
                                  source=job.source,
                                  element=f"{given.xpath}/List_of_File_Names/File_Name[{n}]") from None
            return path
    return Path.cwd()


def check_inputs(steps: list[Step], job_path: Path, log,
                 sensing: jo.SensingTime | None = None) -> ExitCode:
    """Mandatory inputs present (or made by an earlier task of this run); warn on the rest.

    Each task-table ``Input`` is met by the alternative :func:`choose` picks: the first, in
    ``Order``, whose files the Job Order gives and that exist (or are made by an earlier task),
    else the first it gives at all. Only the chosen alternative of a mandatory ``Input`` must
    exist; a missing file of another type is a warning. With ``sensing``, the chosen
    alternative's files (``Stem``, ``Prefix`` and ``Regexp`` names expanded) are checked against
    its ``Retrieval_Mode`` and ``T0``/``T1`` (see :func:`outside_validity`; the validity is the
    Job Order's ``Time_Interval`` for the file, else the one its name gives), a file out of range
    being a warning.
    """
    code = ExitCode.OK
    produced: list[Path] = []
    for step in steps:
        mandatory_types = set()
        for need in step.task.inputs:
            chosen = choose(need, step.proc, produced)
            if chosen is None:
                if need.required:
                    raise MissingInputError(f"task {step.task.name} needs an input of type "
                                            f"{' or '.join(need.file_types)}; the Job Order gives "
                                            "none", source=job_path,
                                            element=f"{step.proc.xpath}/List_of_Inputs")
                continue
            if need.required:
                mandatory_types.add(chosen.file_type)
            if sensing is None:
                continue
            for given in step.proc.inputs:
                if given.file_type != chosen.file_type:
                    continue
                intervals = {ti.file_name: (ti.start, ti.stop) for ti in given.time_intervals}
                for n, name in enumerate(given.file_names, 1):
                    for path in given.designated(name) or [name]:
                        why = outside_validity(path, chosen, sensing,
                                               valid=intervals.get(path, intervals.get(name)))
                        if why:
                            log.warning(f"{job_path}: {given.xpath}/List_of_File_Names/"
                                        f"File_Name[{n}]: task {step.task.name}: {why}")
                            code = ExitCode.PROCESSING_WARNING
        for given in step.proc.inputs:
            if given.file_type == "WORKING":
                continue
            for n, path in enumerate(given.file_names, 1):
                if _present(given, path, produced):
                    continue
                where = f"{given.xpath}/List_of_File_Names/File_Name[{n}]"
                what = ("does not exist" if given.file_name_type in (jo.FileNameType.PHYSICAL,
                                                                     jo.FileNameType.DIRECTORY)
                        else f"({given.file_name_type.value}) designates no file")
                if given.file_type in mandatory_types:
                    raise MissingInputError(f"mandatory {given.file_type} input {path} {what}",
                                            source=job_path, element=where)
                log.warning(f"{job_path}: {where}: {given.file_type} input {path} {what}")
                code = ExitCode.PROCESSING_WARNING
        produced.extend(o.file_name for o in step.proc.outputs)
    return code


def choose(need: tt.TaskInput, proc: jo.IpfProc,
           produced: list[Path] | tuple[Path, ...] = ()) -> tt.Alternative | None:
    """The alternative of the task-table ``Input`` ``need`` that a task uses: the first, in
    ``Order``, whose file type ``proc`` gives with every file present (on disk, designated by a
    ``Stem``/``Prefix``/``Regexp`` name, ``Logical``, or under a path in ``produced``: the
    outputs of earlier tasks); else the first whose file type it gives at all; ``None`` when it
    gives none."""
    given = [a for a in need.ordered
             if any(i.file_names for i in proc.inputs if i.file_type == a.file_type)]
    for alternative in given:
        if all(_present(i, name, produced) for i in proc.inputs
               if i.file_type == alternative.file_type for name in i.file_names):
            return alternative
    return given[0] if given else None


def _present(given: jo.JobInput, name: Path, produced) -> bool:
    """Whether the ``File_Name`` ``name`` of ``given`` designates something: an existing file,
    a ``Logical`` name, or a path under an output of an earlier task."""
    found = given.designated(name)
    return found is None or bool(found) or any(name == p or p in name.parents for p in produced)


def outside_validity(path: Path, alternative: tt.Alternative, sensing: jo.SensingTime,
                     valid: tuple[datetime, datetime] | None = None) -> str | None:
    """Why the file ``path`` does not fit ``alternative``'s retrieval window, or ``None``.

    The window is ``[start - T0, stop + T1]`` of the sensing time (seconds; an empty T0/T1 is 0),
    clamped to the representable times; an open-ended start or stop
    (:data:`~ipf.interface.joborder.OPEN_START`, ``OPEN_STOP``: ``00000000_000000000000``,
    ``99999999_999999999999``) stays open. ``ValIntersect``-like modes
    (:data:`~ipf.interface.tasktable.INTERSECT_MODES`) need the file's validity to intersect it,
    ``LatestValCover`` to cover it (not checked when the window is open-ended: no file covers it).
    The file's validity is ``valid`` (from the Job Order's ``List_of_Time_Intervals``), else the
    one its name gives (:func:`~ipf.interface.tasktable.validity`). Other modes, and files with
    no validity, are not checked.
    """
    mode = alternative.retrieval_mode
    if mode not in tt.INTERSECT_MODES and mode not in tt.COVER_MODES:
        return None
    valid = valid or tt.validity(path)
    if valid is None:
        return None
    open_start, open_stop = sensing.start == jo.OPEN_START, sensing.stop == jo.OPEN_STOP
    if mode in tt.COVER_MODES and (open_start or open_stop):
        return None
    start = sensing.start if open_start else _shifted(sensing.start, -(alternative.t0 or 0.0))
    stop = sensing.stop if open_stop else _shifted(sensing.stop, alternative.t1 or 0.0)
    first, last = valid
    window = (f"[{'open' if open_start else f'{start:%Y-%m-%dT%H:%M:%S}'}, "
              f"{'open' if open_stop else f'{stop:%Y-%m-%dT%H:%M:%S}'}]")
    span = f"{first:%Y-%m-%dT%H:%M:%S} to {last:%Y-%m-%dT%H:%M:%S}"
    if mode in tt.COVER_MODES and not (first <= start and last >= stop):
        return (f"{alternative.file_type} {path.name} valid {span} does not cover {window} "
                f"({mode}, T0={alternative.t0 or 0:g} s, T1={alternative.t1 or 0:g} s)")
    if mode in tt.INTERSECT_MODES and (last < start or first > stop):
        return (f"{alternative.file_type} {path.name} valid {span} is outside {window} "
                f"({mode}, T0={alternative.t0 or 0:g} s, T1={alternative.t1 or 0:g} s)")
    return None


def _shifted(time: datetime, seconds: float) -> datetime:
    """``time`` moved by ``seconds``, clamped to the first and last representable times."""
    try:
        return time + timedelta(seconds=seconds)
    except OverflowError:
        return jo.OPEN_START if seconds < 0 else jo.OPEN_STOP


def check_outputs(steps: list[Step], job_path: Path) -> None:
    """Each output can be created where the Job Order puts it, and nothing is there yet.

    Outputs of different tasks must not be the same path or nested in each other; two outputs of
    one task may share a path (S2 Job Orders give PDI_DS and PDI_DS_GR_LIST the same directory).
    A name holding a template placeholder (``***DS_ANC_DATA***``, ``@x@``...) is a
    :class:`~ipf.interface.errors.JobOrderError`. Nothing is created: parents are made when the
    task is staged.
    """
    owner: dict[Path, tuple[str, str]] = {}
    for step in steps:
        declared = {o.file_type for o in step.proc.outputs}
        for need in step.task.outputs:
            if need.mandatory and need.file_type not in declared:
                raise JobOrderError(f"task {step.task.name} makes a mandatory {need.file_type} "
                                    "output; the Job Order gives no Output of that type",
                                    source=job_path, element=f"{step.proc.xpath}/List_of_Outputs")
        for out in step.proc.outputs:
            where = dict(source=job_path, element=f"{out.xpath}/File_Name")
            if (out.file_name_type is not jo.FileNameType.REGEXP
                    and jo.is_placeholder(str(out.file_name))):
                raise JobOrderError(f"output {out.file_type} {out.file_name} holds a template "
                                    "placeholder, not a file name", **where)
            final = out.file_name.resolve()
            for other, (task, xpath) in owner.items():
                if task != step.task.name and (other == final or other in final.parents
                                               or final in other.parents):
                    raise OutputError(f"output {final} collides with {other}, an output of task "
                                      f"{task} ({xpath})", **where)
            owner[final] = (step.task.name, out.xpath)
            empty_dir = final.is_dir() and not final.is_symlink() and not any(final.iterdir())
            if (final.exists() or final.is_symlink()) and not empty_dir:
                raise OutputError(f"output {final} already exists; refusing to overwrite it", **where)
            if len(container_name(final).encode()) > 255:
                raise OutputError(f"output name {final.name!r} is too long to be staged (255 bytes "
                                  f"with the '{STAGING_PREFIX}<pid>-' prefix)", **where)
            try:
                _check_creatable(final.parent)
            except OSError as exc:
                raise OutputError(f"cannot write output {final}: {exc.strerror or exc}",
                                  **where) from None


def check_disk_space(steps: list[Step], table: tt.TaskTable, working: Path) -> None:
    """``Min_Disk_Space`` free on every file system that receives outputs and working files."""
    need_mb = table.min_disk_space_mb
    dirs = {working} | {o.file_name.parent for s in steps for o in s.proc.outputs}
    devices = {}
    for d in sorted(dirs):
        existing = next(p for p in (d, *d.parents) if p.exists())
        devices.setdefault(os.stat(existing).st_dev, existing)
    for d in devices.values():
        free_mb = shutil.disk_usage(d).free / 2**20
        if free_mb < need_mb:
            raise DiskFullError(f"{free_mb:.0f} MB free on {d}, the task table needs "
                                f"{need_mb:.0f} MB", source=table.source,
                                element="/Ipf_Task_Table/Min_Disk_Space")


def print_plan(steps: list[Step], table: tt.TaskTable, params: dict[str, Any], log) -> None:
    """Log the plan of a dry run: each task with its inputs and outputs, then the parameters."""
    log.info(f"dry run: {len(steps)} task(s) of {table.processor_name} {table.version}; nothing "
             "is executed")
    for n, step in enumerate(steps, 1):
        t = step.task
        pool = table.pools.index(step.pool) + 1
        log.info(f"{n}. pool {pool} task {t.name} {t.version} "
                 f"{'critical' if t.critical else 'non-critical'} "
                 f"level {t.criticality_level}: {t.file_name}")
        for i in step.proc.inputs:
            for f in i.file_names:
                log.info(f"     in  {i.file_type:<16} {f}"
                         + ("" if f.exists() else " (made by an earlier task)"))
        for o in step.proc.outputs:
            log.info(f"     out {o.file_type:<16} {o.file_name}")
    for name, value in params.items():
        log.info(f"   parameter {name} = {value!r}")


def _check_creatable(directory: Path) -> None:
    """Raise ``OSError`` unless ``directory`` exists writable or could be created (no side effect)."""
    for d in (directory, *directory.parents):
        if d.exists():
            if not d.is_dir():
                raise OSError(errno.ENOTDIR, f"{d} is not a directory")
            if not os.access(d, os.W_OK | os.X_OK):
                raise OSError(errno.EACCES, f"{d} is not writable")
            return
