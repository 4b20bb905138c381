"""The real ESA task tables (Sentinel-1, -2, -3) and our hand-written variants of the format.

The real tables are read from ``shared/real/ipf`` and ``shared/reference/samples`` beside the
repository (``tests.helpers.SHARED``) when they are there; CI has them.
"""

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from tests.helpers import JOBORDERS, SHARED, TASKTABLES, run_ipf
from ipf.interface import joborder as jo
from ipf.interface import plan as pl
from ipf.interface import tasktable
from ipf.interface.errors import IpfError, MissingInputError
from ipf.interface.exitcodes import ExitCode

HERE = Path(__file__).resolve().parent
VARIANTS = HERE / "data" / "tasktables" / "TaskTable_VARIANTS.xml"
DEMO_TABLE = TASKTABLES / "demo" / "TaskTable_S2IPF_DEMO_01.00.xml"


def real_tables() -> list[Path]:
    found = sorted((SHARED / "real" / "ipf").rglob("*.xml")) + sorted(
        (SHARED / "reference" / "samples").glob("TaskTable_*.xml"))
    return [f for f in found if b"<Ipf_Task_Table" in f.read_bytes()]


REAL = real_tables()


@pytest.mark.skipif(not REAL, reason="shared/real/ipf not available")
def test_all_real_tables_accepted(capsys):
    refused = {}
    for path in REAL:
        try:
            table = tasktable.read(path)
            assert table.tasks
            table.check_entry_points(warn=lambda text: None)
        except IpfError as exc:
            refused[path.name] = str(exc)
    with capsys.disabled():
        print(f"\nreal task tables accepted: {len(REAL) - len(refused)}/{len(REAL)}")
    assert not refused, refused


@pytest.mark.skipif(not REAL, reason="shared/real/ipf not available")
def test_no_real_executable_looks_like_an_entry_point():
    for path in REAL:
        assert all(t.entry_point is None for t in tasktable.read(path).tasks), path


@pytest.mark.skipif(not REAL, reason="shared/real/ipf not available")
def test_check_tasktable_lists_tasks_and_warns_on_unset_variable():
    path = next(p for p in REAL if "$" in p.read_text())
    run = run_ipf("--check-tasktable", path, env={"IPF_STDERR_LOG_LEVEL": "WARNING"})
    assert run.code == ExitCode.XML_WARNING, run.stderr
    assert "valid task table" in run.stdout and "pool 1:" in run.stdout
    assert "cannot be checked here" in run.stdout + run.stderr
    assert "environment variable that is not set" in run.stdout + run.stderr


# ------------------------------------------------------------------------ our variants
def test_variants_model():
    table = tasktable.read(VARIANTS)
    assert table.test is False and table.max_time == 0 and table.sensing_time_flag
    assert table.cfg_files == (("1.0", "conf/processor.xml"), ("", "conf/facility.xml"))
    assert [p.type for p in table.dyn_params] == [tasktable.ParamType.STRING,
                                                  tasktable.ParamType.DATETIME]
    assert [p.detached for p in table.pools] == [False, True, False]
    prepare, process, process2, finish = table.tasks
    assert prepare.options == (tasktable.TaskOption(name="BAND", type="String", value="B03"),)
    assert prepare.outputs[0].file_type == "PREPARED"
    assert process.name == process2.name == "PROCESS" and process.number_of_cpus == 2
    assert process.inputs == prepare.inputs[:1]  # Input ref="ORBIT"
    orbit = prepare.inputs[0]
    assert orbit.file_types == ("AUX_RESORB", "AUX_PREORB", "AUX_PREDORB")
    assert orbit.alternatives[2].t0 is None and orbit.alternatives[2].custom_class
    assert finish.version == ""


def test_alternatives_in_order():
    orbit = tasktable.read(VARIANTS).tasks[0].inputs[0]
    assert orbit.choose({"AUX_PREORB", "AUX_RESORB"}).file_type == "AUX_RESORB"
    assert orbit.choose({"AUX_PREORB", "AUX_PREDORB"}).file_type == "AUX_PREORB"
    assert orbit.choose({"OTHER"}) is None


def test_executables_cannot_be_checked_here(monkeypatch):
    monkeypatch.delenv("VARIANTS_EXE_DIR", raising=False)
    table = tasktable.read(VARIANTS)
    warned = []
    table.check_entry_points(warn=warned.append)
    assert len(warned) == 4
    assert "environment variable that is not set" in warned[0]
    assert "relative to the task table" in warned[1]
    assert "/nonexistent/bin/finish is not an executable" in warned[3]
    with pytest.raises(IpfError) as err:
        table.check_entry_points()
    assert err.value.code is ExitCode.XML_ERROR


def test_executable_found_through_variable(tmp_path, monkeypatch):
    exe = tmp_path / "prepare"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv("VARIANTS_EXE_DIR", str(tmp_path))
    table = tasktable.read(VARIANTS)
    assert table.executable(table.tasks[0]) == exe


