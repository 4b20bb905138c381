"""Job Orders parse to the expected typed values (S2 orchestrator, prosEO, COPRS S1/S3 and S2
template forms, tests/data/joborders/); what ipf does not use comes back as warnings; what a run
cannot do without is a JobOrderError naming the element; writing follows the S2 IPF form and
round-trips."""

from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from tests.helpers import JOBORDERS, SAMPLES, SHARED
from ipf.interface import joborder
from ipf.interface.errors import IpfError, JobOrderError
from ipf.interface.exitcodes import ExitCode
from ipf.interface.joborder import FileNameType, LogLevel

CORPUS = SAMPLES / "joborders"
INIT_LOC = SAMPLES / "JobOrder.INIT_LOC_L0.xml"
PUBLISHED = SHARED / "reference" / "samples" / "JobOrder.INIT_LOC_L0_52742.xml"
UTC = timezone.utc


def test_s2_orchestrator_form_parses():
    job = joborder.read(INIT_LOC)
    assert job.dialect == "MMFI_1_8"
    assert (job.processor_name, job.version) == ("INIT_LOC_L0", "02.00")
    assert job.stdout_log_level is LogLevel.DEBUG and job.stderr_log_level is LogLevel.WARNING
    assert job.test is False and job.breakpoint_enable is False
    assert (job.acquisition_station, job.processing_station) == ("SIMU", "S2IP")
    assert job.config_files == () and job.order_type is None
    assert job.sensing_time.start == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert job.sensing_time.stop == datetime(2024, 3, 1, 10, 0, 36, 500000, tzinfo=UTC)
    assert list(job.dynamic_parameters) == ["SAD_DATA_INGESTION", "IERS_DATA_INGESTION",
                                            "ANCILLARY_COMPUTATION",
                                            "GRANULE_FOOTPRINT_COMPUTATION", "TRACE"]
    assert job.dynamic_parameters["ANCILLARY_COMPUTATION"] == "false"
    (proc,) = job.procs
    assert (proc.task_name, proc.task_version) == ("INIT_LOC_L0", "02.00")
    assert len(proc.inputs) == 11
    viedir = proc.input_files("GIP_VIEDIR")
    assert len(viedir) == 13
    # file names padded with newlines and spaces, as the S2 orchestrators write them
    assert viedir[8].name.endswith("_B8A.xml")
    assert all(str(p) == str(p).strip() and p.is_absolute() for p in viedir)
    pdi = proc.inputs[0]
    assert (pdi.file_type, pdi.file_name_type) == ("PDI_DS", FileNameType.DIRECTORY)
    assert [o.file_type for o in proc.outputs] == ["PDI_DS", "PDI_DS_GR_LIST", "REPORT"]
    assert all(o.mandatory for o in proc.outputs)
    assert proc.outputs[2].file_name == Path("/data/s2ipf/run_0042/output/report.xml")
    assert proc.outputs[2].xpath == "/Ipf_Job_Order/List_of_Ipf_Procs/Ipf_Proc/List_of_Outputs/Output[3]"
    assert job.count_mismatches == () and job.warnings == ()


@pytest.mark.skipif(not PUBLISHED.exists(), reason="published samples not available")
def test_published_s2_orchestrator_sample_parses():
    job = joborder.read(PUBLISHED)
    assert (job.processor_name, job.version) == ("INIT_LOC_L0", "01.03")
    assert job.sensing_time.start == datetime(1983, 1, 1, tzinfo=UTC)
    (proc,) = job.procs
    assert len(proc.inputs) == 11 and len(proc.input_files("GIP_VIEDIR")) == 13
    assert job.warnings == ()


