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
