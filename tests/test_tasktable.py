"""Task tables: validation, typed parameters, lookup by processor name and version."""

import shutil

import pytest

from tests.helpers import JOBORDERS, TASKTABLES, edit_xml, run_ipf
from ipf.interface import joborder, tasktable
from ipf.interface.errors import IpfError
from ipf.interface.exitcodes import ExitCode
from ipf.interface.tasktable import DynProcParam, ParamType

DEMO_TABLE = TASKTABLES / "demo" / "TaskTable_S2IPF_DEMO_01.00.xml"


def test_demo_table_model():
    table = tasktable.read(DEMO_TABLE)
    assert (table.processor_name, table.version, table.test) == ("S2IPF_DEMO", "01.00", False)
    assert table.min_disk_space_mb == 16 and table.max_time == 600
    assert [t.name for t in table.tasks] == ["DEMO_GENERATE", "DEMO_REPORT"]
    gen = table.task("DEMO_GENERATE")
    assert gen.entry_point == ("ipf.processors.demo.tasks", "generate")
    assert gen.critical and gen.criticality_level == 1
    assert gen.inputs[0].mandatory and gen.inputs[0].file_types == ("DEMO_INPUT",)
    assert gen.outputs[0].file_type == "DEMO_L1" and gen.outputs[0].mandatory
    assert [b.file_name for b in gen.breakpoints] == ["DEMO_GENERATE_SCALED"]
    assert table.param("DEMO_SLEEP").type is ParamType.NUMBER
    table.check_entry_points()


@pytest.mark.parametrize("kind,raw,value", [
    ("Boolean", " TRUE ", True), ("Boolean", "off", False), ("Integer", "42", 42),
    ("Number", "2.5", 2.5), ("String", " x ", "x")])
def test_parameter_types(kind, raw, value):
    assert DynProcParam(name="P", type=kind).convert(raw) == value


@pytest.mark.parametrize("kind,raw", [("Boolean", "maybe"), ("Integer", "4.2"), ("Number", "abc"),
                                      ("DateTime", "yesterday")])
def test_parameter_type_errors(kind, raw):
    with pytest.raises(ValueError):
        DynProcParam(name="P", type=kind).convert(raw)


def test_job_order_overrides_defaults():
    table = tasktable.read(DEMO_TABLE)
    job = joborder.read(JOBORDERS / "JobOrder.S2IPF_DEMO.xml")
    params, unknown = tasktable.typed_parameters(table, job)
    assert params == {"DEMO_SCALE": 2.5, "DEMO_SLEEP": 0.0, "DEMO_FAIL": False}
    assert unknown == []


def test_find_by_content_when_renamed(tmp_path):
    shutil.copy(DEMO_TABLE, tmp_path / "TaskTable_renamed_by_ops.xml")
    table = tasktable.find("S2IPF_DEMO", "01.00", [tmp_path])
    assert table.source.name == "TaskTable_renamed_by_ops.xml"
    with pytest.raises(IpfError) as err:
        tasktable.find("S2IPF_DEMO", "09.99", [tmp_path])
    assert err.value.code is ExitCode.UNKNOWN_PROCESSOR
    assert "known: S2IPF_DEMO 01.00" in str(err.value)


def test_repeated_task_name_is_several_instances(tmp_path):
    """Real tables (S1 AIOP, S2 L1B) repeat a task name: each occurrence is an instance of it."""
    text = DEMO_TABLE.read_text().replace("<Name>DEMO_REPORT</Name>", "<Name>DEMO_GENERATE</Name>")
    (tmp_path / "t.xml").write_text(text)
    table = tasktable.read(tmp_path / "t.xml")
    assert [t.name for t in table.tasks] == ["DEMO_GENERATE", "DEMO_GENERATE"]


def test_executable_with_unset_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("DEMO_EXE_DIR", raising=False)
    path = edit_xml(DEMO_TABLE, {"//Task[Name='DEMO_REPORT']/File_Name": "$DEMO_EXE_DIR/report"},
                    tmp_path / "t.xml")
    table = tasktable.read(path)
    with pytest.raises(IpfError) as err:
        table.check_entry_points()
    assert err.value.code is ExitCode.XML_ERROR
    assert "environment variable" in str(err.value) and "Task/File_Name" in str(err.value)


def test_check_tasktable_command_lists_tasks():
    run = run_ipf("--check-tasktable", DEMO_TABLE)
    assert run.code == 0, run.stderr
    assert "valid task table for S2IPF_DEMO 01.00" in run.stdout
    assert "pool 1: DEMO_GENERATE 01.00.00 critical (level 1), in-process ipf.processors.demo.tasks:generate" \
        in run.stdout
    assert "pool 2: DEMO_REPORT" in run.stdout
    assert "parameter DEMO_SLEEP (Number) default '0'" in run.stdout


def test_check_tasktable_command_rejects_invalid(tmp_path):
    bad = edit_xml(DEMO_TABLE, {"//Task[Name='DEMO_REPORT']/Critical": "perhaps"}, tmp_path / "t.xml")
    run = run_ipf("--check-tasktable", bad)
    assert run.code == ExitCode.XML_ERROR
    (err,) = run.lines("stderr", "E")
    assert str(bad) in err and "Critical" in err


def test_check_tasktable_command_warns_on_executables_it_cannot_check(tmp_path):
    table = edit_xml(DEMO_TABLE, {"//Task[Name='DEMO_REPORT']/File_Name": "$IPF_TEST_UNSET_DIR/report"},
                     tmp_path / "t.xml")
    run = run_ipf("--check-tasktable", table)
    assert run.code == ExitCode.XML_WARNING, run.stderr
    assert "valid task table" in run.stdout
    (warning,) = run.lines("stderr", "W")
    assert "cannot be checked here" in warning and "not set" in warning


def test_find_with_names_that_cannot_be_file_names(tmp_path):
    shutil.copy(DEMO_TABLE, tmp_path)
    for name in ("x" * 300 + "S2IPF_DEMO", "../demo/S2IPF_DEMO"):
        with pytest.raises(IpfError) as err:
            tasktable.find(name, "01.00", [tmp_path])
        assert err.value.code is ExitCode.UNKNOWN_PROCESSOR
    assert tasktable.find("S2IPF_DEMO", "01.00", [tmp_path]).processor_name == "S2IPF_DEMO"