def test_gmes_1_1_dialect_parses():
    job = joborder.read(SAMPLES / "JobOrder.GMES_1_1.xml")
    assert job.dialect == "GMES_1_1"
    assert job.stderr_log_level is LogLevel.ERROR
    assert job.breakpoint_enable is True
    assert job.acquisition_station is None
    assert job.config_files == (Path("/usr/share/s2ipf/config.xml"),)
    assert job.sensing_time.start == datetime(2026, 6, 1, 10, 30, 0, 123456, tzinfo=UTC)
    assert job.dynamic_parameters == {"DEMO_SCALE": "3", "orderId": "4711"}  # whitespace stripped
    (proc,) = job.procs
    (brk,) = proc.breakpoints
    assert brk.enable and brk.file_type == "DEMO_GENERATE_SCALED"
    assert brk.file_name == Path("/proseo/brk/scaled.json")
    assert proc.input_files("DEMO_INPUT") == [Path("/proseo/in/values.txt")]
    assert proc.output("DEMO_L1").file_name_type is FileNameType.DIRECTORY
    assert job.parameter_xpath("orderId").endswith("Dyn_Processing_Parameter[2]/Value")


def test_shipped_demo_job_order_parses():
    path = JOBORDERS / "JobOrder.S2IPF_DEMO.xml"
    job = joborder.read(path)
    assert (job.processor_name, job.version) == ("S2IPF_DEMO", "01.00")
    assert job.dynamic_parameters == {"DEMO_SCALE": "2.5"}
    assert [p.task_name for p in job.procs] == ["DEMO_GENERATE", "DEMO_REPORT"]
    # relative file names are taken relative to the Job Order's directory
    assert job.procs[0].input_files("DEMO_INPUT") == [JOBORDERS / "demo" / "values.txt"]
    assert job.procs[1].input_files("DEMO_L1") == [job.procs[0].output("DEMO_L1").file_name]


def test_coprs_s1_s3_form():
    """Licence comment before the root, xsi:type, Order_Type, time intervals, BreakPoint."""
    job = joborder.read(CORPUS / "JobOrder.XSI_TYPE.xml")
    assert (job.processor_name, job.version, job.order_type) == ("EXAMPLE_L0", "3.40", "NRT")
    assert job.sensing_time.stop == datetime(2024, 3, 1, 10, 5, 12, 250000, tzinfo=UTC)
    assert job.config_files == (Path("/opt/example/conf/example.xml"),)
    assert job.dynamic_parameters == {"Mission_Id": "S9A"}
    assert job.parameter_xpath("Mission_Id") == \
        "/Ipf_Job_Order/Ipf_Conf/Dynamic_Processing_Parameters/Processing_Parameter[1]/Value"
    (proc,) = job.procs
    (brk,) = proc.breakpoints
    assert brk.enable and brk.file_name == Path("/data/work/brk/step1.dat")
    (orbits,) = proc.inputs
    assert orbits.file_names == (Path("/data/in/ORB_1.EOF"), Path("/data/in/ORB_2.EOF"))
    first, second = orbits.time_intervals
    assert first.file_name == orbits.file_names[0]
    assert (first.stop, second.start) == (datetime(2024, 3, 1, 10, 2, tzinfo=UTC),) * 2
    assert job.warnings == ()  # xsi:type is schema typing, not content


def test_proseo_form():
    """ISO-8859-1, PHYSICAL/DIRECTORY, outputs as List_of_File_Names, several of one type."""
    path = CORPUS / "JobOrder.PROSEO_STYLE.xml"
    job = joborder.read(path)
    assert job.dynamic_parameters["Processing_Centre"] == "Oberpfaffenhofen-Weßling"
    assert (job.acquisition_station, job.processing_station) == ("PDGS-GSN", "PDGS-TEST")
    assert job.config_files == ()
    (proc,) = job.procs
    assert [i.file_name_type for i in proc.inputs] == [FileNameType.DIRECTORY, FileNameType.PHYSICAL]
    assert [o.file_name for o in proc.outputs] == [CORPUS / "results" / n for n in ("a.nc", "b.nc", "c.nc")]
    assert proc.output("L2__EX____").file_name.name == "a.nc"
    assert any("@Product_ID" in w and "(3 times)" in w for w in job.warnings)
    assert any("@FS_TYPE" in w for w in job.warnings)
    # ipf stages one output per file type: refused when the run needs it, not when reading
    with pytest.raises(JobOrderError, match="3 Outputs of type L2__EX____") as err:
        joborder.check_outputs(job)
    assert "Output[2]" in str(err.value) and str(path) in str(err.value)


