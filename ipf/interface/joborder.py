"""The Job Order: read once into typed models, written back for external tasks and the simulator.

Two dialects are accepted, each with its XSD in ``ipf/schemas/``:

* ``MMFI_1_8``: Generic IPF Interface Specification issue 1.8, as the S2 PDGS orchestrators write
  it (``Config_Files/Conf_File_Name``, ``Dynamic_Processing_Parameters/Processing_Parameter``);
* ``GMES_1_1``: as prosEO writes it (``List_of_Config_Files/Config_File``,
  ``List_of_Dyn_Processing_Parameters/Dyn_Processing_Parameter``).

Nothing else in the code reads Job Order XML: tasks get a :class:`JobOrder`. File names are used
as given when absolute (as the generic interface requires); a relative one is taken relative to
the Job Order's directory, so sample Job Orders run where they are copied.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from ipf.interface import xmlio
from ipf.interface.errors import JobOrderError
from ipf.interface.exitcodes import ExitCode

Dialect = Literal["MMFI_1_8", "GMES_1_1"]

__all__ = ["Dialect", "SCHEMAS", "LogLevel", "FileNameType", "JobInput", "JobOutput", "BreakpointFile",
           "IpfProc", "SensingTime", "JobOrder", "parse_time", "format_time", "as_bool",
           "detect_dialect", "read", "to_xml", "write"]

SCHEMAS: dict[str, str] = {"MMFI_1_8": "JobOrder_MMFI_1_8.xsd", "GMES_1_1": "JobOrder_GMES_1_1.xsd"}

_TRUE = {"true", "on", "yes", "1"}


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
    PHYSICAL = "Physical"
    DIRECTORY = "Directory"
    LOGICAL = "Logical"
    STEM = "Stem"
    REGEXP = "Regexp"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JobInput(_Model):
    """``Input``: the files of one file type given to a task."""

    file_type: str
    file_name_type: FileNameType
    file_names: tuple[Path, ...] = ()
    #: XPath of the element in the Job Order, for error messages
    xpath: str = ""


class JobOutput(_Model):
    """``Output``: where a task must leave the product of one file type."""

    file_type: str
    file_name_type: FileNameType
    file_name: Path
    mandatory: bool = True
    xpath: str = ""


class BreakpointFile(_Model):
    """``Brk_File``: where a task writes one breakpoint (intermediate) file when enabled."""

    enable: bool
    file_type: str
    file_name_type: FileNameType
    file_name: Path


class IpfProc(_Model):
    """``Ipf_Proc``: one task to run, with its inputs and outputs."""

    task_name: str
    task_version: str
    breakpoints: tuple[BreakpointFile, ...] = ()
    inputs: tuple[JobInput, ...] = ()
    outputs: tuple[JobOutput, ...] = ()
    xpath: str = ""

    def input_files(self, file_type: str) -> list[Path]:
        """Every file listed for ``file_type`` (empty when the type is not given)."""
        return [f for i in self.inputs if i.file_type == file_type for f in i.file_names]

    def output(self, file_type: str) -> JobOutput | None:
        return next((o for o in self.outputs if o.file_type == file_type), None)


class SensingTime(_Model):
    start: datetime
    stop: datetime


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
    config_files: tuple[Path, ...] = ()
    sensing_time: SensingTime | None = None
    #: Dynamic processing parameters in Job Order order, values as written (typed by the task table)
    dynamic_parameters: dict[str, str] = Field(default_factory=dict)
    procs: tuple[IpfProc, ...]
    #: ``count`` attributes that disagree with what they count (reported as XML warnings)
    count_mismatches: tuple[str, ...] = ()

    def proc(self, task_name: str) -> IpfProc | None:
        return next((p for p in self.procs if p.task_name == task_name), None)

    def parameter_xpath(self, name: str) -> str:
        """Where the dynamic parameter ``name`` stands in the Job Order."""
        if self.dialect == "GMES_1_1":
            base = "/Ipf_Job_Order/Ipf_Conf/List_of_Dyn_Processing_Parameters/Dyn_Processing_Parameter"
        else:
            base = "/Ipf_Job_Order/Ipf_Conf/Dynamic_Processing_Parameters/Processing_Parameter"
        index = list(self.dynamic_parameters).index(name) + 1
        return f"{base}[{index}]/Value"


def parse_time(value: str) -> datetime:
    """A Job Order time (``2020-01-01T00:00:00Z`` or ``20200101_000000000000``) as aware UTC."""
    value = value.strip()
    m = re.fullmatch(r"(\d{8})_(\d{6})(\d{0,6})", value)
    if m:
        micro = int(m.group(3).ljust(6, "0")) if m.group(3) else 0
        dt = datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S").replace(microsecond=micro)
        return dt.replace(tzinfo=timezone.utc)
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def format_time(value: datetime, dialect: Dialect = "MMFI_1_8") -> str:
    value = value.astimezone(timezone.utc)
    if dialect == "GMES_1_1":
        return value.strftime("%Y%m%d_%H%M%S%f")
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_bool(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def detect_dialect(root: etree._Element) -> Dialect:
    conf = root.find("Ipf_Conf")
    if conf is not None and (conf.find("List_of_Config_Files") is not None
                             or conf.find("List_of_Dyn_Processing_Parameters") is not None):
        return "GMES_1_1"
    return "MMFI_1_8"


def read(path: os.PathLike | str) -> JobOrder:
    """Read, validate and type the Job Order at ``path``.

    Raises :class:`~ipf.interface.errors.JobOrderError` naming the file and element.
    """
    path = Path(path)
    tree = xmlio.parse(path, error=JobOrderError, root="Ipf_Job_Order")
    dialect = detect_dialect(tree.getroot())
    xmlio.validate(tree, SCHEMAS[dialect], source=path, error=JobOrderError)
    return _from_tree(tree, path, dialect)


def _from_tree(tree: etree._ElementTree, path: Path, dialect: Dialect) -> JobOrder:
    root = tree.getroot()
    conf = root.find("Ipf_Conf")
    t = xmlio.text
    base = path.resolve().parent

    def file_path(value: str) -> Path:
        """A file name of the Job Order; a relative one is relative to the Job Order's directory."""
        return base / value.strip()
    mismatches: list[str] = []

    def counted(parent: etree._Element | None, child: str) -> list[etree._Element]:
        if parent is None:
            return []
        items = parent.findall(child)
        declared = parent.get("count")
        if declared is not None and int(declared) != len(items):
            mismatches.append(f"{tree.getpath(parent)}/@count is {declared} but it holds "
                              f"{len(items)} <{child}>")
        return items

    if dialect == "GMES_1_1":
        cfg = counted(conf.find("List_of_Config_Files"), "Config_File")
        params = counted(conf.find("List_of_Dyn_Processing_Parameters"), "Dyn_Processing_Parameter")
    else:
        cfg = counted(conf.find("Config_Files"), "Conf_File_Name")
        params = counted(conf.find("Dynamic_Processing_Parameters"), "Processing_Parameter")
    dynamic: dict[str, str] = {}
    for p in params:
        name = t(p, "Name")
        if name in dynamic:
            raise JobOrderError(f"dynamic processing parameter {name!r} "
                                "is given twice", source=path, element=tree.getpath(p))
        dynamic[name] = t(p, "Value")

    def time_of(parent: etree._Element, tag: str) -> datetime:
        try:
            return parse_time(t(parent, tag))
        except ValueError as exc:
            raise JobOrderError(f"{t(parent, tag)!r} is not a valid "
                                f"time: {exc}", source=path,
                                element=tree.getpath(parent.find(tag))) from None

    sensing = None
    st = conf.find("Sensing_Time")
    if st is not None:
        sensing = SensingTime(start=time_of(st, "Start"), stop=time_of(st, "Stop"))
        if sensing.stop < sensing.start:
            raise JobOrderError("sensing stop is before start",
                                source=path, element=tree.getpath(st))

    procs = []
    for proc in counted(root.find("List_of_Ipf_Procs"), "Ipf_Proc"):
        bp = proc.find("BreakPoint")
        if bp is None:
            bp = proc.find("Breakpoint")
        breakpoints = tuple(
            BreakpointFile(enable=as_bool(t(b, "Enable")), file_type=t(b, "File_Type"),
                           file_name_type=t(b, "File_Name_Type"), file_name=file_path(t(b, "File_Name")))
            for b in counted(bp.find("List_of_Brk_Files") if bp is not None else None, "Brk_File"))
        inputs = tuple(
            JobInput(file_type=t(i, "File_Type"), file_name_type=t(i, "File_Name_Type"),
                     file_names=tuple(file_path(f.text or "")
                                      for f in counted(i.find("List_of_File_Names"), "File_Name")),
                     xpath=tree.getpath(i))
            for i in counted(proc.find("List_of_Inputs"), "Input"))
        outputs = tuple(
            JobOutput(file_type=t(o, "File_Type"), file_name_type=t(o, "File_Name_Type"),
                      file_name=file_path(t(o, "File_Name")),
                      mandatory=as_bool(o.get("mandatory", "true")), xpath=tree.getpath(o))
            for o in counted(proc.find("List_of_Outputs"), "Output"))
        types = [o.file_type for o in outputs]
        for n, o in enumerate(outputs):
            if o.file_type in types[:n]:
                raise JobOrderError(f"task {t(proc, 'Task_Name')} has "
                                    f"{types.count(o.file_type)} Outputs of type {o.file_type}; one is "
                                    "allowed", source=path, element=o.xpath)
        procs.append(IpfProc(task_name=t(proc, "Task_Name"), task_version=t(proc, "Task_Version"),
                             breakpoints=breakpoints, inputs=inputs, outputs=outputs,
                             xpath=tree.getpath(proc)))

    return JobOrder(
        source=path, dialect=dialect,
        processor_name=t(conf, "Processor_Name"), version=t(conf, "Version"),
        stdout_log_level=t(conf, "Stdout_Log_Level"), stderr_log_level=t(conf, "Stderr_Log_Level"),
        test=as_bool(t(conf, "Test")), breakpoint_enable=as_bool(t(conf, "Breakpoint_Enable")),
        acquisition_station=t(conf, "Acquisition_Station"),
        processing_station=t(conf, "Processing_Station"),
        config_files=tuple(file_path(c.text or "") for c in cfg),
        sensing_time=sensing, dynamic_parameters=dynamic, procs=tuple(procs),
        count_mismatches=tuple(mismatches))


def to_xml(job: JobOrder, dialect: Dialect | None = None) -> etree._Element:
    """``job`` as an ``Ipf_Job_Order`` element in ``dialect`` (default: the one it was read in)."""
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
    gmes = dialect == "GMES_1_1"
    cfg = E(conf, "List_of_Config_Files" if gmes else "Config_Files")
    if gmes:
        cfg.set("count", str(len(job.config_files)))
    for c in job.config_files:
        leaf(cfg, "Config_File" if gmes else "Conf_File_Name", str(c))
    if job.sensing_time is not None:
        st = E(conf, "Sensing_Time")
        leaf(st, "Start", format_time(job.sensing_time.start, dialect))
        leaf(st, "Stop", format_time(job.sensing_time.stop, dialect))
    params = E(conf, "List_of_Dyn_Processing_Parameters" if gmes else "Dynamic_Processing_Parameters")
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
            bp = E(p, "BreakPoint")
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
