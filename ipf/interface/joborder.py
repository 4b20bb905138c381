"""The Job Order: read once into typed models, written back for external tasks and the simulator.

Reading is liberal: the Job Orders of the production systems (S2 PDGS orchestrators and COPRS,
prosEO, the Sentinel-1 and -3 COPRS preparation workers) differ in element order, optional
elements, spelling (``BreakPoint``/``Breakpoint``, ``PHYSICAL``/``Physical``), time format,
encoding and extra elements. Every element the run uses is checked and typed here (a
:class:`~ipf.interface.errors.JobOrderError` names the file and the element); elements and
attributes ``ipf`` does not use are kept out of the model and reported in
:attr:`JobOrder.warnings`. Whether the processor and its tasks exist is decided later, by the task
table lookup (exit code 140).

Writing is strict, in one of two dialects, each with its XSD in ``ipf/schemas/``:

* ``MMFI_1_8``: the S2 IPF Job Order (Generic IPF Interface Specification issue 1.8, as the S2
  PDGS orchestrators write it: ``Config_Files/Conf_File_Name``,
  ``Dynamic_Processing_Parameters/Processing_Parameter``, ``Breakpoint``);
* ``GMES_1_1``: as prosEO writes it (``List_of_Config_Files/Config_File``,
  ``List_of_Dyn_Processing_Parameters/Dyn_Processing_Parameter``).

Nothing else in the code reads Job Order XML: tasks get a :class:`JobOrder`. File names are used
as given when absolute (as the generic interface requires); a relative one is taken relative to
the Job Order's directory, so sample Job Orders run where they are copied.
"""

from __future__ import annotations

import os
import re
from re import _constants, _parser
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ipf.interface import xmlio
from ipf.interface.errors import JobOrderError
from ipf.interface.exitcodes import ExitCode

Dialect = Literal["MMFI_1_8", "GMES_1_1"]

__all__ = ["Dialect", "SCHEMAS", "LogLevel", "FileNameType", "JobInput", "TimeInterval", "JobOutput",
           "BreakpointFile", "IpfProc", "SensingTime", "JobOrder", "OPEN_START", "OPEN_STOP",
           "parse_time", "format_time", "unsafe_pattern", "is_placeholder",
           "detect_dialect", "read", "check_outputs", "to_xml", "write"]

SCHEMAS: dict[str, str] = {"MMFI_1_8": "JobOrder_MMFI_1_8.xsd", "GMES_1_1": "JobOrder_GMES_1_1.xsd"}


