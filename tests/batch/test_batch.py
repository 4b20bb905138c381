"""``ipf-batch``: Job Orders on a Dask LocalCluster (exit codes, logs, retries, chains, summary)
and the spool service (claims, done/failed, SIGKILL recovery, SIGTERM drain)."""

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from tests.helpers import JOBORDERS, TASKTABLES, edit_xml, leftovers, set_param
from ipf.interface import joborder
from ipf.ops.batch import cli, policy
from ipf.ops.batch.attempt import clean_outputs
from ipf.ops.batch.jobs import collect
from ipf.ops.batch.runner import connect
from ipf.ops.batch.spool import Spool, SpoolBusy, locked
from ipf.interface.exitcodes import ExitCode

BIN = Path(sys.executable).parent
PRODUCT = "output/S2A_OPER_DEMO_L1_20260601T103000"
REPORT = "output/S2A_OPER_DEMO_REPORT_20260601T103000.xml"


@pytest.fixture(scope="module")
def scheduler():
    """The address of a LocalCluster of 2 single-thread worker processes."""
    with connect(workers=2) as client:
        yield client.scheduler.address


def demo_job(root: Path, name: str, *, absolute: bool = False, **params: str) -> Path:
    """A demo Job Order ``root/name/name.xml`` with its input; ``absolute`` file names for a spool."""
    d = root / name
    shutil.copytree(JOBORDERS / "demo", d / "demo")
    job = d / f"{name}.xml"
    shutil.copy(JOBORDERS / "JobOrder.S2IPF_DEMO.xml", job)
    for key, value in params.items():
        set_param(job, key, value)
    if absolute:
        joborder.write(joborder.read(job), job)
    return job


def batch(*argv: str) -> tuple[int, dict]:
    """``ipf-batch run ARGV`` in this process; its exit code and JSON summary."""
    summary = Path(argv[argv.index("--summary") + 1])
    return cli.main(["run", *argv]), json.loads(summary.read_text())


def by_id(summary: dict) -> dict:
    return {r["id"]: r for r in summary["results"]}


# ------------------------------------------------------------------------------- exit codes

def test_policy_retries_what_a_new_run_can_change():
    assert policy.succeeded(0) and not policy.succeeded(ExitCode.PROCESSING_WARNING)
    assert policy.succeeded(ExitCode.PROCESSING_WARNING, warnings_ok=True)
    assert not policy.succeeded(ExitCode.PROCESSING_ERROR, warnings_ok=True)
    assert not policy.succeeded(None, warnings_ok=True)
    for code in (ExitCode.PREMATURE_TERMINATION, ExitCode.OUT_OF_MEMORY, ExitCode.DISK_FULL,
                 ExitCode.UNEXPECTED_EXCEPTION, ExitCode.MAX_TIME_EXCEEDED,
                 ExitCode.PROCESSING_ERROR, -signal.SIGKILL, 200):
        assert policy.retryable(code), code
    for code in (0, ExitCode.XML_WARNING, ExitCode.PROCESSING_WARNING, None,
                 ExitCode.JOB_ORDER_READ_ERROR, ExitCode.XML_ERROR,
                 ExitCode.MISSING_MANDATORY_FILE, ExitCode.UNKNOWN_PROCESSOR, ExitCode.OUTPUT_ERROR):
        assert not policy.retryable(code), code
    assert policy.name(-9) == "SIGKILL" and policy.name(148) == "PROCESSING_ERROR"


# ------------------------------------------------------------------------------ collecting

def test_collect_chains_directories_lists_and_files(tmp_path):
    scene = tmp_path / "scene"
    scene.mkdir()
    for name in ("JobOrder_L1B.xml", "JobOrder_L0.xml", "JobOrder_L1C_T31TEJ.xml", "JobOrder_L1A.xml"):
        shutil.copy(JOBORDERS / "JobOrder.S2IPF_DEMO.xml", scene / name)
    shutil.copy(TASKTABLES / "demo" / "TaskTable_S2IPF_DEMO_01.00.xml", scene)
    (scene / "broken.xml").write_text("<Ipf_Job_Order>")
    alone = demo_job(tmp_path, "alone")
    listed = tmp_path / "jobs.txt"
    listed.write_text(f"# two chains\nscene/JobOrder_L0.xml\n{alone}\n\n\nscene/JobOrder_L1A.xml\n")

    chains = collect([str(scene), str(alone), str(listed)], tmp_path / "logs")
    assert [[j.id for j in c] for c in chains] == [
        ["scene/JobOrder_L0", "scene/JobOrder_L1A", "scene/JobOrder_L1B",
         "scene/JobOrder_L1C_T31TEJ", "scene/broken"],
        ["alone"],
        ["jobs-1/JobOrder_L0", "jobs-1/alone"], ["jobs-2/JobOrder_L1A"]]
    assert chains[0][0].job_order == scene / "JobOrder_L0.xml"
    assert chains[0][0].log == tmp_path / "logs" / "scene" / "JobOrder_L0.log"

    flat = collect([str(scene), str(scene)], tmp_path / "logs", independent=True)
    assert len(flat) == 10 and all(len(c) == 1 for c in flat)
    assert len({c[0].id for c in flat}) == 10 and flat[5][0].id == "scene/JobOrder_L0~2"
    with pytest.raises(ValueError, match="missing"):
        collect([str(tmp_path / "missing")], tmp_path)


