"""Job Orders of both dialects parse to the expected typed values; writing round-trips."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.helpers import JOBORDERS, SAMPLES
from ipf.interface import joborder
from ipf.interface.errors import IpfError
from ipf.interface.exitcodes import ExitCode
from ipf.interface.joborder import FileNameType, LogLevel


def test_s2_orchestrator_sample_parses():
    job = joborder.read(SAMPLES / "JobOrder.INIT_LOC_L0_52742.xml")
    assert job.dialect == "MMFI_1_8"
    assert (job.processor_name, job.version) == ("INIT_LOC_L0", "01.03")
    assert job.stdout_log_level is LogLevel.DEBUG and job.stderr_log_level is LogLevel.DEBUG
    assert job.test is False and job.breakpoint_enable is False
    assert (job.acquisition_station, job.processing_station) == ("CGS1", "CGS1")
    assert job.config_files == ()
    assert job.sensing_time.start == datetime(1983, 1, 1, tzinfo=timezone.utc)
    assert job.sensing_time.stop == datetime(2020, 1, 1, tzinfo=timezone.utc)
    assert list(job.dynamic_parameters) == ["SAD_DATA_INGESTION", "IERS_DATA_INGESTION",
                                            "ANCILLARY_COMPUTATION",
                                            "GRANULE_FOOTPRINT_COMPUTATION", "TRACE"]
    assert job.dynamic_parameters["TRACE"] == "false"
    (proc,) = job.procs
    assert (proc.task_name, proc.task_version) == ("INIT_LOC_L0", "01.00")
    assert len(proc.inputs) == 11
    viedir = proc.input_files("GIP_VIEDIR")
    assert len(viedir) == 13
    # the sample pads every file name with newlines and spaces
    assert viedir[0].name == ("S2A_OPER_GIP_VIEDIR_CGS1_20121031T075922_V19830101T000000_"
                              "20200101T000000_B10.xml")
    assert all(str(p) == str(p).strip() and p.is_absolute() for p in viedir)
    pdi = proc.inputs[0]
    assert (pdi.file_type, pdi.file_name_type) == ("PDI_DS", FileNameType.DIRECTORY)
    assert [o.file_type for o in proc.outputs] == ["PDI_DS", "PDI_DS_GR_LIST", "REPORT"]
    assert all(o.mandatory for o in proc.outputs)
    assert proc.outputs[2].file_name.name == "report.xml"
    assert proc.outputs[2].xpath == "/Ipf_Job_Order/List_of_Ipf_Procs/Ipf_Proc/List_of_Outputs/Output[3]"
    assert job.count_mismatches == ()


def test_gmes_1_1_dialect_parses():
    job = joborder.read(SAMPLES / "JobOrder.GMES_1_1.xml")
    assert job.dialect == "GMES_1_1"
    assert job.stderr_log_level is LogLevel.ERROR
    assert job.breakpoint_enable is True
    assert job.acquisition_station is None
    assert job.config_files == (Path("/usr/share/s2ipf/config.xml"),)
    assert job.sensing_time.start == datetime(2026, 6, 1, 10, 30, 0, 123456, tzinfo=timezone.utc)
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


@pytest.mark.parametrize("dialect", ["MMFI_1_8", "GMES_1_1"])
@pytest.mark.parametrize("sample", ["JobOrder.INIT_LOC_L0_52742.xml", "JobOrder.GMES_1_1.xml"])
def test_write_read_round_trip(tmp_path, sample, dialect):
    job = joborder.read(SAMPLES / sample)
    out = joborder.write(job, tmp_path / "jo.xml", dialect)
    again = joborder.read(out)
    assert again.dialect == dialect
    assert again.model_dump(exclude={"source", "dialect"}) == \
        job.model_dump(exclude={"source", "dialect"})


def test_count_mismatch_is_reported(tmp_path):
    text = (SAMPLES / "JobOrder.INIT_LOC_L0_52742.xml").read_text()
    path = tmp_path / "jo.xml"
    path.write_text(text.replace('<List_of_Inputs count="11">', '<List_of_Inputs count="12">'))
    job = joborder.read(path)
    assert len(job.count_mismatches) == 1
    assert "List_of_Inputs/@count is 12 but it holds 11" in job.count_mismatches[0]


def test_duplicate_parameter_is_an_error(tmp_path):
    text = (SAMPLES / "JobOrder.INIT_LOC_L0_52742.xml").read_text()
    path = tmp_path / "jo.xml"
    path.write_text(text.replace("<Name>TRACE</Name>", "<Name>SAD_DATA_INGESTION</Name>"))
    with pytest.raises(IpfError) as err:
        joborder.read(path)
    assert err.value.code is ExitCode.JOB_ORDER_READ_ERROR
    assert "Processing_Parameter[5]" in str(err.value)


@pytest.mark.parametrize("text,expected", [
    ("2020-01-01T00:00:00Z", datetime(2020, 1, 1, tzinfo=timezone.utc)),
    (" 2020-01-01T12:34:56.5Z ", datetime(2020, 1, 1, 12, 34, 56, 500000, tzinfo=timezone.utc)),
    ("2020-01-01T12:34:56", datetime(2020, 1, 1, 12, 34, 56, tzinfo=timezone.utc)),
    ("20200101_123456789000", datetime(2020, 1, 1, 12, 34, 56, 789000, tzinfo=timezone.utc)),
    ("20200101_123456", datetime(2020, 1, 1, 12, 34, 56, tzinfo=timezone.utc)),
])
def test_parse_time(text, expected):
    assert joborder.parse_time(text) == expected
