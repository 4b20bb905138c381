"""One thread per library by default, lazy imports, and disk-full handling in a task."""

import json
import os
import subprocess
import sys

from tests.helpers import REPO, edit_xml, leftovers, outputs, run_ipf
from ipf.interface import runtime
from ipf.interface.exitcodes import ExitCode

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
                   "OPJ_NUM_THREADS": "1", "NUMBA_CACHE_DIR": str(tmp_path / "nc" / runtime.source_stamp()),
                   "imported": []}


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


KERNELS = """
import numpy as np
from ipf.interface import runtime
runtime.configure()
from ipf.radiometry.deconvolution import convolve_separable
from ipf.geometry.grid import LocationGrid
convolve_separable(np.ones((8, 8), np.float32), np.array([0.25, 0.5, 0.25]), np.array([0.25, 0.5, 0.25]))
g = np.arange(2 * 3 * 3, dtype=float).reshape(2, 3, 3)
LocationGrid(g, g.transpose(0, 2, 1).copy(), 0.0, 500.0, 0.0, 10.0, 0.0, 10.0).inverse([5.0], [5.0], [100.0])
"""


def test_kernels_with_helpers_are_compiled_once_per_source_state(monkeypatch, tmp_path):
    """A kernel calling another jitted function (convolve -> mirror, newton -> grid_point) is loaded
    from numba's cache by the next process, not compiled again, and its cache stays one entry."""
    _clean_env(monkeypatch)
    env = {**os.environ, "IPF_NUMBA_CACHE_DIR": str(tmp_path / "nc"), "NUMBA_DEBUG_CACHE": "1"}
    runs = [subprocess.run([sys.executable, "-c", KERNELS], env=env, capture_output=True, text=True, check=True)
            for _ in range(3)]
    saved = [r.stdout.count("data saved") for r in runs]
    assert saved[0] >= 2 and saved[1:] == [0, 0], saved
    assert all("data loaded" in r.stdout for r in runs[1:])
    (folder,) = (tmp_path / "nc").iterdir()
    assert folder.name == runtime.source_stamp()


def test_cache_folders_of_other_source_states_are_pruned_when_stale(tmp_path):
    import time

    old, recent, other = tmp_path / ("a" * 16), tmp_path / ("b" * 16), tmp_path / "geometry_1234"
    for folder in (old, recent, other):
        (folder / "kernels").mkdir(parents=True)
    stale = time.time() - (runtime.STALE_CACHE_DAYS + 1) * 86400
    for path in (old / "kernels", old, other / "kernels", other):
        os.utime(path, (stale, stale))
    runtime.prune_cache(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([recent.name, other.name])
