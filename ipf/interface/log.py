"""Log lines in the ESA generic IPF format, rendered by structlog.

Each line reads ``YYYY-MM-DDThh:mm:ss.ffffff host ProcessorName Version [pid]: [L] message``
with ``L`` one of D (debug), I (info), P (progress, the message starts with a percentage),
W (warning) and E (error); time is UTC and the pid has ten digits. A line goes to stdout when its
level is at least the Job Order's ``Stdout_Log_Level`` and to stderr when it is at least
``Stderr_Log_Level``; with ``IPF_LOG_NO_DUPLICATES=1`` a line written to stderr is not written to
stdout too (for hosts that merge the two streams, such as prosEO). ``--log-json`` (or
``IPF_LOG_JSON=1``) writes the same events as JSON lines, for log collectors. When stdout is a
terminal, the P lines it would get are drawn as one progress bar line instead
(``IPF_PROGRESS_BAR=0`` keeps the plain lines); stderr and non-terminal stdout always get the lines.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import datetime, timezone

import structlog

from ipf.interface.runtime import env_flag

__all__ = ["LEVELS", "LETTERS", "BAR_WIDTH", "StreamRouter", "IpfLogger", "render_line", "render_json",
           "configure", "get_logger"]

LEVELS = ("debug", "info", "progress", "warning", "error")
LETTERS = {"debug": "D", "info": "I", "progress": "P", "warning": "W", "error": "E"}
_RANK = {name: i for i, name in enumerate(LEVELS)}
BAR_WIDTH = 30


def _isatty(stream) -> bool:
    return (hasattr(stream, "isatty") and not getattr(stream, "closed", False)
            and stream.isatty())


class StreamRouter:
    """The structlog "logger": writes each rendered line to stdout and/or stderr by level."""

    def __init__(self, stdout_level: str = "info", stderr_level: str = "warning",
                 no_duplicates: bool | None = None, progress_bar: bool | None = None):
        self.stdout_rank = _RANK[stdout_level.lower()]
        self.stderr_rank = _RANK[stderr_level.lower()]
        self.no_duplicates = env_flag("IPF_LOG_NO_DUPLICATES") if no_duplicates is None else no_duplicates
        if progress_bar is None:
            progress_bar = _isatty(sys.stdout) and os.environ.get("IPF_PROGRESS_BAR", "1") != "0"
        self.progress_bar = progress_bar
        self._bar_open = False

    def _emit(self, level: str, line: str) -> None:
        rank = _RANK[level]
        to_err = rank >= self.stderr_rank
        to_out = rank >= self.stdout_rank and not (to_err and self.no_duplicates)
        if to_out and self.progress_bar:
            if level == "progress":
                self._draw_bar(line)
                to_out = False
            elif self._bar_open:
                self._write(sys.stdout, "\r\033[K")
                self._bar_open = False
        for stream, wanted in ((sys.stdout, to_out), (sys.stderr, to_err)):
            if wanted:
                self._write(stream, line + "\n")

    @staticmethod
    def _write(stream, text: str) -> None:
        """Write and flush; a closed stream or a broken pipe loses the line, never the run."""
        if getattr(stream, "closed", False):
            return
        try:
            stream.write(text)
            stream.flush()
        except OSError:
            pass

    def _draw_bar(self, line: str) -> None:
        """On a terminal, a P line redraws one progress bar line instead of scrolling."""
        text = line.split("[P] ", 1)[-1]
        head, _, rest = text.partition("% ")
        try:
            percent = min(max(float(head), 0.0), 100.0)
        except ValueError:
            percent, rest = 0.0, text
        filled = int(round(BAR_WIDTH * percent / 100))
        import shutil

        width = shutil.get_terminal_size((100, 20)).columns
        bar = f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {percent:3.0f}% {rest}"
        self._write(sys.stdout, bar[:width] + "\033[K")
        self._bar_open = True

    def debug(self, line: str) -> None:
        self._emit("debug", line)

    def info(self, line: str) -> None:
        self._emit("info", line)

    def progress(self, line: str) -> None:
        self._emit("progress", line)

    def warning(self, line: str) -> None:
        self._emit("warning", line)

    def error(self, line: str) -> None:
        self._emit("error", line)


class IpfLogger(structlog.BoundLoggerBase):
    """Bound logger with the IPF levels; ``progress(percent, message)`` logs a P line."""

    def debug(self, event: str, **kw) -> None:
        self._proxy_to_logger("debug", event, **kw)

    def info(self, event: str, **kw) -> None:
        self._proxy_to_logger("info", event, **kw)

    def progress(self, percent: float, event: str = "", **kw) -> None:
        self._proxy_to_logger("progress", event, percent=float(percent), **kw)

    def warning(self, event: str, **kw) -> None:
        self._proxy_to_logger("warning", event, **kw)

    def error(self, event: str, **kw) -> None:
        self._proxy_to_logger("error", event, **kw)


class _Identity:
    """Adds the fields every IPF line carries."""

    def __init__(self, processor: str, version: str):
        self.host = socket.gethostname().split(".")[0]
        self.processor = processor
        self.version = version

    def __call__(self, logger, method_name: str, event_dict: dict) -> dict:
        event_dict["time"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
        event_dict["level"] = method_name
        event_dict["host"] = self.host
        event_dict["processor"] = self.processor
        event_dict["version"] = self.version
        event_dict["pid"] = os.getpid()
        return event_dict


def render_line(logger, method_name: str, event_dict: dict) -> str:
    """The IPF text line of one event; extra keys follow the message as ``key=value``."""
    d = dict(event_dict)
    head = (f"{d.pop('time')} {d.pop('host')} {d.pop('processor')} {d.pop('version')} "
            f"[{d.pop('pid'):010d}]: [{LETTERS[d.pop('level')]}] ")
    task = d.pop("task", None)
    percent = d.pop("percent", None)
    message = " ".join(str(d.pop("event", "")).split())
    parts = []
    if percent is not None:
        parts.append(f"{percent:.0f}%")
    if task:
        parts.append(f"{task}:")
    parts.append(message)
    parts.extend(f"{k}={v}" for k, v in d.items())
    return head + " ".join(p for p in parts if p)


def render_json(logger, method_name: str, event_dict: dict) -> str:
    d = dict(event_dict)
    d["message"] = str(d.pop("event", ""))
    return json.dumps(d, default=str, sort_keys=True)


def configure(processor: str = "ipf", version: str = "", stdout_level: str = "INFO",
              stderr_level: str = "WARNING", json_lines: bool | None = None) -> None:
    """(Re)configure logging for a run; call again once the Job Order gives names and levels."""
    if json_lines is None:
        json_lines = env_flag("IPF_LOG_JSON")
    router = StreamRouter(stdout_level, stderr_level, progress_bar=False if json_lines else None)
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, _Identity(processor, version),
                    render_json if json_lines else render_line],
        wrapper_class=IpfLogger,
        logger_factory=lambda *args: router,
        cache_logger_on_first_use=False,
    )


def get_logger(**bound) -> IpfLogger:
    return structlog.get_logger().bind(**bound)
