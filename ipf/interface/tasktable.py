"""Task tables: the ops-editable XML that says which tasks a processor runs, in which order.

A task table (``ipf/schemas/TaskTable.xsd``) is chosen by the Job Order's ``Processor_Name`` and
``Version`` among the ``TaskTable_*.xml`` files of the task-table directories: the processors' own
(``ipf/processors/<level>/``), or the directory named by ``IPF_TASKTABLE_DIR``. Pools run in sequence and, on
this single-core processor, the tasks of a pool too, in table order.

A task's ``File_Name`` is either an in-process entry point ``package.module:function`` (called
with a :class:`ipf.interface.context.TaskContext`) or an executable run as ``<exe> <JobOrder.xml>``.
"""

from __future__ import annotations

import importlib.util
import os
import re
from importlib import resources
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from ipf.interface import xmlio
from ipf.interface.errors import IpfError, JobOrderError, TaskTableError, UnknownProcessorError
from ipf.interface.joborder import FileNameType, JobOrder, as_bool, parse_time

SCHEMA = "TaskTable.xsd"

__all__ = ["SCHEMA", "ParamType", "DynProcParam", "Alternative", "TaskInput", "TaskOutput",
           "TaskBreakpoint", "Task", "Pool", "TaskTable", "read", "search_dirs", "default_dirs", "find",
           "typed_parameters"]
_ENTRY_POINT = re.compile(r"(?P<module>[A-Za-z_]\w*(\.[A-Za-z_]\w*)*):(?P<function>[A-Za-z_]\w*)")
_UNITS_MB = {"KB": 1 / 1024, "MB": 1.0, "GB": 1024.0}
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class ParamType(str, Enum):
    STRING = "String"
    BOOLEAN = "Boolean"
    INTEGER = "Integer"
    NUMBER = "Number"
    DATETIME = "DateTime"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DynProcParam(_Model):
    """``Dyn_ProcParam``: a dynamic processing parameter, its type and default."""

    name: str
    type: ParamType
    default: str | None = None

    def convert(self, value: str) -> Any:
        """``value`` as this parameter's type; raises ``ValueError`` when it is not one."""
        value = value.strip()
        if self.type is ParamType.BOOLEAN:
            low = value.lower()
            if low not in {"true", "false", "yes", "no", "on", "off", "1", "0"}:
                raise ValueError(f"{value!r} is not a Boolean (true/false)")
            return as_bool(low)
        if self.type is ParamType.INTEGER:
            if not _INTEGER.fullmatch(value):
                raise ValueError(f"{value!r} is not an Integer")
            return int(value)
        if self.type is ParamType.NUMBER:
            if not _NUMBER.fullmatch(value):
                raise ValueError(f"{value!r} is not a Number")
            return float(value)
        if self.type is ParamType.DATETIME:
            return parse_time(value)
        return value


class Alternative(_Model):
    order: int
    origin: str
    retrieval_mode: str
    t0: float
    t1: float
    file_type: str
    file_name_type: FileNameType


class TaskInput(_Model):
    """``Input`` of a task: one of the alternatives' file types, possibly mandatory."""

    mode: str
    mandatory: bool
    alternatives: tuple[Alternative, ...]

    @property
    def file_types(self) -> tuple[str, ...]:
        return tuple(a.file_type for a in sorted(self.alternatives, key=lambda a: a.order))


class TaskOutput(_Model):
    destination: str
    mandatory: bool
    file_type: str
    file_name_type: FileNameType


class TaskBreakpoint(_Model):
    file_name: str
    file_name_type: FileNameType


class Task(_Model):
    """``Task``: one step of the processor."""

    name: str
    version: str
    critical: bool
    criticality_level: int
    file_name: str
    inputs: tuple[TaskInput, ...] = ()
    outputs: tuple[TaskOutput, ...] = ()
    breakpoints: tuple[TaskBreakpoint, ...] = ()
    number_of_cpus: int = 1
    xpath: str = ""

    @property
    def entry_point(self) -> tuple[str, str] | None:
        """``(module, function)`` for an in-process task, ``None`` for an executable."""
        m = _ENTRY_POINT.fullmatch(self.file_name)
        return (m["module"], m["function"]) if m else None


class Pool(_Model):
    detached: bool
    killing_signal: int
    tasks: tuple[Task, ...]


