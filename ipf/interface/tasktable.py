"""Task tables: the ops-editable XML that says which tasks a processor runs, in which order.

The format is the ESA IPF task table of the Sentinel-1/2/3 processors (``ipf/schemas/TaskTable.xsd``
describes it with the spellings the real tables use). A task table is chosen by the Job Order's
``Processor_Name`` and ``Version`` among the ``TaskTable_*.xml`` files of the task-table
directories: the processors' own (``ipf/processors/<level>/``), or the directory named by
``IPF_TASKTABLE_DIR``.

Semantics kept from the ESA format, on this single-core processor:

- pools run in table order, and the tasks of a pool one after the other, in table order;
- a task name may appear several times (instances of one task, as in the S1 AIOP and S2 L1B
  tables): the n-th occurrence in the table runs with the n-th ``Ipf_Proc`` of that name;
- a ``Detached`` pool would run beside the pools after it; here it runs in its place, after its
  predecessors and before its successors, and the executor logs a warning saying so;
- an ``Input`` is met by the first ``Alternative`` (lowest ``Order``) whose files the Job Order
  gives and that exist or are made by an earlier task, else by the first whose ``File_Type`` it
  gives (:func:`ipf.interface.plan.choose`; a task reads the chosen files with
  :meth:`ipf.interface.context.TaskContext.input_of`); an ``Input ref="id"`` is the
  ``Input id="id"`` defined earlier in the table;
- ``Mandatory`` is enforced for inputs of ``Mode`` ``ALWAYS`` and, when the Job Order gives an
  ``Order_Type`` (the processing mode: NRT, NTC, SLICING...), for inputs whose ``Mode`` is that
  order type (:meth:`TaskTable.for_order_type`); without ``Order_Type`` (the S2 Job Orders carry
  none) an input of another mode is not enforced;
- ``Retrieval_Mode`` with ``T0``/``T1`` (seconds): for ``ValIntersect``,
  ``ValIntersectWithoutDuplicates`` and ``LatestValIntersect`` a given file whose validity does not
  intersect ``[start - T0, stop + T1]`` of the Job Order's sensing time is reported; for
  ``LatestValCover`` one whose validity does not cover it. The validity is read from the file name
  (``_V<start>_<stop>``, the ESA convention for auxiliary files); files without one are not checked.
  The other modes (``LatestStopValidity``, ``ClosestStartValidity``, ``ClosestStopValidity``,
  ``Custom`` with its ``customClass``, an empty mode) choose among archive candidates: the
  orchestrator has applied them when it wrote the Job Order, so nothing is checked here.

A task's ``File_Name`` is either an executable run as ``<exe> <JobOrder.xml>`` (environment
variables are expanded; a relative path is relative to the task table's directory) or an
in-process entry point ``package.module:function`` called with a
:class:`ipf.interface.context.TaskContext`. The entry point lives in ``File_Name`` rather than in an
element or attribute of our own so that our tables stay valid against the ESA schemas and are read
by the tools that list a table's executables; a dotted module path followed by ``:function`` cannot
be mistaken for the executables of the real tables, which are absolute paths or ``$VAR`` paths.
"""

from __future__ import annotations

import importlib.util
import os
import re
from importlib import resources
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from lxml import etree
from pydantic import BaseModel, ConfigDict

from ipf.interface import xmlio
from ipf.interface.errors import IpfError, JobOrderError, TaskTableError, UnknownProcessorError
from ipf.interface.joborder import FileNameType, JobOrder, parse_time

SCHEMA = "TaskTable.xsd"

__all__ = ["SCHEMA", "ParamType", "DynProcParam", "Alternative", "TaskInput", "TaskOutput",
           "TaskBreakpoint", "TaskOption", "Task", "Pool", "TaskTable", "read", "search_dirs",
           "default_dirs", "find", "typed_parameters", "validity", "INTERSECT_MODES", "COVER_MODES"]