def test_clean_outputs_removes_outputs_and_staging(tmp_path):
    job = demo_job(tmp_path, "j")
    out = job.parent / "output"
    (out / ".ipf-partial-123-S2A_OPER_DEMO_L1_20260601T103000" / "x").mkdir(parents=True)
    (job.parent / PRODUCT).mkdir()
    (job.parent / REPORT).write_text("old")
    (out / ".ipf-partial-9-other").mkdir()
    (out / "keep.txt").write_text("not an output")
    removed = clean_outputs(job)
    assert len(removed) == 3
    assert sorted(p.name for p in out.iterdir()) == [".ipf-partial-9-other", "keep.txt"]
    assert clean_outputs(tmp_path / "nothing.xml") == []


# ------------------------------------------------------------------------------------ run

def test_batch_of_demo_jobs_with_retries_and_a_failure(tmp_path, scheduler, capsys):
    jobs = [demo_job(tmp_path, f"ok{n}") for n in range(3)]
    failing = demo_job(tmp_path, "bad", DEMO_FAIL="true")
    code, summary = batch(*map(str, jobs), str(failing), "--scheduler", scheduler,
                          "--retries", "1", "--log-dir", str(tmp_path / "logs"),
                          "--summary", str(tmp_path / "summary.json"))
    assert code == policy.EXIT_JOBS_FAILED
    assert {k: summary[k] for k in ("jobs", "ok", "failed", "skipped", "retried", "attempts")} == \
        {"jobs": 4, "ok": 3, "failed": 1, "skipped": 0, "retried": 1, "attempts": 5}
    results = by_id(summary)
    assert [r["id"] for r in summary["results"]] == ["ok0", "ok1", "ok2", "bad"]
    for n, job in enumerate(jobs):
        r = results[f"ok{n}"]
        assert (r["status"], r["exit_code"], r["attempts"]) == ("ok", 0, 1)
        assert (job.parent / REPORT).is_file()
        log = Path(r["log"]).read_text()
        assert "end of processing: OK (0)" in log and log.count("ipf-batch: run ") == 1
    bad = results["bad"]
    assert (bad["status"], bad["exit_code"], bad["exit_name"], bad["attempts"]) == \
        ("failed", ExitCode.UNEXPECTED_EXCEPTION, "UNEXPECTED_EXCEPTION", 2)
    assert bad["wall_time_s"] > 0 and bad["log"] == str(tmp_path / "logs" / "bad.log")
    log = Path(bad["log"]).read_text()
    assert log.count("ipf-batch: run ") == 2 and log.count("DEMO_FAIL is set: failing on purpose") >= 2
    assert not (failing.parent / "output").exists() or leftovers(failing.parent) == []
    out = capsys.readouterr().out
    assert "ipf-batch: 4 jobs, 3 ok, 1 failed, 0 skipped, 1 retried;" in out
    assert "failed  bad: exit 131 UNEXPECTED_EXCEPTION, 2 attempts" in out


