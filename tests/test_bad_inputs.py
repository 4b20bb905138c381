"""The catalogue of bad inputs: each gives one clear error line naming the file and the element,
the documented exit code, and leaves no partial output."""

import os
import signal
import subprocess
import time

import pytest

from tests.helpers import IPF, LINE, edit_xml, leftovers, outputs, run_ipf, set_param
from ipf.interface.exitcodes import ExitCode

CONF = "/Ipf_Job_Order/Ipf_Conf"
PRODUCT = "S2A_OPER_DEMO_L1_20260601T103000"
REPORT = "S2A_OPER_DEMO_REPORT_20260601T103000.xml"


def assert_failed(run, code, *needles, job_dir=None):
    assert run.code == code, (run.stdout, run.stderr)
    errors = run.lines("stderr", "E")
    assert len(errors) >= 1, run.stderr
    first = errors[0]
    for needle in needles:
        assert needle in first, (needle, first)
    assert "\n" not in first and "Traceback" not in run.stderr + run.stdout
    if job_dir is not None:
        assert outputs(job_dir) == [], outputs(job_dir)
        assert leftovers(job_dir) == []


def test_malformed_xml(demo):
    demo.write_text(demo.read_text().replace("</Ipf_Conf>", "</Ipf_Conf_typo>"))
    run = run_ipf(demo)
    assert_failed(run, ExitCode.JOB_ORDER_READ_ERROR, str(demo), "malformed XML", "line ",
                  job_dir=demo.parent)


def test_wrong_root(demo):
    demo.write_text(demo.read_text().replace("Ipf_Job_Order>", "Ipf_Task_Table>"))
    run = run_ipf(demo)
    assert_failed(run, ExitCode.JOB_ORDER_READ_ERROR, str(demo), "/Ipf_Task_Table",
                  "expected <Ipf_Job_Order>", job_dir=demo.parent)


def test_missing_element(demo):
    edit_xml(demo, {f"{CONF}/Stdout_Log_Level": None})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.JOB_ORDER_READ_ERROR, str(demo), "Ipf_Conf", "Stdout_Log_Level",
                  job_dir=demo.parent)


def test_wrong_type(demo):
    edit_xml(demo, {f"{CONF}/Test": "maybe"})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.JOB_ORDER_READ_ERROR, str(demo), f"{CONF}/Test", "'maybe'",
                  job_dir=demo.parent)


def test_wrong_parameter_type(demo):
    set_param(demo, "DEMO_SCALE", "two")
    run = run_ipf(demo)
    assert_failed(run, ExitCode.JOB_ORDER_READ_ERROR, str(demo),
                  f"{CONF}/Dynamic_Processing_Parameters/Processing_Parameter[1]/Value",
                  "DEMO_SCALE", "Number", job_dir=demo.parent)


def test_unknown_processor(demo):
    edit_xml(demo, {f"{CONF}/Processor_Name": "S2IPF_NOPE"})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.UNKNOWN_PROCESSOR, str(demo), f"{CONF}/Processor_Name",
                  "'S2IPF_NOPE'", job_dir=demo.parent)


def test_unknown_task(demo):
    edit_xml(demo, {"//Ipf_Proc[2]/Task_Name": "DEMO_UNKNOWN"})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.UNKNOWN_PROCESSOR, str(demo), "Ipf_Proc[2]/Task_Name",
                  "DEMO_UNKNOWN", job_dir=demo.parent)


def test_missing_mandatory_input(demo):
    (demo.parent / "demo" / "values.txt").unlink()
    run = run_ipf(demo)
    assert_failed(run, ExitCode.MISSING_MANDATORY_FILE, str(demo),
                  "Ipf_Proc[1]/List_of_Inputs/Input/List_of_File_Names/File_Name[1]", "values.txt",
                  job_dir=demo.parent)


def test_mandatory_input_not_given(demo):
    edit_xml(demo, {"//Ipf_Proc[1]/List_of_Inputs/Input/File_Type": "OTHER_TYPE"})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.MISSING_MANDATORY_FILE, "Ipf_Proc[1]/List_of_Inputs",
                  "DEMO_GENERATE needs an input of type DEMO_INPUT", job_dir=demo.parent)


