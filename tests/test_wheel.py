"""The built wheel is a complete processor: built from the sources (no build isolation, no index),
installed alone into a fresh virtual environment, its ``ipf`` runs the demo Job Order and checks a
packaged task table, with the schemas, task tables and py.typed read from the installed package.

The fresh environment has no pip and no copy of the dependencies: a ``.pth`` file appends this
environment's site-packages (numpy, lxml...) after its own, where ``ipf`` is only the wheel's (the
editable install's own ``.pth`` files are not processed from a path added that way)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.helpers import JOBORDERS

REPO = Path(__file__).resolve().parent.parent


def _run(args, **kw) -> subprocess.CompletedProcess:
    run = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kw)
    assert run.returncode == 0, (args, run.stdout[-3000:], run.stderr[-3000:])
    return run


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(wheel, python of a fresh venv where only the wheel provides ipf)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "ipf", src / "ipf", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "--quiet", "-w", tmp / "dist", src])
    (wheel,) = (tmp / "dist").glob("s2ipf-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                        cwd=tmp).stdout.strip())
    (purelib / "_s2ipf_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet",
          wheel])
    return wheel, python


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("IPF_", "PYTHON", "NUMBA_CACHE_DIR")) and k != "VIRTUAL_ENV"}
    return {**env, "IPF_NUMBA_CACHE_DIR": str(tmp / "numba")}


def test_wheel_carries_package_data(installed):
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "ipf/py.typed" in names
    for xsd in (REPO / "ipf" / "schemas").rglob("*.xsd"):
        assert xsd.relative_to(REPO).as_posix() in names
    tables = sorted((REPO / "ipf" / "processors").glob("*/TaskTable_*.xml"))
    assert tables and all(t.relative_to(REPO).as_posix() in names for t in tables)


def test_ipf_resolves_into_the_new_environment(installed, tmp_path):
    _, python = installed
    where = _run([python, "-c", "import ipf, numpy; print(ipf.__file__); print(numpy.__file__)"], cwd=tmp_path,
                 env=_env(tmp_path)).stdout.split()
    assert Path(where[0]).is_relative_to(python.parent.parent), where
    assert not Path(where[0]).is_relative_to(REPO)
    assert Path(where[1]).is_relative_to(Path(sys.prefix)), where


def test_installed_ipf_runs_the_demo_job_order(installed, tmp_path):
    _, python = installed
    shutil.copy(JOBORDERS / "JobOrder.S2IPF_DEMO.xml", tmp_path / "JobOrder.xml")
    shutil.copytree(JOBORDERS / "demo", tmp_path / "demo")
    ipf = python.with_name("ipf")
    _run([ipf, tmp_path / "JobOrder.xml"], cwd=tmp_path, env=_env(tmp_path))
    assert (tmp_path / "output" / "S2A_OPER_DEMO_REPORT_20260601T103000.xml").is_file()
    assert any((tmp_path / "output" / "S2A_OPER_DEMO_L1_20260601T103000").iterdir())


def test_installed_ipf_checks_a_packaged_task_table(installed, tmp_path):
    _, python = installed
    table = _run([python, "-c", "from importlib import resources; "
                  "print(resources.files('ipf.processors') / 'demo' / 'TaskTable_S2IPF_DEMO_01.00.xml')"],
                 cwd=tmp_path, env=_env(tmp_path)).stdout.strip()
    assert Path(table).is_relative_to(python.parent.parent)
    _run([python.with_name("ipf"), "--check-tasktable", table], cwd=tmp_path, env=_env(tmp_path))