def test_s2_template_form():
    """Empty Conf_File_Name, placeholder times, File/Stem/Logical/Regexp, several Ipf_Proc."""
    job = joborder.read(CORPUS / "JobOrder.S2_TEMPLATE.xml")
    assert job.stdout_log_level is LogLevel.DEBUG  # log levels are read case-insensitively
    assert job.config_files == () and job.sensing_time is None
    assert job.test is False and job.breakpoint_enable is True and job.processing_station == ""
    assert job.dynamic_parameters == {"PROCESSING_LEVEL": ""}
    first, second = job.procs
    assert [p.task_name for p in job.procs] == ["EXAMPLE_FIRST", "EXAMPLE_SECOND"]
    assert [(b.file_type, b.enable, b.file_name_type) for b in first.breakpoints] == [
        ("EXAMPLE_BRK_A", True, FileNameType.DIRECTORY), ("EXAMPLE_BRK_B", False, FileNameType.PHYSICAL)]
    assert [i.file_name_type for i in first.inputs] == [
        FileNameType.PHYSICAL, FileNameType.STEM, FileNameType.REGEXP, FileNameType.LOGICAL]
    assert first.input_files("PDI_LIST") == [CORPUS / "in" / ".*_MSI_L0__GR_.*"]
    assert [o.file_type for o in first.outputs] == ["EXAMPLE_MTD"]  # EXAMPLE_TSV gives no name
    assert second.input_files("EXAMPLE_MTD") == [first.output("EXAMPLE_MTD").file_name]
    assert second.outputs == ()
    assert job.count_mismatches == (
        "/Ipf_Job_Order/List_of_Ipf_Procs/Ipf_Proc[1]/List_of_Inputs/@count is 3 but it holds 4 <Input>",)
    text = "\n".join(job.warnings)
    for needle in ("Ipf_Conf/Archive_Centre is not an element ipf reads", "Processing_Station",
                   "Conf_File_Name is empty", "placeholder '@start_time@'", "(EXAMPLE_TSV) gives no file name",
                   "Ipf_Conf/Test is missing"):
        assert needle in text, needle
    assert job.count_mismatches[0] in job.warnings


def test_namespaced_form_and_open_ended_times():
    job = joborder.read(CORPUS / "JobOrder.NAMESPACED.xml")
    assert job.processor_name == "EXAMPLE_AUX" and job.test is True
    assert job.stdout_log_level is LogLevel.PROGRESS
    assert job.sensing_time.start == datetime.min.replace(tzinfo=UTC)
    assert job.sensing_time.stop == datetime.max.replace(tzinfo=UTC)
    (interval,) = job.procs[0].inputs[0].time_intervals
    assert interval.start == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert interval.stop == datetime(2024, 3, 2, tzinfo=UTC)
    assert job.procs[0].outputs[0].mandatory  # mandatory unless said otherwise
    assert job.warnings == ()


ROUND_TRIP = [INIT_LOC, SAMPLES / "JobOrder.GMES_1_1.xml", CORPUS / "JobOrder.XSI_TYPE.xml",
              CORPUS / "JobOrder.PROSEO_STYLE.xml", CORPUS / "JobOrder.NAMESPACED.xml"]