class TaskTable(_Model):
    """``Ipf_Task_Table``."""

    source: Path | None = None
    processor_name: str
    version: str
    test: bool
    min_disk_space_mb: float
    #: seconds; 0 means no limit
    max_time: float
    sensing_time_flag: bool = False
    cfg_files: tuple[tuple[str, str], ...] = ()
    dyn_params: tuple[DynProcParam, ...] = ()
    pools: tuple[Pool, ...]

    @property
    def tasks(self) -> list[Task]:
        return [t for pool in self.pools for t in pool.tasks]

    def task(self, name: str) -> Task | None:
        return next((t for t in self.tasks if t.name == name), None)

    def param(self, name: str) -> DynProcParam | None:
        return next((p for p in self.dyn_params if p.name == name), None)

    def executable(self, task: Task) -> Path:
        """The executable of a task that is not an in-process entry point.

        Environment variables in ``File_Name`` are expanded; a relative path is relative to the
        task table's directory. Raises :class:`~ipf.interface.errors.TaskTableError` when it cannot be run.
        """
        where = dict(source=self.source, element=f"{task.xpath}/File_Name")
        expanded = os.path.expandvars(task.file_name)
        if "$" in expanded:
            raise TaskTableError(f"File_Name {task.file_name!r} uses an environment "
                                 "variable that is not set", **where)
        path = Path(expanded)
        if not path.is_absolute() and self.source is not None:
            path = self.source.parent / path
        if not path.is_file() or not os.access(path, os.X_OK):
            raise TaskTableError(f"task {task.name}: {path} is not an executable "
                                 "file", **where)
        return path

    def check_entry_points(self, tasks: list[Task] | None = None) -> None:
        """Check that every task in ``tasks`` (default: all) can be started, without importing it."""
        for task in tasks if tasks is not None else self.tasks:
            ep = task.entry_point
            if ep is None:
                self.executable(task)
                continue
            where = dict(source=self.source, element=f"{task.xpath}/File_Name")
            try:
                spec = importlib.util.find_spec(ep[0])
            except (ImportError, ValueError):
                spec = None
            if spec is None:
                raise TaskTableError(f"task {task.name}: module {ep[0]!r} of entry "
                                     f"point {task.file_name!r} cannot be found", **where)
            if not _defines(spec, ep[1]):
                raise TaskTableError(f"task {task.name}: module {ep[0]!r} defines "
                                     f"no function {ep[1]!r}", **where)


def _defines(spec, name: str) -> bool:
    """Whether the module of ``spec`` defines ``name`` at top level, read from its source so the
    module (and what it imports, numba included) is not imported before its task runs."""
    origin = getattr(spec, "origin", None)
    if not origin or not origin.endswith(".py"):
        return True
    import ast

    tree = ast.parse(Path(origin).read_bytes(), origin)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == name:
                return True
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((a.asname or a.name.split(".")[0]) == name for a in node.names):
                return True
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
    return False


def read(path: os.PathLike | str) -> TaskTable:
    """Read and validate the task table at ``path``; raises :class:`~ipf.interface.errors.TaskTableError`."""
    path = Path(path)
    tree = xmlio.parse(path, error=TaskTableError, root="Ipf_Task_Table")
    xmlio.validate(tree, SCHEMA, source=path, error=TaskTableError)
    root = tree.getroot()
    t = xmlio.text

    def items(parent_tag: str, child: str, parent=root):
        parent_el = parent.find(parent_tag)
        return [] if parent_el is None else parent_el.findall(child)

    params = []
    for p in items("List_of_Dyn_ProcParam", "Dyn_ProcParam"):
        param = DynProcParam(name=t(p, "Param_Name"), type=t(p, "Param_Type"),
                             default=t(p, "Param_Default"))
        if param.default is not None:
            try:
                param.convert(param.default)
            except ValueError as exc:
                raise TaskTableError(f"Param_Default: {exc}", source=path,
                                     element=tree.getpath(p)) from None
        params.append(param)

    pools = []
    for pool in items("List_of_Pools", "Pool"):
        tasks = []
        for task in items("List_of_Tasks", "Task", pool):
            inputs = tuple(
                TaskInput(mode=t(i, "Mode"), mandatory=t(i, "Mandatory") == "Yes",
                          alternatives=tuple(
                              Alternative(order=int(t(a, "Order")), origin=t(a, "Origin"),
                                          retrieval_mode=t(a, "Retrieval_Mode"),
                                          t0=float(t(a, "T0")), t1=float(t(a, "T1")),
                                          file_type=t(a, "File_Type"),
                                          file_name_type=t(a, "File_Name_Type"))
                              for a in items("List_of_Alternatives", "Alternative", i)))
                for i in items("List_of_Inputs", "Input", task))
            outputs = tuple(
                TaskOutput(destination=t(o, "Destination"), mandatory=t(o, "Mandatory") == "Yes",
                           file_type=t(o, "Type"), file_name_type=t(o, "File_Name_Type"))
                for o in items("List_of_Outputs", "Output", task))
            breakpoints = tuple(
                TaskBreakpoint(file_name=t(b, "File_Name"), file_name_type=t(b, "File_Name_Type"))
                for b in items("List_of_Breakpoints", "Breakpoint", task))
            tasks.append(Task(name=t(task, "Name"), version=t(task, "Version"),
                              critical=as_bool(t(task, "Critical")),
                              criticality_level=int(t(task, "Criticality_Level")),
                              file_name=t(task, "File_Name"), inputs=inputs, outputs=outputs,
                              breakpoints=breakpoints,
                              number_of_cpus=int(t(task, "NumberOfCPUs", "1")),
                              xpath=tree.getpath(task)))
        pools.append(Pool(detached=as_bool(t(pool, "Detached")),
                          killing_signal=int(t(pool, "Killing_Signal")), tasks=tuple(tasks)))

    names = [task.name for pool in pools for task in pool.tasks]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise TaskTableError(f"task names must be unique; repeated: {', '.join(dupes)}",
                             source=path, element="/Ipf_Task_Table/List_of_Pools")

    mds = root.find("Min_Disk_Space")
    return TaskTable(
        source=path, processor_name=t(root, "Processor_Name"), version=t(root, "Version"),
        test=as_bool(t(root, "Test")),
        min_disk_space_mb=int(mds.text.strip()) * _UNITS_MB[mds.get("units", "MB")],
        max_time=float(t(root, "Max_Time")),
        sensing_time_flag=as_bool(t(root, "Sensing_Time_Flag", "false")),
        cfg_files=tuple((t(c, "Version"), t(c, "File_Name"))
                        for c in items("List_of_Cfg_Files", "Cfg_File")),
        dyn_params=tuple(params), pools=tuple(pools))