def test_bad_input_reference(tmp_path):
    path = tmp_path / "t.xml"
    path.write_text(VARIANTS.read_text().replace('ref="ORBIT"', 'ref="NOWHERE"'))
    with pytest.raises(IpfError, match="names no Input id") as err:
        tasktable.read(path)
    assert err.value.code is ExitCode.XML_ERROR


def test_repeated_optional_root_element(tmp_path):
    text = VARIANTS.read_text().replace("<Sensing_Time_flag>true</Sensing_Time_flag>",
                                        "<Sensing_Time_flag>true</Sensing_Time_flag>"
                                        "<Sensing_Time_Flag>true</Sensing_Time_Flag>")
    (tmp_path / "t.xml").write_text(text)
    with pytest.raises(IpfError, match="given 2 times"):
        tasktable.read(tmp_path / "t.xml")


def _job(inputs: dict[str, list[str]], tasks=("PREPARE",), start="2023-03-20T10:48:39",
         stop="2023-03-20T10:48:44") -> jo.JobOrder:
    procs = tuple(jo.IpfProc(task_name=name, task_version="01.00", xpath=f"/P[{n}]", inputs=tuple(
        jo.JobInput(file_type=ft, file_name_type="Physical", file_names=tuple(map(Path, names)),
                    xpath=f"/P[{n}]/I[{k}]") for k, (ft, names) in enumerate(inputs.items(), 1)))
                  for n, name in enumerate(tasks, 1))
    sensing = jo.SensingTime(start=datetime.fromisoformat(start).replace(tzinfo=timezone.utc),
                             stop=datetime.fromisoformat(stop).replace(tzinfo=timezone.utc))
    return jo.JobOrder(processor_name="VARIANTS", version="01.00", procs=procs,
                       sensing_time=sensing)


class _Log:
    def __init__(self):
        self.warnings = []

    def warning(self, text):
        self.warnings.append(text)


def test_retrieval_window(tmp_path):
    table = tasktable.read(VARIANTS)
    inside = tmp_path / "S2A_OPER_AUX_RESORB_X_V20230320T104700_20230320T105000.xml"
    short = tmp_path / "S2A_OPER_AUX_RESORB_X_V20230320T104800_20230320T105000.xml"
    for f in (inside, short):
        f.write_text("")
    log = _Log()
    job = _job({"AUX_RESORB": [str(inside)]})
    steps = pl.plan(job, table)
    assert pl.check_inputs(steps, tmp_path / "J.xml", log, job.sensing_time) is ExitCode.OK
    job = _job({"AUX_RESORB": [str(short)]})
    code = pl.check_inputs(pl.plan(job, table), tmp_path / "J.xml", log, job.sensing_time)
    assert code is ExitCode.PROCESSING_WARNING
    assert "does not cover" in log.warnings[0] and "LatestValCover" in log.warnings[0]
    alternative = table.tasks[0].inputs[1].alternatives[0]  # ValIntersect, T0 = T1 = 0
    far = Path("X_V20230321T000000_20230322T000000.xml")
    assert "is outside" in pl.outside_validity(far, alternative, job.sensing_time)
    assert pl.outside_validity(Path("no_validity.xml"), alternative, job.sensing_time) is None


def test_mandatory_inputs_by_mode(tmp_path):
    table = tasktable.read(VARIANTS)
    # AUX_NRT is mandatory in mode NRT only: not required here; ORBIT (ALWAYS) is
    job = _job({"AUX_PREDORB": [str(tmp_path)]})
    assert pl.check_inputs(pl.plan(job, table), tmp_path / "J.xml", _Log()) is ExitCode.OK
    with pytest.raises(MissingInputError, match="AUX_RESORB or AUX_PREORB or AUX_PREDORB"):
        pl.check_inputs(pl.plan(_job({"AUX_NRT": [str(tmp_path)]}), table), tmp_path / "J.xml",
                        _Log())


def test_mandatory_inputs_of_the_order_type(tmp_path):
    table = tasktable.read(VARIANTS)
    given = {"AUX_PREDORB": [str(tmp_path)]}
    nrt = table.for_order_type("nrt")
    assert [i.required for i in nrt.tasks[0].inputs] == [True, True]
    with pytest.raises(MissingInputError, match="AUX_NRT"):
        pl.check_inputs(pl.plan(_job(given), nrt), tmp_path / "J.xml", _Log())
    offl = table.for_order_type("OFFL")
    assert pl.check_inputs(pl.plan(_job(given), offl), tmp_path / "J.xml", _Log()) is ExitCode.OK
    assert table.for_order_type(None) == table


