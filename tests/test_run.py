"""The demo processor end to end through ``ipf JobOrder.xml``: products, logs, exit codes."""

import hashlib
import json
import shutil
import sys

from lxml import etree

from tests.helpers import LINE, edit_xml, leftovers, outputs, run_ipf, set_param
from ipf.interface.exitcodes import ExitCode

PRODUCT = "S2A_OPER_DEMO_L1_20260601T103000"
REPORT = "S2A_OPER_DEMO_REPORT_20260601T103000.xml"


def test_demo_end_to_end(demo):
    run = run_ipf(demo)
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines and all(LINE.match(line) for line in lines), run.stdout
    m = LINE.match(lines[0])
    assert (m.group(3), m.group(4)) == ("S2IPF_DEMO", "01.00")
    levels = {LINE.match(line).group(6) for line in lines}
    assert levels == {"I", "P"}  # Stdout_Log_Level INFO, nothing went wrong
    assert run.stderr == ""  # Stderr_Log_Level WARNING
    progress = run.lines("stdout", "P")
    assert progress[0].startswith("0% DEMO_GENERATE:") and progress[-1].startswith("100% DEMO_GENERATE:")
    info = run.lines("stdout", "I")
    assert "DEMO_GENERATE: start of task 01.00.00 (1/2, critical)" in info
    assert "end of processing: OK (0)" in info[-1]

    product = demo.parent / "output" / PRODUCT
    values = [float(v) for v in (product / "values.txt").read_text().split()]
    assert values == [2.5, 5.0, 8.75, -10.0, 25.0]  # demo/values.txt scaled by DEMO_SCALE 2.5
    manifest = json.loads((product / "manifest.json").read_text())
    assert manifest["files"]["values.txt"] == hashlib.sha256((product / "values.txt").read_bytes()).hexdigest()
    report = etree.parse(str(demo.parent / "output" / REPORT)).getroot()
    assert report.findtext("Count") == "5" and float(report.findtext("Mean")) == 6.25
    assert leftovers(demo.parent) == []
    assert not (demo.parent / "breakpoints").exists()


def test_same_inputs_give_identical_outputs(demo, tmp_path_factory):
    other = tmp_path_factory.mktemp("again")
    other.rmdir()
    shutil.copytree(demo.parent, other)
    assert run_ipf(demo).code == 0 and run_ipf(other / demo.name).code == 0
    a, b = outputs(demo.parent), outputs(other)
    assert [p.relative_to(demo.parent) for p in a] == [p.relative_to(other) for p in b]
    for pa, pb in zip(a, b):
        assert pa.is_dir() or pa.read_bytes() == pb.read_bytes()


def test_log_levels_filter_streams(demo):
    edit_xml(demo, {"//Stdout_Log_Level": "WARNING", "//Stderr_Log_Level": "ERROR"})
    run = run_ipf(demo)
    assert run.code == 0 and run.stdout == "" and run.stderr == ""
    shutil.rmtree(demo.parent / "output")
    edit_xml(demo, {"//Stdout_Log_Level": "DEBUG", "//Stderr_Log_Level": "ERROR"})
    set_param(demo, "DEMO_FAIL", "true")  # a crash: its traceback is logged at DEBUG
    run = run_ipf(demo)
    assert run.code == ExitCode.UNEXPECTED_EXCEPTION
    assert any(line.startswith("DEMO_GENERATE: Traceback") for line in run.lines("stdout", "D"))
    assert run.lines("stderr", "E") and not run.lines("stderr", "W") and not run.lines("stderr", "D")
    levels = {LINE.match(line).group(6) for line in run.stdout.splitlines()}
    assert levels == {"D", "I", "P", "E"}


def test_no_duplicates_for_merged_streams(demo):
    edit_xml(demo, {"//Stdout_Log_Level": "INFO", "//Stderr_Log_Level": "WARNING"})
    set_param(demo, "UNDECLARED", "x")  # gives one warning
    run = run_ipf(demo, env={"IPF_LOG_NO_DUPLICATES": "1"})
    assert run.code == 0
    assert run.lines("stderr", "W") and not run.lines("stdout", "W")