_ENTRY_POINT = re.compile(r"(?P<module>[A-Za-z_]\w*(\.[A-Za-z_]\w*)*):(?P<function>[A-Za-z_]\w*)")
_UNITS_MB = {"KB": 1 / 1024, "MB": 1.0, "GB": 1024.0}
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_VALIDITY = re.compile(r"_V(\d{8}T\d{6})_(\d{8}T\d{6})")
#: retrieval modes whose file must intersect ``[start - T0, stop + T1]``
INTERSECT_MODES = frozenset({"ValIntersect", "ValIntersectWithoutDuplicates", "LatestValIntersect"})
#: retrieval modes whose file must cover ``[start - T0, stop + T1]``
COVER_MODES = frozenset({"LatestValCover"})


class ParamType(str, Enum):
    STRING = "String"
    BOOLEAN = "Boolean"
    INTEGER = "Integer"
    NUMBER = "Number"
    DATETIME = "DateTime"

    @classmethod
    def _missing_(cls, value):
        spelled = {"string": cls.STRING, "boolean": cls.BOOLEAN, "integer": cls.INTEGER,
                   "number": cls.NUMBER, "datetime": cls.DATETIME, "datenumber": cls.DATETIME}
        return spelled.get(str(value).lower())


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
            flag = xmlio.parse_bool(value)
            if flag is None:
                raise ValueError(f"{value!r} is not a Boolean (true/false)")
            return flag
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
    """``Alternative`` of an input; ``t0``/``t1`` in seconds, ``None`` when the table leaves them empty."""

    order: int
    origin: str
    retrieval_mode: str
    t0: float | None = None
    t1: float | None = None
    custom_class: str | None = None
    min_results: int | None = None
    max_results: int | None = None
    file_type: str
    file_name_type: FileNameType


class TaskInput(_Model):
    """``Input`` of a task: one of the alternatives' file types, possibly mandatory."""

    mode: str
    mandatory: bool
    alternatives: tuple[Alternative, ...]
    id: str | None = None
    #: the run's processing mode (the Job Order's ``Order_Type``), set by
    #: :meth:`TaskTable.for_order_type`; ``None`` when the Job Order gives none
    order_type: str | None = None

    @property
    def file_types(self) -> tuple[str, ...]:
        """The alternatives' file types, in ``Order``."""
        return tuple(a.file_type for a in self.ordered)

    @property
    def ordered(self) -> tuple[Alternative, ...]:
        return tuple(sorted(self.alternatives, key=lambda a: a.order))

    @property
    def required(self) -> bool:
        """Mandatory in this run: ``Mode`` ALWAYS, or the run's order type (case-insensitive)."""
        if not self.mandatory:
            return False
        mode = self.mode.strip().upper()
        return mode == "ALWAYS" or (self.order_type is not None
                                    and mode == self.order_type.strip().upper())

    def choose(self, given: set[str] | frozenset[str]) -> Alternative | None:
        """The first alternative, in ``Order``, whose file type is in ``given``."""
        return next((a for a in self.ordered if a.file_type in given), None)


class TaskOutput(_Model):
    destination: str
    mandatory: bool
    file_type: str
    file_name_type: FileNameType


class TaskBreakpoint(_Model):
    file_name: str
    file_name_type: FileNameType