def test_permanent_errors_and_warnings_are_not_retried_and_stop_a_chain(tmp_path, scheduler):
    chain = tmp_path / "chain"
    chain.mkdir()
    first = demo_job(tmp_path, "a_first", absolute=True)
    edit_xml(first, {"//Processor_Name": "S2IPF_NOWHERE"})
    second = demo_job(tmp_path, "b_second", absolute=True)
    for job in (first, second):
        shutil.copy(job, chain)
    warning = demo_job(tmp_path, "warn")
    warning.write_text(warning.read_text().replace('<List_of_Ipf_Procs count="2">',
                                                   '<List_of_Ipf_Procs count="3">'))
    code, summary = batch(str(chain), str(warning), "--scheduler", scheduler, "--retries", "2",
                          "--log-dir", str(tmp_path / "logs"), "--summary", str(tmp_path / "s.json"))
    assert code == policy.EXIT_JOBS_FAILED
    r = by_id(summary)
    assert (r["chain/a_first"]["status"], r["chain/a_first"]["exit_code"],
            r["chain/a_first"]["attempts"]) == ("failed", ExitCode.UNKNOWN_PROCESSOR, 1)
    assert (r["chain/b_second"]["status"], r["chain/b_second"]["attempts"]) == ("skipped", 0)
    assert not Path(r["chain/b_second"]["log"]).exists()
    assert not (second.parent / "output").exists()
    assert (r["warn"]["status"], r["warn"]["exit_code"], r["warn"]["attempts"]) == \
        ("failed", ExitCode.XML_WARNING, 1)
    assert (summary["failed"], summary["skipped"], summary["retried"]) == (2, 1, 0)

    shutil.rmtree(warning.parent / "output")
    code, summary = batch(str(warning), "--scheduler", scheduler, "--warnings-as-success",
                          "--log-dir", str(tmp_path / "logs2"), "--summary", str(tmp_path / "w.json"))
    assert code == policy.EXIT_OK
    assert (summary["ok"], summary["results"][0]["exit_code"]) == (1, ExitCode.XML_WARNING)


def test_small_scene_chain_gives_the_products_of_direct_runs(tmp_path, scheduler, l1b_scene):
    """The L0, L1A and L1B Job Orders of the session's small scene as a chain on the cluster,
    against the products of their direct runs (``l1b_scene``, which must have exited 0)."""
    sim = tmp_path / "sim"
    shutil.copytree(l1b_scene.input, sim)
    direct = l1b_scene.after_l1b
    chain = sim / "chain"  # a sibling of joborders/: the same relative file names hold
    chain.mkdir()
    levels = ("L0", "L1A", "L1B")
    for level in levels:
        shutil.copy(sim / "joborders" / f"JobOrder_{level}.xml", chain)
    code, summary = batch(str(chain), "--scheduler", scheduler, "--retries", "0",
                          "--log-dir", str(tmp_path / "logs"), "--summary", str(tmp_path / "s.json"))
    assert [l1b_scene.runs[level].returncode for level in levels] == [0, 0, 0]
    assert code == policy.EXIT_OK, summary
    assert [r["id"] for r in summary["results"]] == [f"chain/JobOrder_{lv}" for lv in levels]
    assert all(r["exit_code"] == 0 and r["attempts"] == 1 for r in summary["results"])
    made = sorted(p.relative_to(sim) for p in (sim / "products").rglob("*") if p.is_file())
    expected = sorted(p.relative_to(direct) for p in (direct / "products").rglob("*") if p.is_file())
    assert made == expected and any(p.name.startswith("radiance_") for p in made)
    for rel in made:
        if rel.suffix == ".npy":
            assert (sim / rel).read_bytes() == (direct / rel).read_bytes(), rel


# ---------------------------------------------------------------------------------- spool

@contextmanager
def daemon(spool: Path, *args: str):
    """``ipf-batch watch SPOOL`` as a child process, killed (with its cluster) if still running."""
    out = open(spool.parent / f"daemon-{time.monotonic_ns()}.out", "w+")
    proc = subprocess.Popen([str(BIN / "ipf-batch"), "watch", str(spool), "--poll", "0.2", *args],
                            stdout=out, stderr=subprocess.STDOUT)
    proc.output = out
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        out.close()


def wait_for(condition, what: str, timeout: float = 60.0, proc=None):
    end = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            proc.output.seek(0)
            pytest.fail(f"daemon exited ({proc.returncode}) waiting for {what}:\n{proc.output.read()}")
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def drop(job: Path, spool: Path, name: str) -> Path:
    """Drop ``job`` into the spool as a producer should: a temporary name, then a rename."""
    tmp = spool / f".{name}.tmp"
    shutil.copy(job, tmp)
    os.rename(tmp, spool / f"{name}.xml")
    return spool / f"{name}.xml"


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def records(d: Path) -> dict:
    return {p.stem: json.loads(p.read_text()) for p in d.glob("*.json")}


def test_spool_state_on_disk(tmp_path):
    s = Spool(tmp_path / "spool")
    for name in ("a.xml", "a.log", "b.xml", "b.log"):
        (s.running / name).write_text(name)
    (s.running / "a.json").write_text(json.dumps({"status": "ok"}))
    assert s.recover() == [s.running / "b.xml"]  # a ended before the crash; b was interrupted
    assert sorted(p.name for p in s.done.iterdir()) == ["a.json", "a.log", "a.xml"]

    with open(s.running / "b.xml", "rb") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        assert locked(s.running / "b.xml")  # an ipf still running it somewhere
    assert not locked(s.running / "b.xml") and not locked(s.running / "gone.xml")

    (s.root / "a.xml").write_text("again")
    assert s.claim(s.root / "a.xml") == s.running / "a~2.xml"
    assert s.claim(s.root / "a.xml") is None
    with s.served():
        with pytest.raises(SpoolBusy):
            with Spool(s.root).served():
                pass