def test_output_dir_not_writable(demo):
    (demo.parent / "output").write_text("a file where the output directory should be\n")
    run = run_ipf(demo)
    assert_failed(run, ExitCode.OUTPUT_ERROR, str(demo),
                  "Ipf_Proc[1]/List_of_Outputs/Output/File_Name", "cannot write output")
    assert (demo.parent / "output").read_text().startswith("a file")
    assert outputs(demo.parent) == [demo.parent / "output"]


def test_existing_output_is_not_overwritten(demo):
    product = demo.parent / "output" / "S2A_OPER_DEMO_L1_20260601T103000"
    product.mkdir(parents=True)
    (product / "keep.txt").write_text("earlier product\n")
    run = run_ipf(demo)
    assert_failed(run, ExitCode.OUTPUT_ERROR, "already exists")
    assert [p.name for p in product.iterdir()] == ["keep.txt"]


def test_xxe_payload(demo):
    secret = demo.parent / "demo" / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    text = demo.read_text().replace(
        "<Ipf_Job_Order>",
        f'<!DOCTYPE Ipf_Job_Order [<!ENTITY xxe SYSTEM "file://{secret}">]>\n<Ipf_Job_Order>', 1)
    demo.write_text(text.replace("<Processing_Station>S2IP", "<Processing_Station>&xxe;"))
    run = run_ipf(demo)
    assert_failed(run, ExitCode.JOB_ORDER_READ_ERROR, str(demo), "DTD", job_dir=demo.parent)
    assert "TOP-SECRET-VALUE" not in run.stdout + run.stderr


def test_billion_laughs(demo):
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
    text = demo.read_text().replace("<Ipf_Job_Order>",
                                    f"<!DOCTYPE Ipf_Job_Order [{entities}]>\n<Ipf_Job_Order>", 1)
    demo.write_text(text.replace("<Processing_Station>S2IP", "<Processing_Station>&lol9;"))
    t0 = time.monotonic()
    run = run_ipf(demo, timeout=20)
    assert time.monotonic() - t0 < 10
    assert_failed(run, ExitCode.JOB_ORDER_READ_ERROR, str(demo), "DTD", job_dir=demo.parent)


def test_oversized_job_order(demo):
    run = run_ipf(demo, env={"IPF_MAX_XML_BYTES": "1000"})
    assert_failed(run, ExitCode.JOB_ORDER_READ_ERROR, str(demo), "larger than the 1000-byte limit",
                  job_dir=demo.parent)


def test_missing_job_order(tmp_path):
    run = run_ipf(tmp_path / "nope.xml")
    assert_failed(run, ExitCode.JOB_ORDER_READ_ERROR, "nope.xml", "cannot read")


def test_task_table_without_file_name(demo, tables):
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml", {"//Task[Name='DEMO_REPORT']/File_Name": None})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.XML_ERROR, "TaskTable_S2IPF_DEMO_01.00.xml",
                  "/Ipf_Task_Table/List_of_Pools/Pool[2]/List_of_Tasks/Task", "File_Name",
                  job_dir=demo.parent)


def test_task_table_unknown_entry_point(demo, tables):
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml",
             {"//Task[Name='DEMO_REPORT']/File_Name": "ipf.tasks.nonexistent:report"})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.XML_ERROR, "Pool[2]/List_of_Tasks/Task/File_Name",
                  "ipf.tasks.nonexistent", job_dir=demo.parent)


@pytest.mark.parametrize("entry", ["ipf.processors.demo.tasks:__all__",
                                   "ipf.interface.staging:container_name",
                                   "ipf.interface.errors:_rebuild"])
def test_entry_point_that_is_not_a_task(demo, tables, entry):
    """An entry point that names a list, a function of two arguments or of one argument annotated
    as something else than a TaskContext is a task-table error naming the File_Name, not an
    unexpected TypeError or AttributeError."""
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml", {"//Task[Name='DEMO_REPORT']/File_Name": entry})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.XML_ERROR, "Pool[2]/List_of_Tasks/Task/File_Name", "is not a task",
                  job_dir=demo.parent)


