"""One thread per library by default, lazy imports, and disk-full handling in a task."""

import json
import os

from conftest import REPO, edit_xml, leftovers, outputs, run_ipf
from ipf.exitcodes import ExitCode

PRODUCT = "S2A_OPER_DEMO_L1_20260601T103000"
TEST_TASKS = {"PYTHONPATH": str(REPO / "tests")}


def _use(tables, function, demo):
    """Run ``tasks_for_tests:function`` as DEMO_GENERATE, alone."""
    edit_xml(demo, {"//Ipf_Proc[2]": None})
    demo.write_text(demo.read_text().replace('<List_of_Ipf_Procs count="2">', "<List_of_Ipf_Procs>"))
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml",
             {"//Task[Name='DEMO_GENERATE']/File_Name": f"tasks_for_tests:{function}"})


def _clean_env(monkeypatch):
    for k in ("NUMBA_NUM_THREADS", "GDAL_NUM_THREADS", "OMP_NUM_THREADS", "OPJ_NUM_THREADS",
              "NUMBA_CACHE_DIR", "IPF_NUM_THREADS", "IPF_NUMBA_CACHE_DIR"):
        monkeypatch.delenv(k, raising=False)


def test_one_thread_and_lazy_imports(demo, tables, monkeypatch, tmp_path):
    _clean_env(monkeypatch)
    _use(tables, "environment", demo)
    run = run_ipf(demo, env={**TEST_TASKS, "IPF_NUMBA_CACHE_DIR": str(tmp_path / "nc")})
    assert run.code == 0, run.stderr
    env = json.loads((demo.parent / "output" / PRODUCT / "env.json").read_text())
    assert env == {"NUMBA_NUM_THREADS": "1", "GDAL_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                   "OPJ_NUM_THREADS": "1", "NUMBA_CACHE_DIR": str(tmp_path / "nc"), "imported": []}


def test_thread_configuration_wins(demo, tables, monkeypatch):
    _clean_env(monkeypatch)
    _use(tables, "environment", demo)
    run = run_ipf(demo, env={**TEST_TASKS, "IPF_NUM_THREADS": "2", "GDAL_NUM_THREADS": "3"})
    assert run.code == 0, run.stderr
    env = json.loads((demo.parent / "output" / PRODUCT / "env.json").read_text())
    assert (env["NUMBA_NUM_THREADS"], env["GDAL_NUM_THREADS"]) == ("2", "3")


def test_disk_full_in_task(demo, tables):
    _use(tables, "disk_full", demo)
    run = run_ipf(demo, env=TEST_TASKS)
    assert run.code == ExitCode.DISK_FULL
    assert any("No space left on device" in e for e in run.lines("stderr", "E"))
    assert outputs(demo.parent) == [] and leftovers(demo.parent) == []