def test_json_logs(demo):
    run = run_ipf("--log-json", demo)
    assert run.code == 0
    events = [json.loads(line) for line in run.stdout.splitlines()]
    assert {e["level"] for e in events} == {"info", "progress"}
    assert all(e["processor"] == "S2IPF_DEMO" and e["version"] == "01.00" for e in events)
    assert any(e.get("percent") == 100.0 and e.get("task") == "DEMO_GENERATE" for e in events)


def test_warning_exit_code_and_prosEO_switch(demo):
    text = demo.read_text().replace('<List_of_Ipf_Procs count="2">', '<List_of_Ipf_Procs count="3">')
    demo.write_text(text)
    run = run_ipf(demo)
    assert run.code == ExitCode.XML_WARNING
    assert any("@count is 3 but it holds 2" in w for w in run.lines("stderr", "W"))
    shutil.rmtree(demo.parent / "output")
    assert run_ipf(demo, env={"IPF_WARNINGS_AS_SUCCESS": "1"}).code == 0
    shutil.rmtree(demo.parent / "output")
    assert run_ipf("--warnings-as-success", demo).code == 0


def test_breakpoints(demo, tmp_path):
    edit_xml(demo, {"//Breakpoint_Enable": "true"})
    run = run_ipf(demo, cwd=tmp_path)
    assert run.code == 0, run.stderr
    brk = tmp_path / "breakpoints" / "DEMO_GENERATE" / "DEMO_GENERATE_SCALED"
    assert json.loads(brk.read_text()) == {"input": str(demo.parent / "demo" / "values.txt"),
                                           "scale": 2.5, "n": 5}


def test_breakpoint_path_from_job_order(tmp_path):
    """The GMES sample names its breakpoint file; paths rewritten to this temporary directory."""
    from tests.helpers import SAMPLES

    text = (SAMPLES / "JobOrder.GMES_1_1.xml").read_text().replace("/proseo/", f"{tmp_path}/")
    job = tmp_path / "jo.xml"
    job.write_text(text)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "values.txt").write_text("1\n2\n")
    run = run_ipf(job)
    assert run.code == 0, run.stdout + run.stderr
    assert any("orderId is not declared" in w for w in run.lines("stdout", "W"))
    assert json.loads((tmp_path / "brk" / "scaled.json").read_text())["scale"] == 3.0
    assert (tmp_path / "out" / "DEMO_L1" / "values.txt").read_text() == "3.000000\n6.000000\n"


def test_per_task_job_order(demo):
    """S2 PDGS style: one Job Order per task; the second task's input made by a previous run."""
    assert run_ipf(demo).code == 0
    (demo.parent / "output" / REPORT).unlink()
    edit_xml(demo, {"//Ipf_Proc[1]": None})
    demo.write_text(demo.read_text().replace('<List_of_Ipf_Procs count="2">', "<List_of_Ipf_Procs>"))
    run = run_ipf(demo)
    assert run.code == 0, run.stderr
    assert [line for line in run.lines("stdout", "I") if "start of task" in line] == \
        ["DEMO_REPORT: start of task 01.00.00 (1/1, critical)"]
    assert (demo.parent / "output" / REPORT).exists()


def test_dry_run_prints_plan_and_runs_nothing(demo):
    run = run_ipf("--dry-run", demo)
    assert run.code == 0, run.stderr
    info = run.lines("stdout", "I")
    assert any(line.startswith("dry run: 2 task(s) of S2IPF_DEMO 01.00") for line in info)
    assert any("1. pool 1 task DEMO_GENERATE 01.00.00 critical level 1: ipf.processors.demo.tasks:generate"
               in line for line in info)
    assert any("(made by an earlier task)" in line for line in info)
    assert any("parameter DEMO_SCALE = 2.5" in line for line in info)
    assert not (demo.parent / "output").exists()


def _external_task(tmp_path, body: str):
    script = tmp_path / "task.py"
    script.write_text(f"#!{sys.executable}\nimport sys\n"
                      "from ipf.interface import joborder\n"
                      "job = joborder.read(sys.argv[1])\n"
                      "proc = job.procs[0]\n" + body)
    script.chmod(0o755)
    return script