def test_task_that_crashes(demo):
    set_param(demo, "DEMO_FAIL", "true")
    run = run_ipf(demo)
    assert run.code == ExitCode.UNEXPECTED_EXCEPTION
    errors = run.lines("stderr", "E")
    (saved,) = (demo.parent / "output").glob("IPF_TRACEBACK_DEMO_GENERATE_*.txt")
    assert ("DEMO_GENERATE: unexpected RuntimeError: DEMO_FAIL is set: failing on purpose "
            f"(traceback in {saved})") in errors
    assert outputs(demo.parent) == [demo.parent / "output", saved] and leftovers(demo.parent) == []


def test_not_enough_disk_space(demo, tables):
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml", {"/Ipf_Task_Table/Min_Disk_Space": "999999999"})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.DISK_FULL, "TaskTable_S2IPF_DEMO_01.00.xml",
                  "/Ipf_Task_Table/Min_Disk_Space", "MB free", job_dir=demo.parent)


def test_test_table_refuses_operational_job(demo, tables):
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml", {"/Ipf_Task_Table/Test": "true"})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.JOB_ORDER_READ_ERROR, f"{CONF}/Test", "test table",
                  job_dir=demo.parent)
    edit_xml(demo, {f"{CONF}/Test": "true"})
    assert run_ipf(demo).code == 0


def test_task_past_max_time(demo, tables):
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml", {"/Ipf_Task_Table/Max_Time": "1"})
    set_param(demo, "DEMO_SLEEP", "30")
    t0 = time.monotonic()
    run = run_ipf(demo)
    assert time.monotonic() - t0 < 15
    assert run.code == ExitCode.MAX_TIME_EXCEEDED
    assert any("Max_Time of 1 s exceeded" in e for e in run.lines("stderr", "E"))
    assert outputs(demo.parent) == [] and leftovers(demo.parent) == []


def _start(job, env=None):
    return subprocess.Popen([str(IPF), str(job)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})}, cwd=job.parent)


def _wait_for(proc, needle, timeout=20):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} not seen in {seen}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_task(demo, signum):
    set_param(demo, "DEMO_SLEEP", "30")
    proc = _start(demo)
    _wait_for(proc, "[P] ")
    t0 = time.monotonic()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=15)
    assert time.monotonic() - t0 < 5
    assert proc.returncode == ExitCode.PREMATURE_TERMINATION
    assert f"received {signal.Signals(signum).name}" in err
    assert LINE.match(err.splitlines()[-1]), err
    assert outputs(demo.parent) == [] and leftovers(demo.parent) == []


def test_second_signal_ends_at_once(demo, tables, tmp_path):
    """The second task ignores SIGTERM; the second signal ends ipf at once, kills the task and
    takes the first task's committed product out of its place."""
    pidfile = tmp_path / "child.pid"
    script = tmp_path / "stubborn.sh"
    script.write_text(f"#!/bin/sh\ntrap '' TERM\necho $$ > {pidfile}\n"
                      "while true; do sleep 0.1; done\n")
    script.chmod(0o755)
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml",
             {"//Task[Name='DEMO_REPORT']/File_Name": str(script)})
    proc = _start(demo, env={"IPF_KILL_GRACE": "60"})
    _wait_for(proc, "DEMO_REPORT: start of task")
    deadline = time.monotonic() + 10
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pidfile.read_text())
    assert (demo.parent / "output" / PRODUCT / "values.txt").exists()  # committed by task 1
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert proc.poll() is None  # still waiting for the stubborn task
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=10)
    assert time.monotonic() - t0 < 3
    assert proc.returncode == ExitCode.PREMATURE_TERMINATION
    time.sleep(0.2)
    assert not _running(child)
    # only hidden staging/removed directories may remain: never a product where one is expected
    left = sorted(p.name for p in (demo.parent / "output").iterdir())
    assert left == [f".ipf-partial-{proc.pid}-{REPORT}", f".ipf-partial-{proc.pid}-removed-{PRODUCT}"]


