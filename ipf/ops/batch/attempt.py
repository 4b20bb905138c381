"""One attempt at a Job Order, on a Dask worker: ``ipf JOB`` as a single-core child process.

The child's stdout and stderr go, merged, to the job's log (appended: each attempt starts with a
``ipf-batch:`` header line). While it runs, the Job Order file is locked (``flock``), by the
attempt and by the child, which inherits the lock: the lock is free again only when both are gone,
so whoever finds it free knows that no process is still working on the job. On Linux the child is
killed when its worker process dies (``PR_SET_PDEATHSIG``), so a killed worker leaves no ``ipf``
running on its own.

Before an attempt that follows one of the same job (a retry, a job interrupted by a crash, or Dask
running the same task again after losing its worker), the job's outputs are removed: every path of
the Job Order's ``List_of_Outputs`` and the ``.ipf-partial-*`` staging directories ``ipf`` leaves
beside them when killed.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from ipf.interface.staging import STAGING_PREFIX


__all__ = ["HEADER", "ipf_executable", "child_env", "output_paths", "clean_outputs", "run_attempt"]

HEADER = "ipf-batch:"

try:
    import ctypes

    _prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
except (OSError, AttributeError):
    _prctl = None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def ipf_executable() -> str:
    """The ``ipf`` command installed beside this Python."""
    return str(Path(sys.executable).with_name("ipf"))


def child_env() -> dict[str, str]:
    """This environment with every library on one thread (see :mod:`ipf.interface.runtime`) and warnings
    reported with their own exit code, so that the batch, not ``ipf``, decides what they mean."""
    from ipf.interface.runtime import THREAD_VARIABLES

    env = dict(os.environ)
    env.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    env["IPF_NUM_THREADS"] = "1"
    env["IPF_WARNINGS_AS_SUCCESS"] = "0"
    return env


def output_paths(job_order: Path) -> list[Path]:
    """The outputs the Job Order names (empty when it cannot be read)."""
    from ipf.interface import joborder
    from ipf.interface.errors import IpfError

    try:
        job = joborder.read(job_order)
    except (IpfError, OSError):
        return []
    return list(dict.fromkeys(o.file_name for p in job.procs for o in p.outputs))


def clean_outputs(job_order: Path) -> list[Path]:
    """Remove the Job Order's outputs and ``ipf``'s staging directories beside them; returns the
    paths removed."""
    removed = []
    for final in output_paths(job_order):
        found = [final] if final.exists() or final.is_symlink() else []
        try:
            found += [p for p in final.parent.iterdir()
                      if p.name.startswith(STAGING_PREFIX) and p.name.endswith(f"-{final.name}")]
        except OSError:
            pass
        for path in found:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _started_before(log: Path, header: str) -> bool:
    try:
        with open(log, "rb") as f:
            return any(line.startswith(header.encode()) for line in f)
    except OSError:
        return False


def run_attempt(job_order: str, log: str, *, tag: str, clean: bool = False,
                ipf: str | None = None) -> dict:
    """Run ``ipf job_order`` once, its output appended to ``log``.

    ``tag`` names the attempt uniquely (batch run and attempt number); finding it already in the
    log means this very attempt was started before, by a worker since lost, and forces ``clean``.
    Returns ``exit_code`` (negative: killed by that signal; ``None``: not run, see ``error``),
    ``wall_time_s``, ``host``, ``started`` (UTC) and ``cleaned`` (paths removed first).
    """
    job, log_path = Path(job_order), Path(log)
    exe = ipf or ipf_executable()
    host = socket.gethostname()
    header = f"{HEADER} {tag} "
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result = {"exit_code": None, "wall_time_s": 0.0, "host": host, "started": started,
              "cleaned": [], "error": None}
    t0 = time.monotonic()
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(job, "rb")
    except OSError as exc:
        result["error"] = f"cannot open {exc.filename}: {exc.strerror}"
        return result
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            result["error"] = f"{job} is locked: another process is running it"
            return result
        if clean or _started_before(log_path, header):
            result["cleaned"] = [str(p) for p in clean_outputs(job)]
        with open(log_path, "ab") as out:
            out.write(f"{header}on {host} at {started}: {exe} {job}\n".encode())
            for path in result["cleaned"]:
                out.write(f"{HEADER} removed {path} (left by an earlier attempt)\n".encode())
            out.flush()
            try:
                child = subprocess.Popen([exe, str(job)], stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, env=child_env(),
                                         start_new_session=True, pass_fds=(lock.fileno(),),
                                         preexec_fn=_die_with_parent)
            except OSError as exc:
                result["error"] = f"cannot start {exe}: {exc.strerror}"
                return result
            try:
                result["exit_code"] = child.wait()
            finally:
                if child.poll() is None:
                    os.killpg(child.pid, signal.SIGKILL)
                    child.wait()
    result["wall_time_s"] = round(time.monotonic() - t0, 3)
    return result
