"""The checks made before any task runs (ipf.interface.plan): retrieval windows with open-ended
sensing times, over-long file names, the alternative chosen for each task-table Input."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.helpers import SAMPLES, edit_xml, run_ipf
from ipf.interface import joborder as jo
from ipf.interface import plan as pl
from ipf.interface import tasktable
from ipf.interface.errors import JobOrderError, MissingInputError
from ipf.interface.exitcodes import ExitCode

VARIANTS = SAMPLES / "tasktables" / "TaskTable_VARIANTS.xml"
UTC = timezone.utc
OPEN_START, OPEN_STOP = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
FIXED = datetime(2023, 3, 20, 10, 48, 39, tzinfo=UTC)


class _Log:
    def __init__(self):
        self.warnings = []

    def warning(self, text):
        self.warnings.append(text)


def _alternative(mode: str, t0: float | None = 60, t1: float | None = 60) -> tasktable.Alternative:
    return tasktable.Alternative(order=1, origin="DB", retrieval_mode=mode, t0=t0, t1=t1,
                                 file_type="AUX_RESORB", file_name_type="Physical")


VALID = Path("S2A_OPER_AUX_RESORB_X_V20230320T104700_20230320T105000.xml")
LATER = Path("S2A_OPER_AUX_RESORB_X_V20240320T104700_20240320T105000.xml")


@pytest.mark.parametrize("start,stop", [(OPEN_START, FIXED), (FIXED, OPEN_STOP),
                                        (OPEN_START, OPEN_STOP)])
@pytest.mark.parametrize("mode", ["LatestValCover", "ValIntersect", "LatestValIntersect"])
def test_open_ended_sensing_times_do_not_overflow(start, stop, mode):
    sensing = jo.SensingTime(start=start, stop=stop)
    assert pl.outside_validity(VALID, _alternative(mode), sensing) is None


def test_open_ended_window_still_checks_intersection():
    sensing = jo.SensingTime(start=OPEN_START, stop=FIXED)
    why = pl.outside_validity(LATER, _alternative("ValIntersect"), sensing)
    assert why and "is outside" in why and "[open, 2023-03-20T10:49:39]" in why
    assert pl.outside_validity(LATER, _alternative("ValIntersect"),
                               jo.SensingTime(start=FIXED, stop=OPEN_STOP)) is None


def _demo_job(tmp_path: Path) -> Path:
    """The shipped demo Job Order copied into tmp_path with its input."""
    import shutil

    from tests.helpers import JOBORDERS
    shutil.copytree(JOBORDERS, tmp_path / "jobs")
    return tmp_path / "jobs" / "JobOrder.S2IPF_DEMO.xml"


def test_check_inputs_with_sentinel_times(tmp_path):
    table = tasktable.read(VARIANTS)
    resorb = tmp_path / VALID.name
    resorb.write_text("")
    proc = jo.IpfProc(task_name="PREPARE", task_version="01.00", xpath="/P[1]", inputs=(
        jo.JobInput(file_type="AUX_RESORB", file_name_type="Physical", file_names=(resorb,),
                    xpath="/P[1]/I[1]"),))
    job = jo.JobOrder(processor_name="VARIANTS", version="01.00", procs=(proc,),
                      sensing_time=jo.SensingTime(start=OPEN_START, stop=OPEN_STOP))
    log = _Log()
    assert pl.check_inputs(pl.plan(job, table), tmp_path / "J.xml", log, job.sensing_time) is ExitCode.OK
    assert log.warnings == []


@pytest.mark.parametrize("where,length", [("//Ipf_Proc[1]/List_of_Inputs/Input/List_of_File_Names/File_Name", 5000),
                                          ("//Ipf_Proc[1]/List_of_Inputs/Input/List_of_File_Names/File_Name", 300),
                                          ("//Ipf_Proc[1]/List_of_Outputs/Output[1]/File_Name", 5000),
                                          ("//Ipf_Proc[1]/List_of_Outputs/Output[1]/File_Name", 256)])
def test_over_long_file_names_are_job_order_errors(tmp_path, where, length):
    job = _demo_job(tmp_path)
    edit_xml(job, {where: "x" * length})
    with pytest.raises(JobOrderError, match="too long") as err:
        jo.read(job)
    assert "File_Name" in str(err.value) and str(job) in str(err.value)
    run = run_ipf("--dry-run", job, cwd=tmp_path)
    assert run.code == ExitCode.JOB_ORDER_READ_ERROR, (run.stdout, run.stderr)
    assert "too long" in run.stderr and "OSError" not in run.stderr


def _proc(tmp_path: Path, **inputs) -> jo.IpfProc:
    """PREPARE with the given inputs: file type -> list of names, or (names, time intervals)."""
    made = []
    for k, (ft, value) in enumerate(inputs.items(), 1):
        names, intervals = value if isinstance(value, tuple) else (value, ())
        made.append(jo.JobInput(file_type=ft, file_name_type="Physical",
                                file_names=tuple(tmp_path / n for n in names),
                                time_intervals=intervals, xpath=f"/P[1]/I[{k}]"))
    return jo.IpfProc(task_name="PREPARE", task_version="01.00", xpath="/P[1]", inputs=tuple(made))


def _job(proc: jo.IpfProc, start=FIXED, stop=FIXED) -> jo.JobOrder:
    return jo.JobOrder(processor_name="VARIANTS", version="01.00", procs=(proc,),
                       sensing_time=jo.SensingTime(start=start, stop=stop))


def test_missing_first_alternative_falls_back_to_the_next(tmp_path):
    """ORBIT: AUX_RESORB (Order 1) given but absent, AUX_PREORB (Order 2) present: the run goes
    on with AUX_PREORB, the absent AUX_RESORB being a warning."""
    from ipf.interface.context import TaskContext

    table = tasktable.read(VARIANTS)
    (tmp_path / "preorb.xml").write_text("")
    proc = _proc(tmp_path, AUX_RESORB=["resorb.xml"], AUX_PREORB=["preorb.xml"])
    steps = pl.plan(_job(proc), table)
    need = steps[0].task.inputs[0]
    assert pl.choose(need, proc).file_type == "AUX_PREORB"
    log = _Log()
    assert pl.check_inputs(steps, tmp_path / "J.xml", log) is ExitCode.PROCESSING_WARNING
    assert "AUX_RESORB input" in log.warnings[0] and "does not exist" in log.warnings[0]
    ctx = TaskContext(job=_job(proc), table=table, task=steps[0].task, proc=proc, params={},
                      log=log, working_dir=tmp_path)
    assert ctx.input_of("ORBIT") == ctx.input_of(1) == ctx.input_of("AUX_RESORB") == [tmp_path / "preorb.xml"]
    assert ctx.alternative("ORBIT").order == 2
    assert ctx.inputs("AUX_RESORB") == [tmp_path / "resorb.xml"]  # by file type, as before
    assert ctx.input_of(2) == [] and ctx.alternative(2) is None  # AUX_NRT not given
    with pytest.raises(Exception, match="no Input 'NOPE'"):
        ctx.input_of("NOPE")
    # both present: Order 1 wins; none present: the first given is reported missing
    (tmp_path / "resorb.xml").write_text("")
    assert pl.choose(need, proc).file_type == "AUX_RESORB"
    for f in ("resorb.xml", "preorb.xml"):
        (tmp_path / f).unlink()
    assert pl.choose(need, proc).file_type == "AUX_RESORB"
    with pytest.raises(MissingInputError, match="mandatory AUX_RESORB input"):
        pl.check_inputs(steps, tmp_path / "J.xml", _Log())


def test_first_alternative_made_by_an_earlier_task_is_chosen(tmp_path):
    proc = _proc(tmp_path, AUX_RESORB=["made/resorb.xml"], AUX_PREORB=["preorb.xml"])
    (tmp_path / "preorb.xml").write_text("")
    need = tasktable.read(VARIANTS).tasks[0].inputs[0]
    assert pl.choose(need, proc, [tmp_path / "made"]).file_type == "AUX_RESORB"
    assert pl.choose(need, proc).file_type == "AUX_PREORB"


def test_retrieval_checks_use_designated_files_and_time_intervals(tmp_path):
    """A Prefix name is checked through the files it designates; a Time_Interval of the Job
    Order gives the validity before the file name does."""
    table = tasktable.read(VARIANTS)
    short = "S2A_OPER_AUX_RESORB_X_V20230320T104800_20230320T105000.xml"  # does not cover
    (tmp_path / short).write_text("")
    prefix = jo.JobInput(file_type="AUX_RESORB", file_name_type="Prefix",
                         file_names=(tmp_path / "S2A_OPER_AUX_RESORB_X_",), xpath="/P[1]/I[1]")
    proc = jo.IpfProc(task_name="PREPARE", task_version="01.00", xpath="/P[1]", inputs=(prefix,))
    job = _job(proc)
    log = _Log()
    assert pl.check_inputs(pl.plan(job, table), tmp_path / "J.xml", log, job.sensing_time) \
        is ExitCode.PROCESSING_WARNING
    assert "does not cover" in log.warnings[0] and short in log.warnings[0]
    # the Job Order says the same file is valid for the whole day: it covers the window
    day = jo.TimeInterval(start=datetime(2023, 3, 20, tzinfo=UTC),
                          stop=datetime(2023, 3, 21, tzinfo=UTC), file_name=tmp_path / short)
    proc = _proc(tmp_path, AUX_RESORB=([short], (day,)))
    log = _Log()
    assert pl.check_inputs(pl.plan(_job(proc), table), tmp_path / "J.xml", log, FIXED_SENSING) \
        is ExitCode.OK, log.warnings
    # and a Time_Interval can put a file whose name gives no validity out of range
    (tmp_path / "orbit.xml").write_text("")
    old = jo.TimeInterval(start=datetime(2020, 1, 1, tzinfo=UTC),
                          stop=datetime(2020, 1, 2, tzinfo=UTC), file_name=tmp_path / "orbit.xml")
    proc = _proc(tmp_path, AUX_RESORB=(["orbit.xml"], (old,)))
    log = _Log()
    assert pl.check_inputs(pl.plan(_job(proc), table), tmp_path / "J.xml", log, FIXED_SENSING) \
        is ExitCode.PROCESSING_WARNING
    assert "orbit.xml valid 2020-01-01T00:00:00" in log.warnings[0]


FIXED_SENSING = jo.SensingTime(start=FIXED, stop=FIXED)


def test_template_placeholders_in_names_and_values(tmp_path):
    """Placeholders left by a template: warnings when read (not in Regexp names, where * is a
    wildcard); an output named by one is refused before anything runs (exit 128)."""
    job = _demo_job(tmp_path)
    edit_xml(job, {"(//Ipf_Proc)[last()]/List_of_Outputs/Output[1]/File_Name": "***DS_ANC_DATA***",
                   "//Processing_Parameter[1]/Value": "@scale@"})
    read = jo.read(job)
    text = "\n".join(read.warnings)
    assert "placeholder '***DS_ANC_DATA***'" in text and "placeholder '@scale@'" in text
    edit_xml(job, {"//Processing_Parameter[1]/Value": "2"})
    run = run_ipf("--dry-run", job, cwd=tmp_path)
    assert run.code == ExitCode.JOB_ORDER_READ_ERROR, (run.stdout, run.stderr)
    assert "List_of_Outputs/Output/File_Name" in run.stderr and "placeholder" in run.stderr
    assert not (job.parent / "***DS_ANC_DATA***").exists()
    regexp = jo.read(SAMPLES / "joborders" / "JobOrder.S2_TEMPLATE.xml")
    assert not any("_MSI_L0__GR_" in w for w in regexp.warnings)
