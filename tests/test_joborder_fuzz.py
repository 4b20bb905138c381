"""Mutated Job Orders (from the corpus of tests/data) either parse or raise an IpfError with a
one-line message naming the file, never another exception and never a hang.

``IPF_FUZZ_EXAMPLES`` sets the number of cases (default 2000, a few seconds)."""

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import SAMPLES
from ipf.interface import joborder
from ipf.interface.errors import IpfError

SEEDS = [SAMPLES / "JobOrder.INIT_LOC_L0.xml", SAMPLES / "JobOrder.GMES_1_1.xml",
         *sorted((SAMPLES / "joborders").glob("*.xml"))]
TEXTS = [p.read_bytes() for p in SEEDS]
TOKENS = [b"<", b">", b"</", b"/>", b"&", b"&amp;", b"]]>", b"<!--", b"-->", b"<?xml", b"\x00", b"\xff",
          b"\xc3", b"count=\"-1\"", b"count=\"x\"", b"<Ipf_Proc>", b"<Input>", b"<Output>",
          b"<File_Name/>", b"<Start>@t@</Start>", b"20200101_", b"9999", b"T", b"Z", b"-", b"_",
          b"<!DOCTYPE a>", b"<!ENTITY e 'x'>", b"&e;", b"xmlns=\"urn:x\"", b" ", b"\n", b"0",
          b"true", b"ON", b"DIRECTORY", b"Regexp", b"<Breakpoint>", b"</Ipf_Conf>"]
EXAMPLES = int(os.environ.get("IPF_FUZZ_EXAMPLES", "2000"))


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(TEXTS)))
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


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=mutated())
def test_mutated_job_order_parses_or_fails_clearly(folder, data):
    path = folder / "JobOrder.xml"
    path.write_bytes(data)
    start = time.monotonic()
    try:
        job = joborder.read(path)
    except IpfError as exc:
        message = str(exc)
        assert str(path) in message and "\n" not in message.strip(), message
    else:
        assert job.procs and job.processor_name and job.version
    assert time.monotonic() - start < 2.0
