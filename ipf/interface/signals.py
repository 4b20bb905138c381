"""How a run stops: SIGINT and SIGTERM, a second signal, and the task table's ``Max_Time``.

A first SIGINT or SIGTERM ends the current task (:class:`Stop` is raised inside it when a task is
running, else at the next checkpoint between tasks) and the run with ``PREMATURE_TERMINATION``;
``Max_Time`` (SIGALRM) does the same with ``MAX_TIME_EXCEEDED``. A second signal ends the process
at once, after a last callback that only renames (no deletion, no waiting). Signals received
before the handlers are installed (:func:`ipf.interface.runtime.catch_early_signals`) are
replayed when they are.
"""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from typing import Callable, Iterator

from ipf.interface import runtime
from ipf.interface.exitcodes import ExitCode

__all__ = ["Stop", "StopSignals"]


class Stop(BaseException):
    """Ends the current task from a signal handler; not an ``Exception`` so tasks cannot swallow it."""

    def __init__(self, code: ExitCode, reason: str):
        self.code = code
        self.reason = reason
        super().__init__(reason)


class StopSignals:
    """The stop requests of one run; ``on_second_signal`` runs before the process exits at once."""

    def __init__(self, log, on_second_signal: Callable[[], None]):
        self.log = log
        self.stop: Stop | None = None
        self._on_second_signal = on_second_signal
        self._count = 0
        self._in_task = False

    @contextmanager
    def installed(self) -> Iterator[StopSignals]:
        """SIGINT and SIGTERM handled during the block (early signals replayed first)."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            for signum in runtime.take_early_signals():
                self._on_signal(signum, None)
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    @contextmanager
    def max_time(self, seconds: float) -> Iterator[None]:
        """``Max_Time`` of ``seconds`` (none when 0) counted from the start of the block."""
        previous = signal.signal(signal.SIGALRM, self._on_alarm)
        self._max_time = seconds
        if seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    @contextmanager
    def task(self) -> Iterator[None]:
        """A task runs in the block: a stop request raises :class:`Stop` inside it."""
        self._in_task = True
        try:
            self.checkpoint()
            yield
        finally:
            self._in_task = False

    def checkpoint(self) -> None:
        """Raise the pending :class:`Stop`, if any."""
        if self.stop is not None:
            raise self.stop

    def _request(self, stop: Stop) -> None:
        self.stop = stop
        if self._in_task:
            raise stop

    def _on_signal(self, signum: int, frame) -> None:
        self._count += 1
        name = signal.Signals(signum).name
        if self._count > 1:
            try:
                self._on_second_signal()
                self.log.error(f"second signal ({name}): ending now")
            finally:
                os._exit(int(ExitCode.PREMATURE_TERMINATION))
        self.log.warning(f"received {name}: stopping the current task")
        self._request(Stop(ExitCode.PREMATURE_TERMINATION, f"{name} received"))

    def _on_alarm(self, signum: int, frame) -> None:
        if self.stop is not None:
            return
        self.log.error(f"Max_Time of {self._max_time:.0f} s exceeded")
        self._request(Stop(ExitCode.MAX_TIME_EXCEEDED, f"Max_Time of {self._max_time:.0f} s exceeded"))
