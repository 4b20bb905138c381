"""Every Job Order of the production systems in ../shared/real/ipf (COPRS S1, S2, S3; prosEO S5P;
S2 PDGS templates; sources in its SOURCES.md) parses; one for another mission's processor ends
with UNKNOWN_PROCESSOR (140) and one error line. Skipped when the folder is absent."""

import shutil
from pathlib import Path

import pytest
from lxml import etree

from tests.helpers import SHARED, run_ipf
from ipf.interface import joborder
from ipf.interface.exitcodes import ExitCode

REAL = SHARED / "real" / "ipf"

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} not available")


def _job_orders() -> list[Path]:
    found = []
    for path in sorted(REAL.rglob("*.xml")):
        try:
            _, root = next(etree.iterparse(str(path), events=("start",), resolve_entities=False,
                                           no_network=True))
        except (etree.XMLSyntaxError, StopIteration):
            continue
        if etree.QName(root).localname == "Ipf_Job_Order":
            found.append(path)
    return found


def test_every_real_job_order_parses(capsys):
    paths = _job_orders()
    failed = {}
    for path in paths:
        try:
            job = joborder.read(path)
            assert job.procs and all(p.task_name for p in job.procs)
        except Exception as exc:  # noqa: BLE001 - the report lists every failure
            failed[str(path.relative_to(REAL))] = f"{type(exc).__name__}: {exc}"
    with capsys.disabled():
        print(f"\nreal Job Orders parsed: {len(paths) - len(failed)}/{len(paths)}")
    assert len(paths) >= 28
    assert not failed, failed


def test_other_mission_job_order_is_unknown_processor(tmp_path):
    (source,) = [p for p in _job_orders() if p.name == "JobOrderExample.xml"]
    job = tmp_path / source.name
    shutil.copy(source, job)
    run = run_ipf(job)
    assert run.code == ExitCode.UNKNOWN_PROCESSOR, (run.stdout, run.stderr)
    errors = run.lines("stderr", "E")
    assert len(errors) == 1 and str(job) in errors[0]
    assert "Traceback" not in run.stdout + run.stderr