class LogLevel(str, Enum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    PROGRESS = "PROGRESS"
    WARNING = "WARNING"
    ERROR = "ERROR"

    @property
    def rank(self) -> int:
        return list(LogLevel).index(self)


class FileNameType(str, Enum):
    """How a ``File_Name`` designates its files.

    ``Physical``: the file itself; ``Directory``: a folder (a SAFE-like product, or a folder of
    files); ``Logical``: a name the task resolves (e.g. a configuration key); ``Stem``: a name
    prefix to which the task adds extensions; ``Regexp``: a pattern the files match; ``Prefix``
    (S2 IPF schema): a leading part of the names. Read case-insensitively; ``File`` (COPRS S2
    templates) is ``Physical``.
    """

    PHYSICAL = "Physical"
    DIRECTORY = "Directory"
    LOGICAL = "Logical"
    STEM = "Stem"
    REGEXP = "Regexp"
    PREFIX = "Prefix"

    @classmethod
    def _missing_(cls, value):
        if isinstance(value, str):
            key = value.strip().lower()
            if key == "file":
                return cls.PHYSICAL
            return next((m for m in cls if m.value.lower() == key), None)
        return None


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TimeInterval(_Model):
    """``Time_Interval``: which of an input's files covers ``start`` to ``stop`` (UTC; naive
    times are taken as UTC)."""

    start: datetime
    stop: datetime
    file_name: Path

    _as_utc = field_validator("start", "stop")(lambda v: _utc(v))


class JobInput(_Model):
    """``Input``: the files of one file type given to a task (directories when ``file_name_type``
    is ``Directory``).

    A ``Regexp`` ``File_Name`` is matched (``re.fullmatch``) against the names in its folder,
    each at most 255 bytes. Patterns whose matching can backtrack exponentially, a repeated group
    holding a variable quantifier or an alternation (``(a+)+``, ``(a*)*``, ``(a|a)*``,
    ``(\\d+_)*``), are refused when the Job Order is read (:func:`unsafe_pattern`; a
    :class:`~ipf.interface.errors.JobOrderError` naming the ``File_Name``) and designate no file
    here: the planning that expands them runs before ``Max_Time`` is armed and a regular
    expression cannot be interrupted.
    """

    file_type: str
    file_name_type: FileNameType
    file_names: tuple[Path, ...] = ()
    time_intervals: tuple[TimeInterval, ...] = ()
    #: XPath of the element in the Job Order, for error messages
    xpath: str = ""

    def designated(self, name: Path) -> list[Path] | None:
        """The existing files one ``File_Name`` of this input designates, sorted: the file or
        directory itself (``Physical``, ``Directory``), the files ``<name>`` and ``<name>.<ext>``
        (``Stem``), the files whose name starts with it (``Prefix``) or matches it as a regular
        expression (``Regexp``, in its folder); ``None`` for a ``Logical`` name, which no file
        on disk stands for."""
        kind = self.file_name_type
        if kind is FileNameType.LOGICAL:
            return None
        if kind in (FileNameType.PHYSICAL, FileNameType.DIRECTORY):
            return [name] if name.exists() else []
        folder = name.parent
        if not folder.is_dir():
            return []
        match = _name_matcher(kind, name.name)
        return sorted(folder / n for n in os.listdir(folder) if match(n))

    def files(self) -> list[Path]:
        """The files a task reads: each ``File_Name`` replaced by the existing files it designates
        (:meth:`designated`), kept as given when it designates none or is ``Logical``."""
        out: list[Path] = []
        for name in self.file_names:
            found = self.designated(name)
            out.extend(found if found else [name])
        return out


def _name_matcher(kind: FileNameType, given: str):
    """Whether a file name in the folder of a ``Stem``, ``Prefix`` or ``Regexp`` ``File_Name``
    is one it designates (an invalid regular expression designates none)."""
    if kind is FileNameType.STEM:
        return lambda n: n == given or n.startswith(given + ".")
    if kind is FileNameType.PREFIX:
        return lambda n: n.startswith(given)
    try:
        pattern = re.compile(given)
    except re.error:
        return lambda n: False
    if unsafe_pattern(given) is not None:
        return lambda n: False
    return lambda n: pattern.fullmatch(n) is not None


_REPEATS = {_constants.MAX_REPEAT, _constants.MIN_REPEAT,
            getattr(_constants, "POSSESSIVE_REPEAT", _constants.MAX_REPEAT)}


def unsafe_pattern(pattern: str) -> str | None:
    """Why matching the regular expression ``pattern`` could backtrack exponentially, or
    ``None``: a group repeated more than once (``*``, ``+``, ``{2,}``, ``{n}``) that holds a
    variable quantifier or an alternation (nested quantifiers, as in ``(a+)+`` or ``(a|a)*``).
    An invalid pattern is not unsafe (it designates no file)."""
    try:
        tree = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None
    for op, av in _nodes(tree):
        if op in _REPEATS and av[1] > 1:
            for inner, inner_av in _nodes(av[2]):
                if inner is _constants.BRANCH or (inner in _REPEATS and inner_av[1] > inner_av[0]):
                    return ("a repeated group holds a quantifier or an alternation (nested "
                            "quantifiers): matching could backtrack without end")
    return None


def _nodes(tree):
    """Every ``(op, argument)`` of a parsed regular expression, depth first."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, _parser.SubPattern):
            for op, av in item:
                yield op, av
                stack.append(av)
        elif isinstance(item, (tuple, list)):
            stack.extend(item)


class JobOutput(_Model):
    """``Output``: where a task must leave the product of one file type."""

    file_type: str
    file_name_type: FileNameType
    file_name: Path
    mandatory: bool = True
    xpath: str = ""


class BreakpointFile(_Model):
    """``Brk_File``: where a task writes one breakpoint (intermediate) file when enabled.

    A ``Brk_File`` listing several ``File_Type`` (the S2 IPF schema allows it) is read as one
    :class:`BreakpointFile` per type, with the same file name. ``Breakpoint/Enable`` is not
    read (a warning): ``Ipf_Conf/Breakpoint_Enable`` and each ``Brk_File/Enable`` decide.
    """

    enable: bool
    file_type: str
    file_name_type: FileNameType
    file_name: Path


class IpfProc(_Model):
    """``Ipf_Proc``: one task to run, with its inputs and outputs (a Job Order lists one
    ``Ipf_Proc`` per task of the task table it runs, in order)."""

    task_name: str
    task_version: str
    breakpoints: tuple[BreakpointFile, ...] = ()
    inputs: tuple[JobInput, ...] = ()
    outputs: tuple[JobOutput, ...] = ()
    xpath: str = ""

    def input_files(self, file_type: str) -> list[Path]:
        """Every file given for ``file_type`` (:meth:`JobInput.files`: a ``Stem``, ``Prefix`` or
        ``Regexp`` name expanded to the files it designates); empty when the type is not given."""
        return [f for i in self.inputs if i.file_type == file_type for f in i.files()]

    def output(self, file_type: str) -> JobOutput | None:
        return next((o for o in self.outputs if o.file_type == file_type), None)


class SensingTime(_Model):
    """``Sensing_Time`` (UTC; naive times are taken as UTC)."""

    start: datetime
    stop: datetime

    _as_utc = field_validator("start", "stop")(lambda v: _utc(v))


class JobOrder(_Model):
    """``Ipf_Job_Order``, with every value stripped of surrounding whitespace and typed."""

    source: Path | None = None
    dialect: Dialect = "MMFI_1_8"
    processor_name: str
    version: str
    stdout_log_level: LogLevel = LogLevel.INFO
    stderr_log_level: LogLevel = LogLevel.WARNING
    test: bool = False
    breakpoint_enable: bool = False
    acquisition_station: str | None = None
    processing_station: str = ""
    #: ``Order_Type`` (S1/S3 and prosEO: e.g. ``NRT``, ``OFFL``), not used by the S2 IPF
    order_type: str | None = None
    config_files: tuple[Path, ...] = ()
    sensing_time: SensingTime | None = None
    #: Dynamic processing parameters in Job Order order, values as written (typed by the task table)
    dynamic_parameters: dict[str, str] = Field(default_factory=dict)
    procs: tuple[IpfProc, ...]
    #: ``count`` attributes that disagree with what they count (reported as XML warnings)
    count_mismatches: tuple[str, ...] = ()
    #: everything the reader accepted but does not use or had to interpret (unknown elements and
    #: attributes, empty file names, time placeholders...), count mismatches included
    warnings: tuple[str, ...] = ()
    #: where each dynamic parameter's ``Value`` stands in the Job Order read
    parameter_xpaths: dict[str, str] = Field(default_factory=dict, exclude=True)

    def proc(self, task_name: str) -> IpfProc | None:
        return next((p for p in self.procs if p.task_name == task_name), None)

    def parameter_xpath(self, name: str) -> str:
        """Where the dynamic parameter ``name`` stands in the Job Order."""
        if name in self.parameter_xpaths:
            return self.parameter_xpaths[name]
        if self.dialect == "GMES_1_1":
            base = "/Ipf_Job_Order/Ipf_Conf/List_of_Dyn_Processing_Parameters/Dyn_Processing_Parameter"
        else:
            base = "/Ipf_Job_Order/Ipf_Conf/Dynamic_Processing_Parameters/Processing_Parameter"
        index = list(self.dynamic_parameters).index(name) + 1
        return f"{base}[{index}]/Value"


#: the open-ended times of the generic interface: ``00000000_000000000000``,
#: ``99999999_999999999999``
OPEN_START = datetime.min.replace(tzinfo=timezone.utc)
OPEN_STOP = datetime.max.replace(tzinfo=timezone.utc)
_PLACEHOLDER = re.compile(r"\*+[^*]*\*+|@[^@]*@|\$\{[^}]*\}|\{\{[^}]*\}\}|%[^%]+%")


def is_placeholder(text: str) -> bool:
    """Whether ``text`` holds a Job Order template placeholder (``***DS_ANC_DATA***``, ``@x@``,
    ``${x}``, ``{{x}}``, ``%x%``) that the orchestrator should have replaced."""
    return _PLACEHOLDER.search(text) is not None


def parse_time(value: str) -> datetime:
    """A Job Order time as aware UTC.

    Accepted: ISO 8601 (``2020-01-01T00:00:00Z``, with or without fraction, zone or a ``UTC=``
    prefix; no zone is UTC), the compact ``YYYYMMDD_hhmmss[ffffff]`` of the generic interface, in
    which ``00000000_000000000000`` and ``99999999_999999999999`` stand for the beginning and the
    end of time (:data:`OPEN_START`, :data:`OPEN_STOP`), and ``YYYYMMDDThhmmss`` (S2 parameter
    values such as ``DownlinkTime``). Fractions beyond microseconds are truncated. Raises
    ``ValueError`` naming the field out of range, or the forms accepted.
    """
    value = value.strip()
    if value.upper().startswith("UTC="):
        value = value[4:]
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})([_T])(\d{2})(\d{2})(\d{2})(\d*)", value)
    if m and (m.group(4) == "_" or not m.group(8)):
        digits = set("".join(m.groups()[:3] + m.groups()[4:]))
        if m.group(4) == "_" and digits == {"0"}:
            return OPEN_START
        if m.group(4) == "_" and digits == {"9"}:
            return OPEN_STOP
        micro = int(m.group(8)[:6].ljust(6, "0")) if m.group(8) else 0
        year, month, day, hour, minute, second = (int(m.group(n)) for n in (1, 2, 3, 5, 6, 7))
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=timezone.utc)
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?",
                     value)
    if not m:
        raise ValueError("expected YYYY-MM-DDThh:mm:ss[.ffffff][Z], YYYYMMDD_hhmmss[ffffff] or "
                         "YYYYMMDDThhmmss")
    zone = m.group(3) or ""
    dt = datetime.fromisoformat(m.group(1) + (m.group(2) or "")[:7] + zone.replace("Z", "+00:00"))
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def format_time(value: datetime) -> str:
    """``value`` as the generic interface writes times, ``YYYYMMDD_hhmmssffffff`` (UTC; a naive
    ``value`` is taken as UTC)."""
    value = _utc(value)
    if value == OPEN_START:
        return "00000000_000000000000"
    if value == OPEN_STOP:
        return "99999999_999999999999"
    return (f"{value.year:04d}{value.month:02d}{value.day:02d}_{value.hour:02d}{value.minute:02d}"
            f"{value.second:02d}{value.microsecond:06d}")


def _utc(value: datetime) -> datetime:
    """``value`` in UTC, a naive one being taken as UTC (never as local time)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def detect_dialect(root: etree._Element) -> Dialect:
    conf = root.find("Ipf_Conf")
    if conf is not None and (conf.find("List_of_Config_Files") is not None
                             or conf.find("List_of_Dyn_Processing_Parameters") is not None):
        return "GMES_1_1"
    return "MMFI_1_8"


_PARAMETER_LISTS = ("Dynamic_Processing_Parameters", "List_of_Dyn_Processing_Parameters",
                    "List_of_Dynamic_Processing_Parameters")
_PARAMETERS = {"Processing_Parameter", "Dyn_Processing_Parameter"}
_CONFIG_LISTS = ("Config_Files", "List_of_Config_Files")
_CONFIG_FILES = {"Conf_File_Name", "Config_File"}
_BREAKPOINTS = ("Breakpoint", "BreakPoint")

#: the children ``ipf`` knows of each element it reads (others are reported as warnings)
_KNOWN: dict[str, set[str]] = {
    "Ipf_Job_Order": {"Ipf_Conf", "List_of_Ipf_Procs"},
    "Ipf_Conf": {"Processor_Name", "Version", "Stdout_Log_Level", "Stderr_Log_Level", "Test",
                 "Breakpoint_Enable", "Acquisition_Station", "Processing_Station", "Order_Type",
                 "Sensing_Time", *_CONFIG_LISTS, *_PARAMETER_LISTS},
    **{name: _CONFIG_FILES for name in _CONFIG_LISTS},
    **{name: _PARAMETERS for name in _PARAMETER_LISTS},
    **{name: {"Name", "Value"} for name in _PARAMETERS},
    "Sensing_Time": {"Start", "Stop"},
    "List_of_Ipf_Procs": {"Ipf_Proc"},
    "Ipf_Proc": {"Task_Name", "Task_Version", *_BREAKPOINTS, "List_of_Inputs", "List_of_Outputs"},
    **{name: {"List_of_Brk_Files"} for name in _BREAKPOINTS},
    "List_of_Brk_Files": {"Brk_File"},
    "Brk_File": {"Enable", "File_Type", "File_Name_Type", "File_Name"},
    "List_of_Inputs": {"Input"},
    "Input": {"File_Type", "File_Name_Type", "List_of_File_Names", "List_of_Time_Intervals"},
    "List_of_File_Names": {"File_Name"},
    "List_of_Time_Intervals": {"Time_Interval"},
    "Time_Interval": {"Start", "Stop", "File_Name"},
    "List_of_Outputs": {"Output"},
    "Output": {"File_Type", "File_Name_Type", "File_Name", "List_of_File_Names"},
}
#: attributes ``ipf`` reads, by element
_ATTRIBUTES: dict[str, set[str]] = {"Output": {"mandatory"}}


def read(path: os.PathLike | str) -> JobOrder:
    """Read, check and type the Job Order at ``path``.

    Raises :class:`~ipf.interface.errors.JobOrderError` naming the file and element for what the
    run cannot do without (malformed or unsafe XML, a missing or invalid processor name, version,
    log level, task name, file type, file name, time or parameter); anything else unexpected is
    returned in :attr:`JobOrder.warnings`.
    """
    path = Path(path)
    tree = xmlio.parse(path, error=JobOrderError, root="Ipf_Job_Order")
    _local_names(tree.getroot())
    return _Reader(tree, path).job()


def check_outputs(job: JobOrder) -> None:
    """Raise :class:`~ipf.interface.errors.JobOrderError` when a task of ``job`` lists two
    ``Output`` of one file type: ``ipf`` stages outputs by file type (prosEO Job Orders may list
    several, one per product, for processors that take them)."""
    for proc in job.procs:
        types = [o.file_type for o in proc.outputs]
        for n, o in enumerate(proc.outputs):
            if o.file_type in types[:n]:
                raise JobOrderError(f"task {proc.task_name} has {types.count(o.file_type)} Outputs "
                                    f"of type {o.file_type}; one is allowed", source=job.source,
                                    element=o.xpath)


def _local_names(root: etree._Element) -> None:
    """Drop namespaces (a Job Order in the S2 IPF schema's namespace reads as one without) and
    XML Schema instance attributes (``xsi:type`` as COPRS writes, ``xsi:schemaLocation``)."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        el.tag = etree.QName(el).localname
        for name in [a for a in el.attrib if a.startswith("{")]:
            del el.attrib[name]
    etree.cleanup_namespaces(root)


#: the longest file name component and path (with its final NUL) of Linux file systems, in bytes
_NAME_MAX, _PATH_MAX = 255, 4096


def _shortened(text: str, keep: int = 60) -> str:
    """``text`` cut to ``keep`` characters for a message."""
    return text if len(text) <= keep else f"{text[:keep]}..."


class _Reader:
    """One pass over a parsed Job Order: typed values, errors naming the element, warnings."""

    def __init__(self, tree: etree._ElementTree, path: Path):
        self.tree, self.path = tree, path
        self.base = path.resolve().parent
        self.warnings: dict[str, list[str]] = {}
        self.mismatches: list[str] = []

    def error(self, message: str, elem: etree._Element | None) -> JobOrderError:
        return JobOrderError(message, source=self.path,
                             element=self.tree.getpath(elem) if elem is not None else None)

    def warn(self, key: str, message: str) -> None:
        self.warnings.setdefault(key, []).append(message)

    def _where(self, elem: etree._Element) -> str:
        return re.sub(r"\[\d+\]", "", self.tree.getpath(elem))

    def check_known(self, elem: etree._Element) -> None:
        for name in elem.attrib:
            if name != "count" and name not in _ATTRIBUTES.get(elem.tag, ()):
                key = f"{self._where(elem)}/@{name}"
                self.warn(key, f"{key} is not used by ipf: ignored")
        known = _KNOWN.get(elem.tag)
        for child in elem:
            if not isinstance(child.tag, str):
                continue
            if known is None or child.tag not in known:
                key = self._where(child)
                self.warn(key, f"{key} is not an element ipf reads: ignored")
            else:
                self.check_known(child)

    def one(self, parent: etree._Element, tag: str) -> etree._Element | None:
        found = parent.findall(tag)
        if len(found) > 1:
            raise self.error(f"<{tag}> is given {len(found)} times; one is allowed", found[1])
        return found[0] if found else None

    def value(self, parent: etree._Element, tag: str, *, required: bool = True,
              default: str | None = None) -> str | None:
        """The stripped text of ``parent``'s only ``tag`` child; an error when ``required`` and
        it is missing or empty."""
        elem = self.one(parent, tag)
        if elem is None or not (elem.text or "").strip():
            if required:
                what = "missing" if elem is None else "empty"
                raise self.error(f"<{tag}> is {what} in <{parent.tag}>; it is required",
                                 elem if elem is not None else parent)
            return default
        if len(elem):
            raise self.error(f"<{tag}> holds elements; a value is expected", elem)
        return elem.text.strip()

    def flag(self, parent: etree._Element, tag: str, default: bool) -> bool:
        text = self.value(parent, tag, required=False)
        if text is None:
            key = f"{self._where(parent)}/{tag}"
            self.warn(key, f"{key} is missing or empty: taken as {str(default).lower()}")
            return default
        value = xmlio.parse_bool(text)
        if value is not None:
            return value
        raise self.error(f"{text!r} is not a boolean (true/false, ON/OFF)", parent.find(tag))

    def log_level(self, conf: etree._Element, tag: str) -> LogLevel:
        text = self.value(conf, tag)
        try:
            return LogLevel(text.upper())
        except ValueError:
            raise self.error(f"{text!r} is not a log level ({', '.join(m.value for m in LogLevel)})",
                             conf.find(tag)) from None

    def name_type(self, parent: etree._Element) -> FileNameType:
        text = self.value(parent, "File_Name_Type", required=False)
        if text is None:
            key = f"{self._where(parent)}/File_Name_Type"
            self.warn(key, f"{key} is missing or empty: taken as Physical")
            return FileNameType.PHYSICAL
        try:
            return FileNameType(text)
        except ValueError:
            raise self.error(f"{text!r} is not a File_Name_Type "
                             f"({', '.join(m.value for m in FileNameType)})",
                             parent.find("File_Name_Type")) from None

    def time(self, parent: etree._Element, tag: str) -> datetime | None:
        """A time, or None (with a warning) when it is a template placeholder."""
        text = self.value(parent, tag)
        if _PLACEHOLDER.fullmatch(text):
            key = f"{self._where(parent)}/{tag}"
            self.warn(key, f"{key} is the placeholder {text!r}, not a time: ignored")
            return None
        try:
            return parse_time(text)
        except ValueError as exc:
            raise self.error(f"{text!r} is not a valid time: {exc}", parent.find(tag)) from None

    def counted(self, parent: etree._Element | None, *children: str) -> list[etree._Element]:
        if parent is None:
            return []
        items = [c for c in parent if c.tag in children]
        declared = parent.get("count")
        if declared is not None:
            try:
                agrees = int(declared.strip()) == len(items)
            except ValueError:
                agrees = False
            if not agrees:
                self.mismatches.append(f"{self.tree.getpath(parent)}/@count is {declared} but it "
                                       f"holds {len(items)} <{children[0]}>")
        return items

    def file_path(self, elem: etree._Element) -> Path | None:
        """A file name of the Job Order (relative ones are relative to the Job Order's directory);
        None, with a warning, when empty; an error when a component is longer than ``NAME_MAX``
        or the whole path than ``PATH_MAX`` (no file system could hold it)."""
        value = (elem.text or "").strip()
        if not value:
            key = self._where(elem)
            self.warn(key, f"{key} is empty: ignored")
            return None
        if _PLACEHOLDER.search(value) and not self._is_regexp(elem):
            key = self._where(elem)
            self.warn(key, f"{key} holds the template placeholder {_shortened(value)!r}: not a "
                      "real file name")
        path = self.base / value
        longest = max((len(os.fsencode(part)) for part in path.parts), default=0)
        if longest > _NAME_MAX:
            raise self.error(f"a component of file name {_shortened(value)!r} is {longest} bytes "
                             f"long: too long (at most {_NAME_MAX})", elem)
        size = len(os.fsencode(str(path)))
        if size >= _PATH_MAX:
            raise self.error(f"file name {_shortened(value)!r} is too long ({size} bytes as a "
                             f"path; under {_PATH_MAX})", elem)
        return path

    @staticmethod
    def _is_regexp(elem: etree._Element) -> bool:
        """Whether the ``File_Name`` ``elem`` is a regular expression (its ``Input``'s
        ``File_Name_Type`` is ``Regexp``): ``*`` there is no placeholder."""
        for owner in elem.iterancestors():
            kind = owner.findtext("File_Name_Type")
            if kind is not None:
                return kind.strip().lower() == "regexp"
        return False

    def only(self, parent: etree._Element, *tags: str) -> etree._Element | None:
        """The one child of ``parent`` among the synonyms ``tags``."""
        found = [c for c in parent if c.tag in tags]
        if len(found) > 1:
            raise self.error(f"<{found[1].tag}> is given twice; one is allowed", found[1])
        return found[0] if found else None

    def job(self) -> JobOrder:
        root = self.tree.getroot()
        self.check_known(root)
        conf = self.one(root, "Ipf_Conf")
        if conf is None:
            raise self.error("<Ipf_Conf> is missing in <Ipf_Job_Order>; it is required", root)
        processing_station = self.value(conf, "Processing_Station", required=False)
        if processing_station is None:
            self.warn("Processing_Station", f"{self.tree.getpath(conf)}/Processing_Station is "
                      "missing or empty: taken as ''")
        config_files = tuple(f for c in self.counted(self.only(conf, *_CONFIG_LISTS), *_CONFIG_FILES)
                             if (f := self.file_path(c)) is not None)
        sensing = None
        st = self.one(conf, "Sensing_Time")
        if st is not None:
            start, stop = self.time(st, "Start"), self.time(st, "Stop")
            if start is not None and stop is not None:
                if stop < start:
                    raise self.error("sensing stop is before start", st)
                sensing = SensingTime(start=start, stop=stop)
        dynamic: dict[str, str] = {}
        xpaths: dict[str, str] = {}
        lists = [c for c in conf if c.tag in _PARAMETER_LISTS]
        for p in (p for lst in lists for p in self.counted(lst, *sorted(_PARAMETERS))):
            name = self.value(p, "Name")
            if name in dynamic:
                raise self.error(f"dynamic processing parameter {name!r} is given twice", p)
            value = self.one(p, "Value")
            if value is None:
                raise self.error(f"<Value> is missing in parameter {name!r}; it is required", p)
            dynamic[name] = (value.text or "").strip()
            if _PLACEHOLDER.fullmatch(dynamic[name]):
                key = f"{self._where(p)}/Value"
                self.warn(key, f"{key} of {name} is the template placeholder {dynamic[name]!r}")
            index = [c for c in p.getparent() if c.tag == p.tag].index(p) + 1
            xpaths[name] = f"{self.tree.getpath(p.getparent())}/{p.tag}[{index}]/Value"

        procs_list = self.one(root, "List_of_Ipf_Procs")
        procs = [self.proc(p) for p in self.counted(procs_list, "Ipf_Proc")]
        if not procs:
            raise self.error("no <Ipf_Proc>: the Job Order names no task to run",
                             procs_list if procs_list is not None else root)
        head = dict(
            processor_name=self.value(conf, "Processor_Name"), version=self.value(conf, "Version"),
            stdout_log_level=self.log_level(conf, "Stdout_Log_Level"),
            stderr_log_level=self.log_level(conf, "Stderr_Log_Level"),
            test=self.flag(conf, "Test", False),
            breakpoint_enable=self.flag(conf, "Breakpoint_Enable", False),
            acquisition_station=self.value(conf, "Acquisition_Station", required=False,
                                           default=None if self.one(conf, "Acquisition_Station")
                                           is None else ""),
            order_type=self.value(conf, "Order_Type", required=False))
        warnings = list(self.mismatches)
        for found in self.warnings.values():
            warnings.append(found[0] if len(found) == 1 else f"{found[0]} ({len(found)} times)")
        return JobOrder(
            source=self.path, dialect=detect_dialect(root), **head,
            processing_station=processing_station or "",
            config_files=config_files, sensing_time=sensing, dynamic_parameters=dynamic,
            parameter_xpaths=xpaths, procs=tuple(procs),
            count_mismatches=tuple(self.mismatches), warnings=tuple(warnings))

    def proc(self, proc: etree._Element) -> IpfProc:
        task = self.value(proc, "Task_Name")
        version = self.value(proc, "Task_Version", required=False)
        if version is None:
            key = f"{self._where(proc)}/Task_Version"
            self.warn(key, f"{key} is missing or empty: taken as ''")
        bp = self.only(proc, *_BREAKPOINTS)
        breakpoints = []
        for b in self.counted(self.one(bp, "List_of_Brk_Files") if bp is not None else None,
                              "Brk_File"):
            types = [t for t in b.findall("File_Type") if (t.text or "").strip()]
            if not types:
                self.value(b, "File_Type")  # raises: missing or empty
            name = self.one(b, "File_Name")
            file_name = self.file_path(name) if name is not None else None
            if file_name is None:
                key = self._where(b)
                self.warn(key, f"{key} ({types[0].text.strip()}) gives no File_Name: ignored")
                continue
            enable, kind = self.flag(b, "Enable", False), self.name_type(b)
            breakpoints.extend(BreakpointFile(enable=enable, file_type=t.text.strip(),
                                              file_name_type=kind, file_name=file_name)
                               for t in types)
        inputs = [self.input(i) for i in self.counted(self.one(proc, "List_of_Inputs"), "Input")]
        outputs = [o for e in self.counted(self.one(proc, "List_of_Outputs"), "Output")
                   if (o := self.output(e)) is not None]
        return IpfProc(task_name=task, task_version=version or "", breakpoints=tuple(breakpoints),
                       inputs=tuple(inputs), outputs=tuple(outputs),
                       xpath=self.tree.getpath(proc))

    def input(self, elem: etree._Element) -> JobInput:
        names = self.one(elem, "List_of_File_Names")
        if names is None:
            key = f"{self._where(elem)}/List_of_File_Names"
            self.warn(key, f"{key} is missing: no file given")
        kind = self.name_type(elem)
        files = []
        for n in self.counted(names, "File_Name"):
            f = self.file_path(n)
            if f is None:
                continue
            if kind is FileNameType.REGEXP and (why := unsafe_pattern(f.name)) is not None:
                raise self.error(f"Regexp file name {_shortened(f.name)!r} is refused: {why}", n)
            files.append(f)
        intervals = []
        for ti in self.counted(self.one(elem, "List_of_Time_Intervals"), "Time_Interval"):
            start, stop = self.time(ti, "Start"), self.time(ti, "Stop")
            file_name = self.file_path(self.one(ti, "File_Name")) \
                if self.one(ti, "File_Name") is not None else None
            if start is not None and stop is not None and file_name is not None:
                intervals.append(TimeInterval(start=start, stop=stop, file_name=file_name))
        return JobInput(file_type=self.value(elem, "File_Type"), file_name_type=kind,
                        file_names=tuple(files), time_intervals=tuple(intervals),
                        xpath=self.tree.getpath(elem))

    def output(self, elem: etree._Element) -> JobOutput | None:
        """The output ``elem``; None, with a warning, when it gives no file name (a template's)."""
        file_type = self.value(elem, "File_Type")
        name = self.one(elem, "File_Name")
        if name is None:
            listed = self.counted(self.one(elem, "List_of_File_Names"), "File_Name")
            if len(listed) > 1:
                raise self.error(f"Output {file_type} lists {len(listed)} file names; one is "
                                 "allowed", elem)
            name = listed[0] if listed else None
        file_name = self.file_path(name) if name is not None and (name.text or "").strip() else None
        if file_name is None:
            key = f"{self._where(elem)}"
            self.warn(key, f"{key} ({file_type}) gives no file name: ignored")
            return None
        mandatory = xmlio.parse_bool(elem.get("mandatory", "true"))
        if mandatory is None:
            raise self.error(f"mandatory={elem.get('mandatory')!r} is not a boolean", elem)
        return JobOutput(file_type=file_type, file_name_type=self.name_type(elem),
                         file_name=file_name, mandatory=mandatory,
                         xpath=self.tree.getpath(elem))


def to_xml(job: JobOrder, dialect: Dialect | None = None) -> etree._Element:
    """``job`` as an ``Ipf_Job_Order`` element in ``dialect`` (default: the one it was read in).

    ``MMFI_1_8`` is the S2 IPF form (IPF_JobOrder.xsd of the S2 PDGS interface): times as
    ``YYYYMMDD_hhmmssffffff``, ``Config_Files`` always present, ``Dynamic_Processing_Parameters``
    only when there are parameters, ``Breakpoint`` with ``Enable`` ON/OFF, ``count`` on every
    list but ``Config_Files``.
    """
    dialect = dialect or job.dialect
    E = etree.SubElement
    root = etree.Element("Ipf_Job_Order")
    conf = E(root, "Ipf_Conf")

    def leaf(parent, tag, value):
        E(parent, tag).text = value
        return parent

    leaf(conf, "Processor_Name", job.processor_name)
    leaf(conf, "Version", job.version)
    leaf(conf, "Stdout_Log_Level", job.stdout_log_level.value)
    leaf(conf, "Stderr_Log_Level", job.stderr_log_level.value)
    leaf(conf, "Test", str(job.test).lower())
    leaf(conf, "Breakpoint_Enable", str(job.breakpoint_enable).lower())
    if job.acquisition_station is not None:
        leaf(conf, "Acquisition_Station", job.acquisition_station)
    leaf(conf, "Processing_Station", job.processing_station)
    if job.order_type is not None:
        leaf(conf, "Order_Type", job.order_type)
    gmes = dialect == "GMES_1_1"
    cfg = E(conf, "List_of_Config_Files" if gmes else "Config_Files")
    if gmes:
        cfg.set("count", str(len(job.config_files)))
    for c in job.config_files:
        leaf(cfg, "Config_File" if gmes else "Conf_File_Name", str(c))
    if job.sensing_time is not None:
        st = E(conf, "Sensing_Time")
        leaf(st, "Start", format_time(job.sensing_time.start))
        leaf(st, "Stop", format_time(job.sensing_time.stop))
    if gmes or job.dynamic_parameters:
        params = E(conf, "List_of_Dyn_Processing_Parameters" if gmes
                   else "Dynamic_Processing_Parameters")
    if gmes:
        params.set("count", str(len(job.dynamic_parameters)))
    for name, value in job.dynamic_parameters.items():
        p = E(params, "Dyn_Processing_Parameter" if gmes else "Processing_Parameter")
        leaf(p, "Name", name)
        leaf(p, "Value", value)

    procs = E(root, "List_of_Ipf_Procs", count=str(len(job.procs)))
    for proc in job.procs:
        p = E(procs, "Ipf_Proc")
        leaf(p, "Task_Name", proc.task_name)
        leaf(p, "Task_Version", proc.task_version)
        if proc.breakpoints:
            bp = E(p, "BreakPoint" if gmes else "Breakpoint")
            brks = E(bp, "List_of_Brk_Files", count=str(len(proc.breakpoints)))
            for b in proc.breakpoints:
                f = E(brks, "Brk_File")
                leaf(f, "Enable", "ON" if b.enable else "OFF")
                leaf(f, "File_Type", b.file_type)
                leaf(f, "File_Name_Type", b.file_name_type.value)
                leaf(f, "File_Name", str(b.file_name))
        ins = E(p, "List_of_Inputs", count=str(len(proc.inputs)))
        for i in proc.inputs:
            el = E(ins, "Input")
            leaf(el, "File_Type", i.file_type)
            leaf(el, "File_Name_Type", i.file_name_type.value)
            names = E(el, "List_of_File_Names", count=str(len(i.file_names)))
            for f in i.file_names:
                leaf(names, "File_Name", str(f))
            if i.time_intervals:
                intervals = E(el, "List_of_Time_Intervals", count=str(len(i.time_intervals)))
                for ti in i.time_intervals:
                    interval = E(intervals, "Time_Interval")
                    leaf(interval, "Start", format_time(ti.start))
                    leaf(interval, "Stop", format_time(ti.stop))
                    leaf(interval, "File_Name", str(ti.file_name))
        outs = E(p, "List_of_Outputs", count=str(len(proc.outputs)))
        for o in proc.outputs:
            el = E(outs, "Output", mandatory=str(o.mandatory).lower())
            leaf(el, "File_Type", o.file_type)
            leaf(el, "File_Name_Type", o.file_name_type.value)
            leaf(el, "File_Name", str(o.file_name))
    return root


def write(job: JobOrder, path: os.PathLike | str, dialect: Dialect | None = None) -> Path:
    """Write ``job`` to ``path`` atomically, after validating it against its dialect's XSD."""
    root = to_xml(job, dialect)
    tree = etree.ElementTree(root)
    xmlio.validate(tree, SCHEMAS[dialect or job.dialect], source=path, error=JobOrderError,
                   code=ExitCode.XML_ERROR)
    return xmlio.write_atomic(tree, path)