@pytest.mark.parametrize("dialect", ["MMFI_1_8", "GMES_1_1"])
@pytest.mark.parametrize("sample", ROUND_TRIP, ids=lambda p: p.name)
def test_write_read_round_trip(tmp_path, sample, dialect):
    job = joborder.read(sample)
    out = joborder.write(job, tmp_path / "jo.xml", dialect)
    again = joborder.read(out)
    assert again.dialect == dialect
    assert again.warnings == ()
    ignore = {"source", "dialect", "warnings", "count_mismatches"}
    mine = job.model_dump(exclude=ignore)
    # relative names were resolved against the sample's folder; written absolute, they stay
    assert again.model_dump(exclude=ignore) == mine


def test_written_form_is_the_s2_ipf_form(tmp_path):
    job = joborder.read(INIT_LOC)
    job = job.model_copy(update={"dynamic_parameters": {}})
    root = etree.parse(str(joborder.write(job, tmp_path / "jo.xml"))).getroot()
    conf = root.find("Ipf_Conf")
    assert [c.tag for c in conf] == ["Processor_Name", "Version", "Stdout_Log_Level",
                                     "Stderr_Log_Level", "Test", "Breakpoint_Enable",
                                     "Acquisition_Station", "Processing_Station", "Config_Files",
                                     "Sensing_Time"]
    assert conf.findtext("Sensing_Time/Stop") == "20240301_100036500000"
    for lst in ("List_of_Ipf_Procs", ".//List_of_Inputs", ".//List_of_File_Names", ".//List_of_Outputs"):
        assert all(e.get("count") for e in root.iterfind(lst)), lst
    gr = joborder.read(CORPUS / "JobOrder.S2_TEMPLATE.xml")
    brk = etree.parse(str(joborder.write(gr, tmp_path / "brk.xml"))).getroot()
    assert [e.text for e in brk.iterfind(".//Breakpoint/List_of_Brk_Files/Brk_File/Enable")] == ["ON", "OFF"]


def test_count_mismatch_is_reported(tmp_path):
    text = INIT_LOC.read_text()
    path = tmp_path / "jo.xml"
    path.write_text(text.replace('<List_of_Inputs count="11">', '<List_of_Inputs count="12">'))
    job = joborder.read(path)
    assert len(job.count_mismatches) == 1
    assert "List_of_Inputs/@count is 12 but it holds 11" in job.count_mismatches[0]
    assert job.warnings == job.count_mismatches


def _conf(tag: str, value: str) -> tuple[str, str]:
    return f"<{tag}>", f"<{tag}>{value}</{tag}><!--"  # the original value goes into a comment


@pytest.mark.parametrize("old,new,needles", [
    ("<Name>TRACE</Name>", "<Name>SAD_DATA_INGESTION</Name>",
     ["Processing_Parameter[5]", "'SAD_DATA_INGESTION' is given twice"]),
    ("<Processor_Name>INIT_LOC_L0</Processor_Name>", "", ["/Ipf_Job_Order/Ipf_Conf", "<Processor_Name> is missing"]),
    ("<Version>02.00</Version>", "<Version> </Version>", ["Ipf_Conf/Version", "empty"]),
    ("<Stdout_Log_Level>DEBUG", "<Stdout_Log_Level>VERBOSE", ["Ipf_Conf/Stdout_Log_Level", "'VERBOSE'", "log level"]),
    ("<Test>false", "<Test>maybe", ["Ipf_Conf/Test", "'maybe'", "boolean"]),
    ("<Start>2024-03-01T10:00:00Z", "<Start>2024-13-01T10:00:00Z", ["Sensing_Time/Start", "not a valid time"]),
    ("<Start>2024-03-01T10:00:00Z", "<Start>yesterday", ["Sensing_Time/Start", "'yesterday'"]),
    ("<Start>2024-03-01T10:00:00Z", "<Start>20240301_110000000000", ["Sensing_Time", "stop is before start"]),
    ("<File_Name_Type>Physical", "<File_Name_Type>Symlink", ["Input[3]/File_Name_Type", "'Symlink'"]),
    ("<Task_Name>INIT_LOC_L0</Task_Name>", "", ["Ipf_Proc", "<Task_Name> is missing"]),
    ("<File_Type>GIP_DATATI</File_Type>", "", ["Input[3]", "<File_Type> is missing"]),
    ('<Output mandatory="true">', '<Output mandatory="perhaps">', ["Output[1]", "'perhaps'"]),
    ("<Version>02.00</Version>", "<Version>02.00</Version><Version>03.00</Version>", ["Version[2]", "2 times"]),
    ('<List_of_Ipf_Procs count="1">', '<List_of_Ipf_Procs count="1"></List_of_Ipf_Procs><Other>',
     ["/Ipf_Job_Order/List_of_Ipf_Procs", "no <Ipf_Proc>"]),
])
def test_what_a_run_needs_is_checked(tmp_path, old, new, needles):
    text = INIT_LOC.read_text()
    assert old in text
    text = text.replace(old, new, 1)
    if "<Other>" in new:
        text = text.replace("</List_of_Ipf_Procs>\n\n</Ipf_Job_Order>", "</Other>\n</Ipf_Job_Order>")
    path = tmp_path / "jo.xml"
    path.write_text(text)
    with pytest.raises(IpfError) as err:
        joborder.read(path)
    message = str(err.value)
    assert err.value.code is ExitCode.JOB_ORDER_READ_ERROR
    assert str(path) in message and "\n" not in message
    for needle in needles:
        assert needle in message, (needle, message)


