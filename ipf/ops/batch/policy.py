"""Which exit codes of ``ipf`` are a success, which are worth another attempt, and the exit codes
of ``ipf-batch`` itself.

* Success: 0; with ``warnings_ok`` (``--warnings-as-success``) also the warnings 1-127.
* Retried: the errors a second run can cure: signals and resource limits (129 premature
  termination, 130 out of memory, 132 disk full, 142 ``Max_Time``), a failed task (131 unexpected
  exception, 148 processing error), any other code from 128 and a child killed by a signal
  (negative code).
* Not retried: a warning (the run completed and its outputs are in place: a second run would only
  find them there), and the errors that come from the Job Order or the installation and stay the
  same however often it runs (:data:`PERMANENT`).
"""

from __future__ import annotations

from ipf.interface.exitcodes import ExitCode


__all__ = ["PERMANENT", "EXIT_OK", "EXIT_JOBS_FAILED", "EXIT_USAGE", "EXIT_STOPPED", "succeeded", "retryable",
           "name"]

#: errors of the Job Order, its task table or its files: a new attempt would end the same way
PERMANENT = frozenset({ExitCode.JOB_ORDER_READ_ERROR, ExitCode.XML_ERROR,
                       ExitCode.MISSING_MANDATORY_FILE, ExitCode.UNKNOWN_PROCESSOR,
                       ExitCode.OUTPUT_ERROR})

#: ``ipf-batch`` exit codes
EXIT_OK = 0
EXIT_JOBS_FAILED = 1     #: ``run``: at least one job failed or was skipped
EXIT_USAGE = 2           #: bad arguments, no Job Order found, or the spool is served already
EXIT_STOPPED = 3         #: ``watch``: a second signal stopped it without draining


def succeeded(code: int | None, *, warnings_ok: bool = False) -> bool:
    """True when exit code ``code`` of ``ipf`` is a success."""
    if code is None:
        return False
    return code == 0 or (warnings_ok and 0 < code < 128)


def retryable(code: int | None) -> bool:
    """True when another attempt may end differently: an error or a signal, not a permanent one."""
    if code is None:
        return False
    return code < 0 or (code >= 128 and code not in PERMANENT)


def name(code: int | None) -> str:
    """A readable name for an exit code of ``ipf`` (``SIGKILL`` for -9)."""
    import signal

    if code is None:
        return "NONE"
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"SIGNAL_{-code}"
    try:
        return ExitCode(code).name
    except ValueError:
        return "WARNING" if code < 128 else "ERROR"