def test_order_type_enforced_by_the_run(tmp_path, monkeypatch):
    tables = tmp_path / "tables"
    tables.mkdir()
    tree = etree.parse(str(DEMO_TABLE))
    tree.xpath("//Task[1]/List_of_Inputs/Input/Mode")[0].text = "NRT"
    tree.write(str(tables / DEMO_TABLE.name))
    job = tmp_path / "JobOrder.xml"
    shutil.copy(JOBORDERS / "JobOrder.S2IPF_DEMO.xml", job)
    jtree = etree.parse(str(job))
    for inp in jtree.xpath("//Ipf_Proc[1]/List_of_Inputs/Input"):
        inp.getparent().set("count", "0")
        inp.getparent().remove(inp)
    jtree.write(str(job))
    env = {"IPF_TASKTABLE_DIR": str(tables)}
    run = run_ipf("--dry-run", job, env=env)
    assert run.code != ExitCode.MISSING_MANDATORY_FILE, run.stderr
    conf = jtree.find("Ipf_Conf")
    order_type = etree.SubElement(conf, "Order_Type")
    order_type.text = "NRT"
    jtree.write(str(job))
    run = run_ipf("--dry-run", job, env=env)
    assert run.code == ExitCode.MISSING_MANDATORY_FILE, run.stderr
    assert "DEMO_INPUT" in run.stderr


def test_pools_in_order_detached_in_place_and_instances_paired():
    table = tasktable.read(VARIANTS)
    job = _job({}, tasks=("FINISH", "PROCESS", "PREPARE", "PROCESS"))
    steps = pl.plan(job, table)
    assert [s.task.name for s in steps] == ["PREPARE", "PROCESS", "PROCESS", "FINISH"]
    assert [s.proc.xpath for s in steps] == ["/P[3]", "/P[2]", "/P[4]", "/P[1]"]
    assert pl.detached_pools(steps, table) == [2]
    with pytest.raises(IpfError, match="more than the 2 times"):
        pl.plan(_job({}, tasks=("PROCESS",) * 3), table)


def test_detached_pool_runs_in_sequence_with_a_warning(demo, tables):
    table = tables / DEMO_TABLE.name
    tree = etree.parse(str(table))
    tree.xpath("//Pool[2]/Detached")[0].text = "true"
    tree.write(str(table))
    run = run_ipf(demo, env={"IPF_TASKTABLE_DIR": str(tables)})
    assert run.code == 0, run.stderr
    warnings = run.lines("stderr", "W")
    assert any("pool 2" in w and "Detached" in w and "in sequence" in w for w in warnings), warnings
    info = run.lines("stdout", "I")
    first = next(i for i, line in enumerate(info) if "DEMO_GENERATE: start of task" in line)
    second = next(i for i, line in enumerate(info) if "DEMO_REPORT: start of task" in line)
    assert first < second


def _run_with_failing_report(demo, tables, detached: bool):
    """Run the demo Job Order with DEMO_REPORT (pool 2) an executable exiting 200."""
    failing = tables / "fail.sh"
    failing.write_text("#!/bin/sh\nexit 200\n")
    failing.chmod(0o755)
    table = tables / DEMO_TABLE.name
    tree = etree.parse(str(table))
    if detached:
        tree.xpath("//Pool[2]/Detached")[0].text = "true"
    tree.xpath("//Pool[2]//Task/File_Name")[0].text = str(failing)
    tree.write(str(table))
    return run_ipf(demo, env={"IPF_TASKTABLE_DIR": str(tables)})


def test_failed_detached_pool_is_a_warning_and_keeps_the_other_outputs(demo, tables):
    run = _run_with_failing_report(demo, tables, detached=True)
    assert run.code == ExitCode.PROCESSING_WARNING, run.stderr
    warnings = run.lines("stderr", "W")
    assert any("DEMO_REPORT of a Detached pool failed" in w for w in warnings), warnings
    output = demo.parent / "output"
    assert (output / "S2A_OPER_DEMO_L1_20260601T103000").is_dir()
    assert not (output / "S2A_OPER_DEMO_REPORT_20260601T103000.xml").exists()


def test_failed_critical_task_of_an_attached_pool_still_ends_the_run(demo, tables):
    run = _run_with_failing_report(demo, tables, detached=False)
    assert run.code == ExitCode.PROCESSING_ERROR, run.stderr
    assert not (demo.parent / "output" / "S2A_OPER_DEMO_L1_20260601T103000").exists()


def test_config_files_are_not_applied_and_say_so(demo, tables):
    tree = etree.parse(str(demo))
    conf_files = tree.find("Ipf_Conf/Config_Files")
    etree.SubElement(conf_files, "Conf_File_Name").text = "conf/processor.xml"
    tree.write(str(demo))
    run = run_ipf("--dry-run", demo)
    assert run.code == ExitCode.OK, run.stderr
    assert any("Config_Files" in w and "conf/processor.xml not applied" in w
               for w in run.lines("stderr", "W")), run.stderr
