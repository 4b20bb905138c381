"""Mutated Job Orders (from the corpus of tests/data and the demo Job Order) either parse or raise
an IpfError with a one-line message naming the file, never another exception and never a hang.
One that parses goes on through what a run checks before any task starts, against a copy of the
demo task table and the demo inputs: task-table lookup, plan, dynamic parameters, inputs,
outputs; there too only an IpfError may end it.

``IPF_FUZZ_CASES`` sets the number of cases (default 300, a few seconds; ``make fuzz``: 10 000)."""

import os
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import JOBORDERS, SAMPLES, TASKTABLES
from ipf.interface import joborder
from ipf.interface import plan as pl
from ipf.interface import tasktable
from ipf.interface.errors import IpfError

DEMO = JOBORDERS / "JobOrder.S2IPF_DEMO.xml"
SEEDS = [DEMO, SAMPLES / "JobOrder.INIT_LOC_L0.xml", SAMPLES / "JobOrder.GMES_1_1.xml",
         *sorted((SAMPLES / "joborders").glob("*.xml"))]
TEXTS = [p.read_bytes() for p in SEEDS]
TOKENS = [b"<", b">", b"</", b"/>", b"&", b"&amp;", b"]]>", b"<!--", b"-->", b"<?xml", b"\x00", b"\xff",
          b"\xc3", b"count=\"-1\"", b"count=\"x\"", b"<Ipf_Proc>", b"<Input>", b"<Output>",
          b"<File_Name/>", b"<Start>@t@</Start>", b"20200101_", b"9999", b"T", b"Z", b"-", b"_",
          b"<!DOCTYPE a>", b"<!ENTITY e 'x'>", b"&e;", b"xmlns=\"urn:x\"", b" ", b"\n", b"0",
          b"true", b"ON", b"DIRECTORY", b"Regexp", b"<Breakpoint>", b"</Ipf_Conf>",
          b"00000000_000000000000", b"99999999_999999999999", b"x" * 300, b"/" + b"y" * 4100,
          b"<Order_Type>NRT</Order_Type>", b"demo/", b"Stem", b"Prefix", b"Logical", b"..",
          b"_V20260601T000000_20260602T000000"]
EXAMPLES = int(os.environ.get("IPF_FUZZ_CASES", "300"))
#: how far the cases went: refused by the reader, refused before the run, accepted for a run
REACHED = Counter({"refused by the reader": 0, "refused before the run": 0, "accepted": 0})


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.one_of(st.just(TEXTS[0]), st.sampled_from(TEXTS))))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "byte"]))
        if kind == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif kind == "replace":
            data[at:at + draw(st.integers(1, 16))] = draw(st.sampled_from(TOKENS))
        elif kind == "duplicate":
            end = min(len(data), at + draw(st.integers(1, 400)))
            data[end:end] = data[at:end]
        else:
            data[at] = draw(st.integers(0, 255))
    return bytes(data)


class _Quiet:
    def warning(self, text):
        pass

    info = debug = error = warning


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A folder with the demo inputs beside the Job Order and a copy of the demo task table."""
    d = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(JOBORDERS / "demo", d / "demo")
    (d / "tasktables").mkdir()
    shutil.copy(TASKTABLES / "demo" / "TaskTable_S2IPF_DEMO_01.00.xml", d / "tasktables")
    yield d
    print(f"\nJob Order fuzz: {sum(REACHED.values())} cases, "
          + ", ".join(f"{n} {stage}" for stage, n in REACHED.items()))


def _checked_before_run(path: Path, job: joborder.JobOrder, tables: Path) -> None:
    """What :class:`~ipf.interface.executor.Executor` checks before the first task."""
    table = tasktable.find(job.processor_name, job.version, [tables], job_order=path)
    joborder.check_outputs(job)
    if job.order_type is not None:
        table = table.for_order_type(job.order_type)
    steps = pl.plan(job, table)
    tasktable.typed_parameters(table, job)
    table.check_entry_points([s.task for s in steps])
    pl.working_dir(job, create=False)
    pl.check_inputs(steps, path, _Quiet(), job.sensing_time)
    pl.check_outputs(steps, path)


@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=mutated())
def test_mutated_job_order_parses_or_fails_clearly(folder, data):
    path = folder / "JobOrder.xml"
    path.write_bytes(data)
    tables = folder / "tasktables"
    start = time.monotonic()
    try:
        job = joborder.read(path)
    except IpfError as exc:
        message = str(exc)
        assert str(path) in message and "\n" not in message.strip(), message
        REACHED["refused by the reader"] += 1
        return
    assert job.procs and job.processor_name and job.version
    try:
        _checked_before_run(path, job, tables)
    except IpfError as exc:
        message = str(exc)
        assert (str(path) in message or str(tables) in message) and "\n" not in message.strip(), \
            message
        REACHED["refused before the run"] += 1
    else:
        REACHED["accepted"] += 1
    assert time.monotonic() - start < 2.0