@pytest.mark.parametrize("text,expected", [
    ("2020-01-01T00:00:00Z", datetime(2020, 1, 1, tzinfo=UTC)),
    (" 2020-01-01T12:34:56.5Z ", datetime(2020, 1, 1, 12, 34, 56, 500000, tzinfo=UTC)),
    ("2020-01-01T12:34:56", datetime(2020, 1, 1, 12, 34, 56, tzinfo=UTC)),
    ("2020-01-01T12:34:56+01:00", datetime(2020, 1, 1, 11, 34, 56, tzinfo=UTC)),
    ("UTC=2020-01-01T12:34:56.000001", datetime(2020, 1, 1, 12, 34, 56, 1, tzinfo=UTC)),
    ("20200101_123456789000", datetime(2020, 1, 1, 12, 34, 56, 789000, tzinfo=UTC)),
    ("20200101_123456", datetime(2020, 1, 1, 12, 34, 56, tzinfo=UTC)),
    ("00000000_000000000000", datetime.min.replace(tzinfo=UTC)),
    ("99999999_999999999999", datetime.max.replace(tzinfo=UTC)),
])
def test_parse_time(text, expected):
    assert joborder.parse_time(text) == expected


@pytest.mark.parametrize("text", ["2020-02-30T00:00:00Z", "20201301_000000", "2020-01-01", "now", ""])
def test_parse_time_refuses(text):
    with pytest.raises(ValueError):
        joborder.parse_time(text)


@pytest.mark.parametrize("value", [datetime(2020, 1, 1, 12, 34, 56, 789, tzinfo=UTC),
                                   datetime(5, 1, 1, tzinfo=UTC),
                                   datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)])
def test_format_time_round_trips(value):
    text = joborder.format_time(value)
    assert len(text) == 21 and joborder.parse_time(text) == value


@pytest.mark.parametrize("text,expected", [("Physical", FileNameType.PHYSICAL),
                                           ("PHYSICAL", FileNameType.PHYSICAL),
                                           ("File", FileNameType.PHYSICAL),
                                           ("DIRECTORY", FileNameType.DIRECTORY),
                                           ("regexp", FileNameType.REGEXP),
                                           ("Prefix", FileNameType.PREFIX)])
def test_file_name_type_spellings(text, expected):
    assert FileNameType(text) is expected


def _input(kind: FileNameType, *names: Path) -> joborder.JobInput:
    return joborder.JobInput(file_type="AUX_TEST", file_name_type=kind, file_names=names)