def search_dirs() -> list[Path]:
    """Directories searched for task tables: ``IPF_TASKTABLE_DIR`` (``os.pathsep``-separated), else
    the processors' own folders (:func:`default_dirs`)."""
    env = os.environ.get("IPF_TASKTABLE_DIR")
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p]
    return default_dirs()


def default_dirs() -> list[Path]:
    """The folders of the processors' own task tables (package data ``ipf/processors/<level>/``)."""
    root = Path(str(resources.files("ipf.processors")))
    return sorted(d for d in root.iterdir() if d.is_dir() and any(d.glob("TaskTable_*.xml")))


def find(processor_name: str, version: str, dirs: list[Path] | None = None,
         *, job_order: Path | None = None, warn=None) -> TaskTable:
    """The task table for ``processor_name`` and ``version``.

    ``TaskTable_<name>_<version>.xml`` is tried first, then every ``TaskTable*.xml`` is read and
    matched on its content, so renamed files are still found; an invalid one is reported through
    ``warn`` and in the error. Raises ``UNKNOWN_PROCESSOR``, or the table's own error when the
    table named for the processor is invalid.
    """
    dirs = search_dirs() if dirs is None else dirs
    for d in dirs:
        direct = d / f"TaskTable_{processor_name}_{version}.xml"
        if direct.is_file():
            table = read(direct)
            if (table.processor_name, table.version) == (processor_name, version):
                return table
    known, invalid = [], []
    for d in dirs:
        for candidate in sorted(d.glob("TaskTable*.xml")):
            try:
                table = read(candidate)
            except IpfError as exc:
                invalid.append(str(exc))
                if warn is not None:
                    warn(f"skipped invalid task table {exc}")
                continue
            if (table.processor_name, table.version) == (processor_name, version):
                return table
            known.append(f"{table.processor_name} {table.version}")
    skipped = f"; invalid: {' | '.join(invalid)}" if invalid else ""
    raise UnknownProcessorError(
        f"no task table for processor {processor_name!r} version {version!r} in "
        f"{', '.join(map(str, dirs))} (known: {', '.join(known) or 'none'}{skipped})",
        source=job_order, element="/Ipf_Job_Order/Ipf_Conf/Processor_Name")


def typed_parameters(table: TaskTable, job: JobOrder) -> tuple[dict[str, Any], list[str]]:
    """Dynamic parameters: task-table defaults overridden by the Job Order, typed.

    Returns the parameters and the names given in the Job Order that the table does not declare
    (kept as strings). A value of the wrong type raises ``JOB_ORDER_READ_ERROR``.
    """
    values: dict[str, Any] = {}
    for p in table.dyn_params:
        if p.default is not None:
            values[p.name] = p.convert(p.default)
    unknown = []
    for name, raw in job.dynamic_parameters.items():
        param = table.param(name)
        if param is None:
            unknown.append(name)
            values[name] = raw.strip()
            continue
        try:
            values[name] = param.convert(raw)
        except ValueError as exc:
            raise JobOrderError(f"dynamic processing parameter {name}: "
                                f"{exc} (task table declares {param.type.value})", source=job.source,
                                element=job.parameter_xpath(name)) from None
    return values, unknown

