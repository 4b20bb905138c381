"""Plain helpers of the tests: the repository's paths, the ``ipf`` and ``ipf-sim`` commands in a
subprocess, Job Order edits, and the sensor models of a simulation folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

__all__ = ["REPO", "SHARED", "JOBORDERS", "TASKTABLES", "SAMPLES", "IPF", "SIM", "LINE", "Run", "run_ipf", "run_job",
           "simulate", "edit_xml", "set_param", "leftovers", "outputs", "models"]

REPO = Path(__file__).resolve().parent.parent
JOBORDERS = REPO / "joborders"
TASKTABLES = REPO / "ipf" / "processors"
SAMPLES = REPO / "tests" / "data"
SHARED = next((d for d in (REPO.parent / "shared", Path("/work/shared")) if d.is_dir()), REPO.parent / "shared")
"""The folder of the real files of production systems and the reference samples (``../shared``
beside the repository); tests that read it skip when it is absent."""
IPF = Path(sys.executable).with_name("ipf")
SIM = Path(sys.executable).with_name("ipf-sim")
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
    """``ipf ARGS`` in a subprocess (environment ``os.environ`` updated with ``env``)."""
    full_env = {**os.environ, **(env or {})}
    p = subprocess.run([str(IPF), *map(str, args)], cwd=cwd, env=full_env, capture_output=True,
                       text=True, timeout=timeout)
    return Run(p.returncode, p.stdout, p.stderr)


def run_job(job: Path, timeout: float = 900, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``ipf JOB`` of a processing chain in a subprocess (environment ``env`` or ours), output
    captured."""
    return subprocess.run([str(IPF), str(job)], capture_output=True, text=True, timeout=timeout, env=env)


def simulate(out: Path, *args: str, size: str = "small", seed: int = 3, env: dict[str, str] | None = None) -> Path:
    """``ipf-sim`` of a scene into ``out`` (which must not exist); extra ``args`` (faults...)."""
    subprocess.run([str(SIM), "--size", size, "--seed", str(seed), "--out", str(out), "--quiet", *args],
                   check=True, capture_output=True, timeout=600, env=env)
    return out


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


def models(folder: Path):
    """(model with the given attitude, model with the true attitude) of a simulation folder: the
    datastrip metadata of ``L0/DATASTRIP``, AUX_UT1UTC, GIP_SPAMOD and GIP_VIEDIR of the
    simulation, the true attitude of :func:`ipf.simulator.truth.read_true_attitude`."""
    from ipf.formats.l0 import find_datastrip
    from ipf.formats.sensor_model import load_sensor_model
    from ipf.validation.accuracy import geometry_files, true_model

    given = load_sensor_model(find_datastrip(folder / "L0"), *geometry_files(folder))
    return given, true_model(folder, given)
