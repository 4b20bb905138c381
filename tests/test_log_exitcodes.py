"""Log line rendering and routing; exit-code policy; the compiled-schema cache."""

import json
import os

import pytest

from tests.helpers import LINE
from ipf.interface import log, xmlio
from ipf.interface.errors import IpfError, TaskTableError
from ipf.interface.exitcodes import ExitCode, process_exit_status, worst


@pytest.fixture(autouse=True)
def _reset_logging():
    yield
    log.configure()


def test_line_format_and_levels(capsys):
    log.configure("S2IPF_L1C", "02.03", "DEBUG", "WARNING")
    logger = log.get_logger(task="GEN_ORTHO_TOA")
    logger.debug("d")
    logger.info("two  spaces\nand a newline", band="B04")
    logger.progress(12.6, "resampling")
    logger.warning("w")
    logger.error("e")
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 5
    for line, letter in zip(lines, "DIPWE"):
        m = LINE.match(line)
        assert m, line
        assert m.group(3, 4, 6) == ("S2IPF_L1C", "02.03", letter)
        assert int(m.group(5)) == os.getpid()
    assert LINE.match(lines[1]).group(7) == "GEN_ORTHO_TOA: two spaces and a newline band=B04"
    assert LINE.match(lines[2]).group(7) == "13% GEN_ORTHO_TOA: resampling"
    assert [LINE.match(line).group(6) for line in err.splitlines()] == ["W", "E"]


@pytest.mark.parametrize("stdout_level,stderr_level,out_letters,err_letters", [
    ("INFO", "WARNING", "IPWE", "WE"),
    ("PROGRESS", "ERROR", "PWE", "E"),
    ("ERROR", "DEBUG", "E", "DIPWE"),
])
def test_routing(capsys, stdout_level, stderr_level, out_letters, err_letters):
    log.configure("P", "1", stdout_level, stderr_level)
    logger = log.get_logger()
    for level in log.LEVELS:
        if level == "progress":
            logger.progress(50, "p")
        else:
            getattr(logger, level)(level)
    out, err = capsys.readouterr()
    assert "".join(LINE.match(x).group(6) for x in out.splitlines()) == out_letters
    assert "".join(LINE.match(x).group(6) for x in err.splitlines()) == err_letters


def test_no_duplicates(capsys, monkeypatch):
    monkeypatch.setenv("IPF_LOG_NO_DUPLICATES", "1")
    log.configure("P", "1", "INFO", "WARNING")
    log.get_logger().info("i")
    log.get_logger().error("e")
    out, err = capsys.readouterr()
    assert [LINE.match(x).group(6) for x in out.splitlines()] == ["I"]
    assert [LINE.match(x).group(6) for x in err.splitlines()] == ["E"]


def test_json_lines(capsys):
    log.configure("P", "1", "INFO", "ERROR", json_lines=True)
    log.get_logger(task="T").progress(40, "half")
    event = json.loads(capsys.readouterr().out)
    assert event["level"] == "progress" and event["percent"] == 40.0 and event["task"] == "T"
    assert event["message"] == "half" and event["pid"] == os.getpid()


def test_exit_status_policy(monkeypatch):
    monkeypatch.delenv("IPF_WARNINGS_AS_SUCCESS", raising=False)
    assert process_exit_status(ExitCode.PROCESSING_WARNING) == 14
    assert process_exit_status(ExitCode.PROCESSING_WARNING, warnings_ok=True) == 0
    assert process_exit_status(ExitCode.PROCESSING_ERROR, warnings_ok=True) == 148
    monkeypatch.setenv("IPF_WARNINGS_AS_SUCCESS", "1")
    assert process_exit_status(ExitCode.XML_WARNING) == 0
    assert process_exit_status(ExitCode.OK) == 0
    assert [c.value for c in ExitCode if c.is_warning] == [1, 14]
    assert all(c.value >= 128 for c in ExitCode if c.is_error)
    assert not ExitCode.OK.is_warning and not ExitCode.OK.is_error


def test_worst():
    assert worst(ExitCode.OK, ExitCode.XML_WARNING, ExitCode.PROCESSING_WARNING) is \
        ExitCode.PROCESSING_WARNING
    assert worst(ExitCode.PROCESSING_WARNING, ExitCode.JOB_ORDER_READ_ERROR) is \
        ExitCode.JOB_ORDER_READ_ERROR
    assert worst() is ExitCode.OK


def test_error_is_one_line():
    err = TaskTableError("bad\n   value", source="t.xml", element="/a/b")
    assert str(err) == "t.xml: /a/b: bad value"
    assert err.code is ExitCode.XML_ERROR and isinstance(err, IpfError)


def test_schema_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IPF_CACHE_DIR", str(tmp_path))
    xmlio.schema.cache_clear()
    try:
        first = xmlio.schema("TaskTable.xsd")
        (cached,) = (tmp_path / "xsd").glob("TaskTable-*.pickle")
        xmlio.schema.cache_clear()
        again = xmlio.schema("TaskTable.xsd")
        assert again is not first and again.root_elements[0].name == "Ipf_Task_Table"
        cached.write_bytes(b"corrupt")
        xmlio.schema.cache_clear()
        assert xmlio.schema("TaskTable.xsd").root_elements[0].name == "Ipf_Task_Table"
    finally:
        xmlio.schema.cache_clear()


class _Tty:
    def __init__(self, tty: bool):
        self.tty, self.text = tty, ""

    def isatty(self):
        return self.tty

    def write(self, s):
        self.text += s

    def flush(self):
        pass


@pytest.mark.parametrize("tty", [True, False])
def test_progress_bar_only_on_a_terminal(monkeypatch, tty):
    from ipf.interface import log

    out, err = _Tty(tty), _Tty(False)
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    monkeypatch.delenv("IPF_PROGRESS_BAR", raising=False)
    router = log.StreamRouter("debug", "warning")
    router.progress("2026-01-01T00:00:00.000000 h P 01.00 [0000000001]: [P] 40% TASK: band B02")
    router.info("2026-01-01T00:00:00.000000 h P 01.00 [0000000001]: [I] TASK: done")
    if tty:
        assert "\r[" + "#" * 12 + "." * 18 + "]  40% TASK: band B02" in out.text
        assert "[P]" not in out.text
        assert out.text.endswith("\r\033[K2026-01-01T00:00:00.000000 h P 01.00 [0000000001]: [I] TASK: done\n")
    else:
        assert out.text.count("\n") == 2 and "[P] 40% TASK: band B02\n" in out.text
    assert err.text == ""