def test_file_name_types_designate_their_files(tmp_path):
    for name in ("S2A_AUX_X_V1.xml", "S2A_AUX_X_V1.HDR", "S2A_AUX_X_V1.DBL", "S2A_AUX_Y_V2.xml", "other.txt"):
        (tmp_path / name).write_text("")
    stem = _input(FileNameType.STEM, tmp_path / "S2A_AUX_X_V1")
    assert stem.files() == [tmp_path / n for n in ("S2A_AUX_X_V1.DBL", "S2A_AUX_X_V1.HDR", "S2A_AUX_X_V1.xml")]
    prefix = _input(FileNameType.PREFIX, tmp_path / "S2A_AUX_")
    assert len(prefix.files()) == 4
    regexp = _input(FileNameType.REGEXP, tmp_path / r"S2A_AUX_[XY]_V\d\.xml")
    assert regexp.files() == [tmp_path / "S2A_AUX_X_V1.xml", tmp_path / "S2A_AUX_Y_V2.xml"]
    assert _input(FileNameType.REGEXP, tmp_path / "S2A_(").designated(tmp_path / "S2A_(") == []
    assert _input(FileNameType.PHYSICAL, tmp_path / "other.txt").files() == [tmp_path / "other.txt"]
    assert _input(FileNameType.PHYSICAL, tmp_path / "none").designated(tmp_path / "none") == []
    logical = _input(FileNameType.LOGICAL, Path("GIP_CONFIG_KEY"))
    assert logical.designated(Path("GIP_CONFIG_KEY")) is None and logical.files() == [Path("GIP_CONFIG_KEY")]
    proc = joborder.IpfProc(task_name="T", task_version="1", inputs=(regexp, stem))
    assert proc.input_files("AUX_TEST") == regexp.files() + stem.files()


def test_inputs_checked_by_what_their_names_designate(tmp_path, capsys):
    """A mandatory Regexp input that matches no file is missing; a Logical one is never looked
    up on disk; a Stem that designates files is present."""
    from types import SimpleNamespace

    from ipf.interface import plan
    from ipf.interface.errors import MissingInputError

    from ipf.interface.tasktable import Alternative, TaskInput

    (tmp_path / "AUX_V1.HDR").write_text("")
    need = TaskInput(mode="ALWAYS", mandatory=True, alternatives=(Alternative(
        order=1, origin="DB", retrieval_mode="ValIntersect", file_type="AUX_TEST",
        file_name_type="Physical"),))
    task = SimpleNamespace(name="T", inputs=(need,))

    def steps(*inputs):
        proc = joborder.IpfProc(task_name="T", task_version="1", inputs=inputs, xpath="/P")
        return [SimpleNamespace(task=task, proc=proc)]

    log = SimpleNamespace(warning=print)
    ok = plan.check_inputs(steps(_input(FileNameType.STEM, tmp_path / "AUX_V1")), tmp_path / "J.xml", log)
    assert ok == ExitCode.OK
    assert plan.check_inputs(steps(_input(FileNameType.LOGICAL, Path("KEY"))), tmp_path / "J.xml", log) == ExitCode.OK
    with pytest.raises(MissingInputError, match=r"\(Regexp\) designates no file"):
        plan.check_inputs(steps(_input(FileNameType.REGEXP, tmp_path / r"AUX_V\d\.DBL")), tmp_path / "J.xml", log)


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a*)*", r"(a|a)*", r"(x+x+)+y", r"((ab)*)+",
                                     r"(\d+_)*\.xml", r"(?:a|aa){2,}"])