def test_external_executable_task(demo, tables, tmp_path):
    script = _external_task(tables, (
        "out = proc.output('REPORT').file_name\n"
        "assert '.ipf-partial-' in str(out), out\n"
        "out.write_text(f'external {proc.task_name} {len(job.procs)}\\n')\n"))
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml",
             {"//Task[Name='DEMO_REPORT']/File_Name": str(script)})
    run = run_ipf(demo)
    assert run.code == 0, run.stdout + run.stderr
    assert (demo.parent / "output" / REPORT).read_text() == "external DEMO_REPORT 1\n"
    assert leftovers(demo.parent) == []


def test_critical_failure_rolls_back_earlier_outputs(demo, tables, tmp_path):
    script = _external_task(tables, "proc.output('REPORT').file_name.write_text('half')\n"
                                      "sys.exit(130)\n")
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml",
             {"//Task[Name='DEMO_REPORT']/File_Name": str(script)})
    run = run_ipf(demo)
    assert run.code == ExitCode.PROCESSING_ERROR
    assert any("task.py exited with code 130" in e for e in run.lines("stderr", "E"))
    assert any("removed output" in w and PRODUCT in w for w in run.lines("stderr", "W"))
    assert outputs(demo.parent) == [] and leftovers(demo.parent) == []
    # nothing is left in the way: the same Job Order can be re-run once the task is fixed
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml",
             {"//Task[Name='DEMO_REPORT']/File_Name": "ipf.processors.demo.tasks:report"})
    assert run_ipf(demo).code == 0


def test_non_critical_failure_goes_on(demo, tables):
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml",
             {"//Task[Name='DEMO_GENERATE']/Critical": "false"})
    assert run_ipf(demo).code == 0
    shutil.move(demo.parent / "output" / PRODUCT, demo.parent / PRODUCT)
    shutil.rmtree(demo.parent / "output")
    set_param(demo, "DEMO_FAIL", "true")
    edit_xml(demo, {"//Ipf_Proc[2]/List_of_Inputs/Input/List_of_File_Names/File_Name": PRODUCT})
    run = run_ipf(demo)
    assert run.code == ExitCode.PROCESSING_WARNING, run.stderr
    errors = run.lines("stderr", "E")
    assert any("non-critical task DEMO_GENERATE failed" in e for e in errors)
    assert any("DEMO_REPORT: start of task" in i for i in run.lines("stdout", "I"))
    assert not (demo.parent / "output" / PRODUCT).exists()
    assert (demo.parent / "output" / REPORT).exists()


def test_empty_output_directory_is_accepted(demo):
    """prosEO creates the output directory empty before the run."""
    (demo.parent / "output" / PRODUCT).mkdir(parents=True)
    run = run_ipf(demo)
    assert run.code == 0, run.stderr
    assert (demo.parent / "output" / PRODUCT / "values.txt").exists()


def test_missing_working_directory_is_created(demo):
    text = demo.read_text().replace(
        "<List_of_Inputs count=\"1\">",
        "<List_of_Inputs><Input><File_Type>WORKING</File_Type><File_Name_Type>Directory"
        "</File_Name_Type><List_of_File_Names><File_Name>work/here</File_Name></List_of_File_Names>"
        "</Input>", 1)
    demo.write_text(text)
    edit_xml(demo, {"//Breakpoint_Enable": "true"})
    run = run_ipf(demo)
    assert run.code == 0, run.stderr
    assert (demo.parent / "work" / "here" / "breakpoints" / "DEMO_GENERATE" / "DEMO_GENERATE_SCALED").exists()


def test_run_summary_file(demo, tmp_path):
    summary = tmp_path / "summary.json"
    run = run_ipf(demo, env={"IPF_RUN_SUMMARY": str(summary)})
    assert run.code == 0, run.stderr
    s = json.loads(summary.read_text())
    assert s["exit_code"] == 0 and s["status"] == "OK" and s["processor"] == "S2IPF_DEMO"
    assert [t["task"] for t in s["tasks"]] == ["DEMO_GENERATE", "DEMO_REPORT"]
    assert all(t["seconds"] >= 0 for t in s["tasks"])
    failed = tmp_path / "failed.json"
    set_param(demo, "DEMO_FAIL", "true")
    shutil.rmtree(demo.parent / "output")
    run = run_ipf(demo, env={"IPF_RUN_SUMMARY": str(failed)})
    assert run.code != 0
    f = json.loads(failed.read_text())
    assert f["exit_code"] == run.code and f["tasks"][0]["status"] != "OK"