def test_spool_runs_dropped_jobs_into_done_and_failed(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    ok = demo_job(tmp_path, "ok", absolute=True)
    bad = demo_job(tmp_path, "bad", absolute=True, DEMO_FAIL="true")
    (spool / "partial.xml.part").write_text("<Ipf_Job_Order>")  # still being written
    with daemon(spool, "--workers", "2", "--retries", "1") as proc:
        drop(ok, spool, "ok")
        drop(bad, spool, "bad")
        s = Spool(spool)
        wait_for(lambda: len(records(s.done)) + len(records(s.failed)) == 2, "two jobs", proc=proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    done, failed = records(s.done), records(s.failed)
    assert list(done) == ["ok"] and list(failed) == ["bad"]
    assert (done["ok"]["exit_code"], done["ok"]["attempts"], done["ok"]["recovered"]) == (0, 1, False)
    assert (failed["bad"]["exit_code"], failed["bad"]["attempts"]) == (ExitCode.UNEXPECTED_EXCEPTION, 2)
    assert sorted(p.name for p in s.done.iterdir()) == ["ok.json", "ok.log", "ok.xml"]
    assert sorted(p.name for p in s.failed.iterdir()) == ["bad.json", "bad.log", "bad.xml"]
    assert "end of processing: OK (0)" in (s.done / "ok.log").read_text()
    assert "DEMO_FAIL is set" in (s.failed / "bad.log").read_text()
    assert done["ok"]["log"] == str(s.done / "ok.log")
    assert (ok.parent / REPORT).is_file() and list(s.running.iterdir()) == []
    assert sorted(p.name for p in spool.iterdir() if not p.name.startswith(".")) == \
        ["done", "failed", "partial.xml.part", "running"]

    drop(ok, spool, "ok")  # the same name again: claimed as ok~2, fails (its outputs exist)
    with daemon(spool, "--workers", "1") as proc:
        wait_for(lambda: "ok~2" in records(s.failed), "ok~2", proc=proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert records(s.failed)["ok~2"]["exit_code"] == ExitCode.OUTPUT_ERROR
    assert list(records(s.done)) == ["ok"]


def test_spool_recovers_a_job_killed_with_sigkill_and_drains_on_sigterm(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    slow = demo_job(tmp_path, "slow", absolute=True, DEMO_SLEEP="3")
    nxt = demo_job(tmp_path, "next", absolute=True)
    s = Spool(spool)
    log = s.running / "slow.log"

    def started(attempt: int) -> bool:
        runs = log.read_text().split("ipf-batch: run ") if log.exists() else []
        return len(runs) == attempt + 1 and "generating" in runs[-1]

    with daemon(spool, "--workers", "1", "--retries", "0") as proc:
        drop(slow, spool, "slow")
        wait_for(lambda: started(1), "the slow job to start", proc=proc)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert any(str(s.running / "slow.xml") in c.cmdline() for c in children)  # the ipf
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    wait_for(lambda: not any(alive(c.pid) for c in children),
             "the workers and the ipf of the killed daemon to end", timeout=30)
    assert (s.running / "slow.xml").exists() and records(s.done) == {} == records(s.failed)
    partial = list((slow.parent / "output").glob(".ipf-partial-*"))
    assert partial, "ipf killed in its first task leaves its staging directory"

    with daemon(spool, "--workers", "1", "--retries", "0") as proc:
        wait_for(lambda: started(2), "the slow job to run again", proc=proc)
        drop(nxt, spool, "next")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    done = records(s.done)
    assert list(done) == ["slow"] and records(s.failed) == {}
    assert (done["slow"]["exit_code"], done["slow"]["attempts"], done["slow"]["recovered"]) == \
        (0, 1, True)
    assert done["slow"]["cleaned"] == [str(p) for p in partial]
    text = (s.done / "slow.log").read_text()
    assert text.count("end of processing: OK (0)") == 1 and f"removed {partial[0]}" in text
    assert (slow.parent / REPORT).is_file()
    assert sorted(p.name for p in (slow.parent / PRODUCT).iterdir()) == ["manifest.json", "values.txt"]
    assert leftovers(slow.parent) == []
    assert list(s.running.iterdir()) == [] and (spool / "next.xml").exists()