def test_regexp_names_that_could_backtrack_forever_are_refused(tmp_path, pattern):
    """A Regexp File_Name with a quantifier over a quantified or alternating group is refused
    when read (exponential backtracking would hang the run before Max_Time is armed)."""
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / ("a" * 41 + "!")).write_text("")
    text = (INIT_LOC.read_text()
            .replace("<File_Name_Type>Physical", "<File_Name_Type>Regexp", 1))
    first = text.index("<File_Name_Type>Regexp")
    start = text.index("<File_Name>", first) + len("<File_Name>")
    stop = text.index("</File_Name>", start)
    path = tmp_path / "jo.xml"
    path.write_text(text[:start] + f"{tmp_path}/demo/{pattern}" + text[stop:])
    with pytest.raises(JobOrderError, match="nested|repeated") as err:
        joborder.read(path)
    assert "File_Name" in str(err.value) and str(path) in str(err.value)
    unsafe = joborder.JobInput(file_type="T", file_name_type=FileNameType.REGEXP,
                               file_names=(tmp_path / "demo" / pattern,))
    assert unsafe.designated(unsafe.file_names[0]) == []


@pytest.mark.parametrize("pattern", [r"S2A_AUX_[XY]_V\d+\.xml", r".*_V\d{8}T\d{6}_.*\.(HDR|DBL)",
                                     r"(S2A|S2B)_OPER_.*", r"[a-z]+(_\d+)?\.txt", r"(ab){3}"])
def test_ordinary_regexp_names_are_accepted(pattern):
    assert joborder.unsafe_pattern(pattern) is None


@pytest.mark.parametrize("text,expected", [
    ("20200101T123456", datetime(2020, 1, 1, 12, 34, 56, tzinfo=UTC)),
    ("2020-01-01T12:34:56.123456789Z", datetime(2020, 1, 1, 12, 34, 56, 123456, tzinfo=UTC)),
    ("20200101_123456123456789", datetime(2020, 1, 1, 12, 34, 56, 123456, tzinfo=UTC)),
])
def test_parse_time_more_forms(text, expected):
    assert joborder.parse_time(text) == expected


@pytest.mark.parametrize("text,needle", [("20201301_000000", "month"), ("20200230_000000", "day"),
                                         ("20200101_250000", "hour")])
def test_parse_time_compact_errors_name_the_field(text, needle):
    with pytest.raises(ValueError, match=needle):
        joborder.parse_time(text)


def test_naive_times_are_utc(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        naive = datetime(2020, 1, 1, 12)
        assert joborder.format_time(naive) == "20200101_120000000000"
        sensing = joborder.SensingTime(start=naive, stop=naive)
        assert sensing.start == datetime(2020, 1, 1, 12, tzinfo=UTC)
        interval = joborder.TimeInterval(start=naive, stop=naive, file_name=Path("x"))
        assert interval.stop.tzinfo is not None
    finally:
        monkeypatch.undo()
        time.tzset()


def test_breakpoint_variants(tmp_path):
    """Several File_Type in one Brk_File (S2 IPF schema: maxOccurs unbounded) each get the file;
    a Brk_File without File_Name and a Breakpoint/Enable (not used) are warnings."""
    text = (SAMPLES / "JobOrder.GMES_1_1.xml").read_text()
    old = "<File_Type>DEMO_GENERATE_SCALED</File_Type>"
    assert old in text
    text = text.replace(old, old + "<File_Type>DEMO_OTHER</File_Type>")
    text = text.replace('<List_of_Brk_Files count="1">',
                        '<Enable>ON</Enable><List_of_Brk_Files count="2"><Brk_File><Enable>ON</Enable>'
                        '<File_Type>NO_NAME</File_Type><File_Name_Type>Physical</File_Name_Type>'
                        '</Brk_File>')
    path = tmp_path / "jo.xml"
    path.write_text(text)
    job = joborder.read(path)
    (proc,) = job.procs
    assert [(b.file_type, b.file_name) for b in proc.breakpoints] == [
        ("DEMO_GENERATE_SCALED", Path("/proseo/brk/scaled.json")),
        ("DEMO_OTHER", Path("/proseo/brk/scaled.json"))]
    warnings = "\n".join(job.warnings)
    assert "Brk_File (NO_NAME) gives no File_Name: ignored" in warnings
    assert "BreakPoint/Enable is not an element ipf reads" in warnings
