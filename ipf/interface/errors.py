"""The exceptions of s2ipf: one small hierarchy that callers catch by category.

Every error the processor can describe is an :class:`IpfError`: a one-line message naming the
file at fault (``source``) and the element inside it (``element``, an XML path or another
locator). Its class says how the run ends: :attr:`IpfError.code` is the exit code, defined here
and nowhere else. Any other exception escaping a task is a bug and ends the run with
``UNEXPECTED_EXCEPTION`` (:mod:`ipf.interface.executor` logs its traceback).

Catch by category: ``except FormatError`` for any unreadable external file (a GIPP, an AUX file,
L0 packets, a product), ``except InputError`` for any input that cannot be used, ``except
IpfError`` for everything the processor reports.
"""

from __future__ import annotations

import os
from typing import ClassVar

from ipf.interface.exitcodes import ExitCode

__all__ = [
    "IpfError", "JobOrderError", "TaskTableError", "UnknownProcessorError", "InputError",
    "MissingInputError", "FormatError", "OutputError", "DiskFullError", "TaskError",
    "exit_code",
]


class IpfError(Exception):
    """An error the processor reports in one line and turns into an exit code.

    ``source`` is the file at fault and ``element`` the XML path (or other locator) inside it;
    ``code`` overrides the class's exit code where one situation of a category has its own.
    """

    code: ClassVar[ExitCode] = ExitCode.PROCESSING_ERROR

    def __init__(self, message: str, *, source: os.PathLike | str | None = None,
                 element: str | None = None, code: ExitCode | None = None):
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.message = message
        self.source = None if source is None else str(source)
        self.element = element
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.source, self.element) if p)
        text = " ".join(self.message.split())
        return f"{where}: {text}" if where else text

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.source, self.element, self.code))


def _rebuild(cls, message, source, element, code):
    return cls(message, source=source, element=element, code=code)


class JobOrderError(IpfError):
    """The Job Order cannot be read or used: malformed, invalid against its XSD, inconsistent."""

    code = ExitCode.JOB_ORDER_READ_ERROR


class TaskTableError(IpfError):
    """A task table is malformed, invalid against its XSD or names an unusable entry point."""

    code = ExitCode.XML_ERROR


class UnknownProcessorError(IpfError):
    """No task table for the Job Order's processor and version, or a task the table lacks."""

    code = ExitCode.UNKNOWN_PROCESSOR


class InputError(IpfError):
    """An input cannot be used: its content is wrong for this processor (values, ranges, CRS)."""

    code = ExitCode.PROCESSING_ERROR


class MissingInputError(InputError):
    """A mandatory input is missing: not in the Job Order, or not on disk."""

    code = ExitCode.MISSING_MANDATORY_FILE


class FormatError(InputError):
    """An external file cannot be read: not the format it claims (GIPP, AUX, L0, product)."""


class OutputError(IpfError):
    """An output cannot be written where the Job Order puts it."""

    code = ExitCode.OUTPUT_ERROR


class DiskFullError(OutputError):
    """Not enough free space (``Min_Disk_Space``), or the disk filled up while writing."""

    code = ExitCode.DISK_FULL


class TaskError(IpfError):
    """A processing error a task reports: the task fails with a clear one-line message."""

    code = ExitCode.PROCESSING_ERROR


def exit_code(exc: BaseException) -> ExitCode:
    """The exit code a run ends with when ``exc`` ends it: the code of an :class:`IpfError`,
    ``OUT_OF_MEMORY`` for a ``MemoryError``, ``DISK_FULL`` for an ``OSError`` ENOSPC/EDQUOT,
    ``PROCESSING_ERROR`` for another ``OSError``, else ``UNEXPECTED_EXCEPTION``."""
    import errno

    if isinstance(exc, IpfError):
        return exc.code
    if isinstance(exc, MemoryError):
        return ExitCode.OUT_OF_MEMORY
    if isinstance(exc, OSError):
        return ExitCode.DISK_FULL if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ExitCode.PROCESSING_ERROR
    return ExitCode.UNEXPECTED_EXCEPTION