def _running(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie waiting for an init that does not reap."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_impossible_date(demo):
    edit_xml(demo, {f"{CONF}/Sensing_Time/Start": "2026-13-01T10:30:00Z"})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.JOB_ORDER_READ_ERROR, str(demo), f"{CONF}/Sensing_Time/Start",
                  "not a valid time", job_dir=demo.parent)


def test_huge_max_time_rejected(demo, tables):
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml", {"/Ipf_Task_Table/Max_Time": "100000000000"})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.XML_ERROR, "/Ipf_Task_Table/Max_Time", job_dir=demo.parent)


def test_outputs_of_two_tasks_collide(demo):
    edit_xml(demo, {"//Ipf_Proc[2]/List_of_Outputs/Output/File_Name": f"output/{PRODUCT}/r.xml"})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.OUTPUT_ERROR, "Ipf_Proc[2]/List_of_Outputs/Output/File_Name",
                  "collides with", "DEMO_GENERATE", job_dir=demo.parent)


def test_two_outputs_of_one_type(demo):
    text = demo.read_text().replace(
        "</List_of_Outputs>", "<Output><File_Type>DEMO_L1</File_Type><File_Name_Type>Directory"
        "</File_Name_Type><File_Name>output/COPY</File_Name></Output></List_of_Outputs>", 1)
    demo.write_text(text.replace('<List_of_Outputs count="1">', "<List_of_Outputs>", 1))
    run = run_ipf(demo)
    assert_failed(run, ExitCode.JOB_ORDER_READ_ERROR, "Ipf_Proc[1]/List_of_Outputs/Output[2]",
                  "2 Outputs of type DEMO_L1", job_dir=demo.parent)


def test_missing_entry_point_function(demo, tables):
    table = tables / "TaskTable_S2IPF_DEMO_01.00.xml"
    edit_xml(table, {"//Task[Name='DEMO_REPORT']/File_Name": "ipf.processors.demo.tasks:reprot"})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.XML_ERROR, "Pool[2]/List_of_Tasks/Task/File_Name",
                  "defines no function 'reprot'", job_dir=demo.parent)
    assert run_ipf("--check-tasktable", table).code == ExitCode.XML_ERROR


def test_output_name_too_long_to_stage(demo):
    edit_xml(demo, {"//Ipf_Proc[2]/List_of_Outputs/Output/File_Name": "output/" + "R" * 240})
    run = run_ipf(demo)
    assert_failed(run, ExitCode.OUTPUT_ERROR, "Ipf_Proc[2]/List_of_Outputs/Output/File_Name",
                  "too long", job_dir=demo.parent)


def test_usage_error_is_not_a_warning(demo):
    for args in (["--bogus", demo], []):
        run = run_ipf(*args)
        assert run.code == ExitCode.JOB_ORDER_READ_ERROR and "usage: ipf" in run.stderr


def test_invalid_renamed_table_is_reported(demo, tables):
    table = tables / "TaskTable_S2IPF_DEMO_01.00.xml"
    edit_xml(table, {"//Task[Name='DEMO_REPORT']/Critical": "perhaps"})
    table.rename(tables / "TaskTable_ops_copy.xml")
    run = run_ipf(demo)
    assert_failed(run, ExitCode.UNKNOWN_PROCESSOR, "invalid:", "TaskTable_ops_copy.xml", "Critical",
                  job_dir=demo.parent)


def test_signal_before_the_run_starts(demo, monkeypatch):
    """A signal received while ipf starts (imports, Job Order reading) ends the run with 129."""
    from ipf.interface import log, runtime
    from ipf.interface.executor import Executor

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        runtime.catch_early_signals()
        os.kill(os.getpid(), signal.SIGTERM)
        code = Executor(demo).run()
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        log.configure()
    assert code == ExitCode.PREMATURE_TERMINATION
    assert outputs(demo.parent) == []
