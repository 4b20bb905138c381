"""Exit codes of ``ipf JobOrder.xml``: the one place they are defined.

The values follow the ESA generic IPF convention (0 success, small codes are warnings, codes from
128 are errors), in the numbering of the ESA predefined exit-code list (EACA-GSEG-EOPG-TN-15-0001)
where it names the situation, and in 140-148 for the situations it does not name.

Hosts such as prosEO treat every non-zero code as a failure: set ``IPF_WARNINGS_AS_SUCCESS=1``
(or pass ``--warnings-as-success``) and warnings exit with 0; they are still logged.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode", "worst", "process_exit_status", "warnings_as_success"]


class ExitCode(IntEnum):
    """The exit codes of a run; :attr:`is_warning` and :attr:`is_error` give their severity."""

    OK = 0
    #: the Job Order is usable but inconsistent (e.g. a ``count`` attribute that does not match)
    XML_WARNING = 1
    #: a non-critical task failed, or a task finished with a warning
    PROCESSING_WARNING = 14
    #: the Job Order cannot be read: malformed XML, not valid against its XSD, unsafe content
    JOB_ORDER_READ_ERROR = 128
    #: stopped by SIGINT or SIGTERM
    PREMATURE_TERMINATION = 129
    OUT_OF_MEMORY = 130
    #: a task raised an exception that is not a processing error (a bug)
    UNEXPECTED_EXCEPTION = 131
    #: not enough free space (Min_Disk_Space) or the disk filled up while writing
    DISK_FULL = 132
    #: the task table is malformed, not valid against its XSD or names an unknown entry point
    XML_ERROR = 133
    MISSING_MANDATORY_FILE = 134
    #: no task table for the Job Order's Processor_Name and Version, or a task it does not list
    UNKNOWN_PROCESSOR = 140
    #: an output cannot be written: parent not a writable directory, or the output already exists
    OUTPUT_ERROR = 141
    #: the run went past the task table's Max_Time
    MAX_TIME_EXCEEDED = 142
    #: a critical task failed
    PROCESSING_ERROR = 148

    @property
    def is_warning(self) -> bool:
        return 0 < self.value < 128

    @property
    def is_error(self) -> bool:
        return self.value >= 128


def warnings_as_success() -> bool:
    """True when ``IPF_WARNINGS_AS_SUCCESS`` asks for warnings to exit with 0."""
    from ipf.interface.runtime import env_flag

    return env_flag("IPF_WARNINGS_AS_SUCCESS")


def process_exit_status(code: ExitCode, *, warnings_ok: bool | None = None) -> int:
    """The status the process exits with: ``code``, or 0 for a warning when warnings are success."""
    if warnings_ok is None:
        warnings_ok = warnings_as_success()
    if code.is_warning and warnings_ok:
        return 0
    return int(code)


def worst(*codes: ExitCode) -> ExitCode:
    """The most severe of ``codes`` (errors over warnings over OK)."""
    return max(codes, key=lambda c: (c.is_error, c.is_warning, c.value), default=ExitCode.OK)

