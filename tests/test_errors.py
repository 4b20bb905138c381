"""The exception hierarchy and how the executor turns exceptions into exit codes."""

import errno
import pickle

import pytest

from tests.helpers import REPO, edit_xml, leftovers, outputs, run_ipf
from ipf.interface import errors
from ipf.interface.errors import (DiskFullError, FormatError, InputError, IpfError, JobOrderError,
                                  MissingInputError, OutputError, TaskError, TaskTableError,
                                  UnknownProcessorError, exit_code)
from ipf.interface.exitcodes import ExitCode

TEST_TASKS = {"PYTHONPATH": str(REPO / "tests")}


@pytest.mark.parametrize("cls, code", [
    (JobOrderError, ExitCode.JOB_ORDER_READ_ERROR), (TaskTableError, ExitCode.XML_ERROR),
    (UnknownProcessorError, ExitCode.UNKNOWN_PROCESSOR), (InputError, ExitCode.PROCESSING_ERROR),
    (MissingInputError, ExitCode.MISSING_MANDATORY_FILE), (FormatError, ExitCode.PROCESSING_ERROR),
    (OutputError, ExitCode.OUTPUT_ERROR), (DiskFullError, ExitCode.DISK_FULL),
    (TaskError, ExitCode.PROCESSING_ERROR)])
def test_each_category_carries_its_code(cls, code):
    err = cls("bad value", source="f.xml", element="/a")
    assert err.code is code and exit_code(err) is code and isinstance(err, IpfError)
    assert str(err) == "f.xml: /a: bad value"


def test_code_override_survives_pickling():
    err = FormatError("not a GIPP", source="g.xml", code=ExitCode.XML_ERROR)
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is FormatError and again.code is ExitCode.XML_ERROR
    assert str(again) == str(err) and FormatError("x").code is ExitCode.PROCESSING_ERROR


def test_exit_code_of_other_exceptions():
    assert exit_code(MemoryError()) is ExitCode.OUT_OF_MEMORY
    assert exit_code(OSError(errno.ENOSPC, "full")) is ExitCode.DISK_FULL
    assert exit_code(OSError(errno.EACCES, "denied")) is ExitCode.PROCESSING_ERROR
    assert exit_code(ValueError("bug")) is ExitCode.UNEXPECTED_EXCEPTION


def test_exitcodes_no_longer_defines_an_error_class():
    from ipf.interface import exitcodes

    assert not hasattr(exitcodes, "IpfError") and errors.IpfError is IpfError


def test_a_bug_exits_131_with_its_traceback_beside_the_outputs(demo, tables):
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml",
             {"//Task[Name='DEMO_GENERATE']/File_Name": "tasks_for_tests:broadcast"})
    run = run_ipf(demo, env=TEST_TASKS)
    assert run.code == ExitCode.UNEXPECTED_EXCEPTION, run.stderr
    (saved,) = (demo.parent / "output").glob("IPF_TRACEBACK_DEMO_GENERATE_*.txt")
    first = run.lines("stderr", "E")[0]
    assert first.startswith("DEMO_GENERATE: unexpected ValueError: operands could not be broadcast")
    assert first.endswith(f"(traceback in {saved})")
    text = saved.read_text()
    assert text.startswith("Traceback (most recent call last):") and "tasks_for_tests.py" in text
    assert text.rstrip().splitlines()[-1].startswith("ValueError: operands could not be broadcast")
    # no output, no staging directory: only the traceback file
    assert outputs(demo.parent) == [saved.parent, saved] and leftovers(demo.parent) == []
    # the traceback file does not stand in the way of a re-run once the task is fixed
    edit_xml(tables / "TaskTable_S2IPF_DEMO_01.00.xml",
             {"//Task[Name='DEMO_GENERATE']/File_Name": "ipf.processors.demo.tasks:generate"})
    again = run_ipf(demo, env=TEST_TASKS)
    assert again.code == 0, again.stderr
    assert saved.is_file() and leftovers(demo.parent) == []