class TaskOption(_Model):
    """``Option`` of a task: a named value passed on to it."""

    name: str
    type: str
    value: str


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
    options: tuple[TaskOption, ...] = ()
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
    #: ``(Version, File_Name)``; the version is "" when the table gives none
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

    def for_order_type(self, order_type: str | None) -> TaskTable:
        """This table for a run of processing mode ``order_type`` (the Job Order's
        ``Order_Type``): its inputs of that ``Mode`` become enforced when ``Mandatory``."""
        def task(t: Task) -> Task:
            return t.model_copy(update={"inputs": tuple(
                i.model_copy(update={"order_type": order_type}) for i in t.inputs)})

        return self.model_copy(update={"pools": tuple(
            p.model_copy(update={"tasks": tuple(task(t) for t in p.tasks)}) for p in self.pools)})

    def executable(self, task: Task) -> Path:
        """The executable of a task that is not an in-process entry point.

        Environment variables in ``File_Name`` are expanded; a relative path is relative to the
        task table's directory. Raises :class:`~ipf.interface.errors.TaskTableError` when it cannot be run.
        """
        path, problem = self._executable(task)
        if problem:
            raise TaskTableError(problem, source=self.source, element=f"{task.xpath}/File_Name")
        return path

    def _executable(self, task: Task) -> tuple[Path | None, str | None]:
        expanded = os.path.expandvars(task.file_name)
        if "$" in expanded:
            return None, (f"task {task.name}: File_Name {task.file_name!r} uses an environment "
                          "variable that is not set")
        path = Path(expanded)
        if not path.is_absolute() and self.source is not None:
            path = self.source.parent / path
        try:
            runnable = path.is_file() and os.access(path, os.X_OK)
        except OSError as exc:
            return None, f"task {task.name}: {task.file_name!r}: {exc.strerror or exc}"
        if not runnable:
            relative = "" if Path(expanded).is_absolute() else " (relative to the task table)"
            return None, f"task {task.name}: {path}{relative} is not an executable file"
        return path, None

    def check_entry_points(self, tasks: list[Task] | None = None, *, warn=None) -> None:
        """Check that every task in ``tasks`` (default: all) can be started, without importing it.

        An executable that cannot be run here (unset ``$VAR``, not installed, relative path not
        found) raises, or with ``warn`` is passed to it: a table written for another machine is
        still a valid table. An entry point that cannot be found always raises.
        """
        for task in tasks if tasks is not None else self.tasks:
            ep = task.entry_point
            if ep is None:
                if warn is None:
                    self.executable(task)
                else:
                    problem = self._executable(task)[1]
                    if problem:
                        warn(problem)
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
    return _Reader(path, tree).table()


class _Reader:
    """Builds a :class:`TaskTable` from a task table the schema has accepted; an error names the
    element at fault."""

    def __init__(self, path: Path, tree: etree._ElementTree):
        self.path, self.tree, self.root = path, tree, tree.getroot()
        #: ``Input id=`` defined so far, for the ``Input ref=`` after them
        self.defined: dict[str, TaskInput] = {}

    def fail(self, message: str, element) -> TaskTableError:
        return TaskTableError(message, source=self.path, element=element
                              if isinstance(element, str) else self.tree.getpath(element))

    def one_of(self, *tags: str):
        """The root's child spelled one of ``tags``, ``None`` when absent; given twice is an error."""
        found = [el for tag in tags for el in self.root.findall(tag)]
        if len(found) > 1:
            raise self.fail(f"{' or '.join(tags)} given {len(found)} times", found[1])
        return found[0] if found else None

    @staticmethod
    def items(parent, parent_tag, *children: str) -> list:
        """The ``children`` of ``parent``'s child ``parent_tag`` (or of the element ``parent_tag``)."""
        parent_el = parent.find(parent_tag) if isinstance(parent_tag, str) else parent_tag
        return [] if parent_el is None else [c for c in parent_el if c.tag in children]

    def table(self) -> TaskTable:
        root, t = self.root, xmlio.text
        flag = self.one_of("Sensing_Time_Flag", "Sensing_Time_flag")
        cfg = self.one_of("List_of_Cfg_Files")
        mds = root.find("Min_Disk_Space")
        params = self.items(root, self.one_of("List_of_Dyn_ProcParam", "List_of_Dyn_ProcParams"),
                            "Dyn_ProcParam")
        return TaskTable(
            source=self.path, processor_name=t(root, "Processor_Name"), version=t(root, "Version"),
            test=xmlio.as_bool(t(root, "Test")),
            min_disk_space_mb=int(mds.text.strip()) * _UNITS_MB[mds.get("units", "MB")],
            max_time=float(t(root, "Max_Time")),
            sensing_time_flag=flag is not None and xmlio.as_bool(flag.text),
            cfg_files=tuple((t(c, "Version") or "", t(c, "File_Name"))
                            for c in self.items(root, cfg, "Cfg_File", "Cfg_Files")),
            dyn_params=tuple(self.param(p) for p in params),
            pools=tuple(self.pool(p) for p in self.items(root, "List_of_Pools", "Pool")))

    def param(self, p) -> DynProcParam:
        t = xmlio.text
        param_type = ParamType(t(p, "Param_Type"))
        default = t(p, "Param_Default")
        if default is not None and not default.strip() and param_type is not ParamType.STRING:
            default = None
        param = DynProcParam(name=t(p, "Param_Name"), type=param_type, default=default)
        if param.default is not None:
            try:
                param.convert(param.default)
            except ValueError as exc:
                raise self.fail(f"Param_Default: {exc}", p) from None
        return param

    def pool(self, pool) -> Pool:
        t = xmlio.text
        return Pool(detached=xmlio.as_bool(t(pool, "Detached")),
                    killing_signal=int(t(pool, "Killing_Signal")),
                    tasks=tuple(self.task(task)
                                for task in self.items(pool, "List_of_Tasks", "Task")))

    def task(self, task) -> Task:
        t, items = xmlio.text, self.items
        inputs = tuple(self.task_input(i) for i in items(task, "List_of_Inputs", "Input"))
        outputs = tuple(
            TaskOutput(destination=t(o, "Destination"), mandatory=xmlio.as_bool(t(o, "Mandatory")),
                       file_type=t(o, "Type") or t(o, "File_Type"),
                       file_name_type=t(o, "File_Name_Type"))
            for o in items(task, "List_of_Outputs", "Output"))
        breakpoints = tuple(
            TaskBreakpoint(file_name=t(b, "File_Name"), file_name_type=t(b, "File_Name_Type"))
            for b in items(task, "List_of_Breakpoints", "Breakpoint"))
        options = tuple(
            TaskOption(name=t(o, "Name"), type=t(o, "Type"), value=(t(o, "Value") or "").strip())
            for o in items(task, "List_of_Options", "Option"))
        return Task(name=t(task, "Name"), version=t(task, "Version"),
                    critical=xmlio.as_bool(t(task, "Critical")),
                    criticality_level=int(t(task, "Criticality_Level")),
                    file_name=t(task, "File_Name"), inputs=inputs, outputs=outputs,
                    breakpoints=breakpoints, options=options,
                    number_of_cpus=int(t(task, "Number_of_CPUs") or t(task, "NumberOfCPUs", "1")),
                    xpath=self.tree.getpath(task))

    def task_input(self, i) -> TaskInput:
        t = xmlio.text
        ref, ident = i.get("ref"), i.get("id")
        if ref is not None:
            if len(i) or ident is not None:
                raise self.fail(f"Input ref={ref!r} must be empty and carry no id", i)
            if ref not in self.defined:
                raise self.fail(f"Input ref={ref!r} names no Input id defined before it", i)
            return self.defined[ref]
        if i.find("Mode") is None:
            raise self.fail("Input has neither Mode, Mandatory, List_of_Alternatives nor ref", i)
        made = TaskInput(mode=t(i, "Mode"), mandatory=xmlio.as_bool(t(i, "Mandatory")), id=ident,
                         alternatives=tuple(map(_alternative, self.items(
                             i, "List_of_Alternatives", "Alternative"))))
        if ident is not None:
            if ident in self.defined:
                raise self.fail(f"Input id={ident!r} is defined twice", i)
            self.defined[ident] = made
        return made


