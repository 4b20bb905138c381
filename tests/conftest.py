"""Shared helpers: run the real ``ipf`` command on copies of the shipped demo Job Order."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from ipf.interface import runtime

runtime.configure()  # numba's cache folder of the ipf processes, before numba is imported

REPO = Path(__file__).resolve().parent.parent
JOBORDERS = REPO / "joborders"
TASKTABLES = REPO / "ipf" / "processors"
SAMPLES = REPO / "tests" / "data"
IPF = Path(sys.executable).with_name("ipf")
LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}) (\S+) (\S+) (\S+) \[(\d{10})\]: "
                  r"\[([DIPWE])\] (.*)$")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def lines(self, stream: str = "stdout", level: str | None = None) -> list[str]:
        out = []
        for line in getattr(self, stream).splitlines():
            m = LINE.match(line)
            if m and (level is None or m.group(6) == level):
                out.append(m.group(7))
        return out


def run_ipf(*args, cwd=None, env=None, timeout=60) -> Run:
    full_env = {**os.environ, **(env or {})}
    p = subprocess.run([str(IPF), *map(str, args)], cwd=cwd, env=full_env, capture_output=True,
                       text=True, timeout=timeout)
    return Run(p.returncode, p.stdout, p.stderr)


@pytest.fixture
def demo(tmp_path) -> Path:
    """A copy of the demo Job Order and its input in a fresh directory; returns the Job Order."""
    shutil.copy(JOBORDERS / "JobOrder.S2IPF_DEMO.xml", tmp_path / "JobOrder.xml")
    shutil.copytree(JOBORDERS / "demo", tmp_path / "demo")
    return tmp_path / "JobOrder.xml"


@pytest.fixture
def tables(tmp_path, monkeypatch) -> Path:
    """A private task-table directory holding a copy of the demo task table (IPF_TASKTABLE_DIR)."""
    d = tmp_path / "tasktables"
    d.mkdir()
    shutil.copy(TASKTABLES / "demo" / "TaskTable_S2IPF_DEMO_01.00.xml", d)
    monkeypatch.setenv("IPF_TASKTABLE_DIR", str(d))
    return d


def edit_xml(path: Path, edits: dict[str, str | None], out: Path | None = None) -> Path:
    """Set (or, with ``None``, remove) the text of the elements at the given XPaths."""
    tree = etree.parse(str(path))
    for xpath, value in edits.items():
        found = tree.xpath(xpath)
        assert found, f"{xpath} not in {path}"
        for el in found:
            if value is None:
                el.getparent().remove(el)
            else:
                el.text = value
    out = out or path
    tree.write(str(out), xml_declaration=True, encoding="UTF-8")
    return out


def set_param(job: Path, name: str, value: str) -> None:
    """Add or set a Dynamic_Processing_Parameter of an MMFI Job Order."""
    tree = etree.parse(str(job))
    params = tree.find("Ipf_Conf/Dynamic_Processing_Parameters")
    for p in params.findall("Processing_Parameter"):
        if p.findtext("Name").strip() == name:
            p.find("Value").text = value
            break
    else:
        p = etree.SubElement(params, "Processing_Parameter")
        etree.SubElement(p, "Name").text = name
        etree.SubElement(p, "Value").text = value
    tree.write(str(job), xml_declaration=True, encoding="UTF-8")


def leftovers(root: Path) -> list[Path]:
    """Staging directories or temporary files left anywhere under ``root``."""
    return [p for p in root.rglob("*") if p.name.startswith((".ipf-", ".tmp")) or ".tmp-" in p.name]


def outputs(job_dir: Path) -> list[Path]:
    """Everything the run created in the job directory (its Job Order and inputs excepted)."""
    given = {"demo", "tasktables"}
    return sorted(p for p in job_dir.rglob("*")
                  if p.name != "JobOrder.xml" and not given & set(p.relative_to(job_dir).parts))