def _alternative(a) -> Alternative:
    t = xmlio.text
    return Alternative(order=int(t(a, "Order")), origin=t(a, "Origin"),
                       retrieval_mode=t(a, "Retrieval_Mode") or "",
                       t0=_optional(float, t(a, "T0")), t1=_optional(float, t(a, "T1")),
                       custom_class=t(a, "customClass"),
                       min_results=_optional(int, t(a, "minResults")),
                       max_results=_optional(int, t(a, "maxResults")),
                       file_type=t(a, "File_Type"), file_name_type=t(a, "File_Name_Type"))


def _optional(kind, value: str | None):
    """``kind(value)``, ``None`` for an absent or empty value."""
    return kind(value) if value else None


def validity(path: os.PathLike | str) -> tuple[datetime, datetime] | None:
    """The validity ``(start, stop)`` written in an ESA file name (``..._V<start>_<stop>...``, UTC),
    ``None`` when the name gives none."""
    m = _VALIDITY.search(Path(path).name)
    if m is None:
        return None
    try:
        return tuple(datetime.strptime(v, "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)
                     for v in m.groups())
    except ValueError:
        return None


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
    name = f"TaskTable_{processor_name}_{version}.xml"
    if "/" not in name and os.sep not in name and len(name.encode()) <= 255:
        for d in dirs:
            try:
                direct = (d / name).is_file()
            except OSError:
                direct = False
            if direct:
                table = read(d / name)
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

