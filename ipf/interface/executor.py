"""Run a Job Order: check everything first, then the tasks in strict sequence, outputs atomically.

The order of a run:

1. read the Job Order and select its task table (:mod:`ipf.interface.joborder`,
   :mod:`ipf.interface.tasktable`);
2. plan and check before any task starts (:mod:`ipf.interface.plan`): entry points, typed dynamic
   parameters, mandatory inputs, outputs, ``Min_Disk_Space``;
3. run each task. Its outputs are written in a hidden staging directory beside the destination
   and renamed into place only when the task ends well (:mod:`ipf.interface.staging`); a failed
   task leaves nothing. A failed non-critical task is logged and the run goes on, and so does a
   failed task of a ``Detached`` pool, critical or not: in the ESA format the pools after a
   detached pool do not wait for it, so its failure cannot end them (``PROCESSING_WARNING``, the
   outputs of the other pools are kept). A failed critical task of any other pool,
   ``Max_Time``, SIGINT or SIGTERM (:mod:`ipf.interface.signals`) end the run, and then the
   outputs this run has already put in place are removed too, so a host can re-run the Job Order
   as it is. A second signal ends the process at once.

Every exception ending a task or the run becomes an exit code through
:func:`ipf.interface.errors.exit_code`. One that is not an :class:`~ipf.interface.errors.IpfError`
(nor a ``MemoryError`` or ``OSError``) is a bug: ``UNEXPECTED_EXCEPTION``, with its traceback in
the log at debug level and in the file ``IPF_TRACEBACK_<task>_<pid>.txt`` (:data:`TRACEBACK_FILE`)
named in the error line: beside the task's first output, or in the working directory for a task
without outputs or an error outside a task. It is not an output: a re-run is not refused for it.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import shutil
import signal
import subprocess
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipf.interface import joborder as jo
from ipf.interface import log as ipflog
from ipf.interface import plan as pl
from ipf.interface import tasktable as tt
from ipf.interface.context import TaskContext
from ipf.interface.errors import IpfError, JobOrderError, TaskError, TaskTableError, exit_code
from ipf.interface.exitcodes import ExitCode, worst
from ipf.interface.files import atomic_write
from ipf.interface.signals import Stop, StopSignals
from ipf.interface.staging import Staged, Staging

__all__ = ["Executor", "Result", "KILL_GRACE_S", "TRACEBACK_FILE"]

KILL_GRACE_S = float(os.environ.get("IPF_KILL_GRACE", "5"))

#: name of the file holding the traceback of an unexpected exception (``task`` is ``run`` outside a task)
TRACEBACK_FILE = "IPF_TRACEBACK_{task}_{pid}.txt"


@dataclass
class Result:
    """How one task ended."""

    task: str
    code: ExitCode
    seconds: float
    message: str = ""


class Executor:
    """Runs one Job Order; :meth:`run` returns the run's :class:`ExitCode`."""

    def __init__(self, job_order: os.PathLike | str, *, dry_run: bool = False,
                 json_logs: bool | None = None):
        self.job_path = Path(job_order)
        self.dry_run = dry_run
        self.json_logs = json_logs
        self.log = ipflog.get_logger()
        self.results: list[Result] = []
        self.working_dir = Path.cwd()
        self.staging = Staging(self.job_path, self.log)
        self.signals = StopSignals(self.log, self._end_now)
        self._child: subprocess.Popen | None = None

    # ----------------------------------------------------------------------------------- run
    def run(self) -> ExitCode:
        """Check and run the Job Order. Never raises: every failure becomes an exit code."""
        with self.signals.installed():
            try:
                return self._run()
            except Stop as stop:
                self.log.error(f"run stopped: {stop.reason}")
                return stop.code
            except Exception as exc:
                return self._report(exc, self.log, "run", self.working_dir)

    def _run(self) -> ExitCode:
        job = jo.read(self.job_path)
        ipflog.configure(job.processor_name, job.version, job.stdout_log_level.value,
                         job.stderr_log_level.value, self.json_logs)
        self.log = self.staging.log = self.signals.log = ipflog.get_logger()
        self.job = job
        code = ExitCode.OK
        for text in job.warnings:
            self.log.warning(f"{self.job_path}: {text}")
            code = worst(code, ExitCode.XML_WARNING)
        if job.config_files:
            self.log.warning(f"{self.job_path}: Config_Files "
                             f"{', '.join(map(str, job.config_files))} not applied: this processor "
                             "takes its configuration from the task table and the GIPP inputs")

        table = tt.find(job.processor_name, job.version, job_order=self.job_path,
                        warn=self.log.warning)
        self.table = table
        jo.check_outputs(job)
        self.log.info(f"Job Order {self.job_path} ({job.dialect}), task table {table.source}"
                      + (", TEST run" if job.test else ""))
        if table.test and not job.test:
            raise JobOrderError(f"task table {table.source} is a test table (Test=true) and this "
                                "Job Order is operational (Test=false)",
                                source=self.job_path, element="/Ipf_Job_Order/Ipf_Conf/Test")
        if job.order_type is not None:
            table = self.table = table.for_order_type(job.order_type)
        steps = pl.plan(job, table)
        params, unknown = tt.typed_parameters(table, job)
        for name in unknown:
            self.log.warning(f"dynamic processing parameter {name} is not declared in the task "
                             "table; passed on as a string")
        table.check_entry_points([s.task for s in steps])
        for n in pl.detached_pools(steps, table):
            self.log.warning(f"pool {n} of {table.source} is Detached: on this single-core "
                             "processor it runs in sequence, after the pools before it; a "
                             "failure of its tasks does not end the run")
        self.working_dir = pl.working_dir(job, create=not self.dry_run)
        code = worst(code, pl.check_inputs(steps, self.job_path, self.log, job.sensing_time))
        pl.check_outputs(steps, self.job_path)
        pl.check_disk_space(steps, table, self.working_dir)
        self.signals.checkpoint()
        if self.dry_run:
            pl.print_plan(steps, table, params, self.log)
            return code
        return worst(code, self.execute(steps, params))

    # ----------------------------------------------------------------------------- execution
    def execute(self, steps: list[pl.Step], params: dict[str, Any]) -> ExitCode:
        """Run ``steps`` in sequence within ``Max_Time``; on an error, leave no output."""
        code = ExitCode.OK
        started = time.monotonic()
        try:
            with self.signals.max_time(self.table.max_time):
                for n, step in enumerate(steps, 1):
                    self.signals.checkpoint()
                    result = self.run_step(step, params, n, len(steps))
                    self.results.append(result)
                    if result.code.is_error:
                        if step.task.critical and not step.pool.detached:
                            code = result.code
                            break
                        if step.pool.detached:
                            self.log.warning(f"task {step.task.name} of a Detached pool failed "
                                             f"({result.code.name}); the pools after it do not "
                                             "wait for it, so the run goes on")
                        else:
                            self.log.error(f"non-critical task {step.task.name} failed "
                                           f"({result.code.name}); the run goes on")
                        code = worst(code, ExitCode.PROCESSING_WARNING)
                    else:
                        code = worst(code, result.code)
                if not code.is_error:
                    self.signals.checkpoint()
        except Stop as stop:
            self.log.error(f"run stopped: {stop.reason}")
            code = stop.code
        except Exception as exc:
            code = self._report(exc, self.log, "run", self.working_dir)
        finally:
            if code.is_error:
                self.staging.abandon()
        total = time.monotonic() - started
        for r in self.results:
            self.log.info(f"task {r.task}: {r.code.name} in {r.seconds:.2f} s"
                          + (f" ({r.message})" if r.message else ""))
        self.log.info(f"end of processing: {code.name} ({int(code)}) in {total:.2f} s")
        self._write_summary(code, total)
        return code

    def _write_summary(self, code: ExitCode, total: float) -> None:
        """With ``IPF_RUN_SUMMARY=FILE``, the run's exit code and time per task as JSON (for
        batch runners and reports; written atomically, a failure to write is only logged)."""
        path = os.environ.get("IPF_RUN_SUMMARY")
        if not path:
            return
        summary = {"processor": self.table.processor_name, "version": self.table.version,
                   "exit_code": int(code), "status": code.name, "seconds": round(total, 3),
                   "tasks": [{"task": r.task, "status": r.code.name, "seconds": round(r.seconds, 3)}
                             for r in self.results]}
        try:
            atomic_write(path, json.dumps(summary, indent=1) + "\n")
        except OSError as exc:
            self.log.warning(f"run summary {path} not written: {exc}")

    def run_step(self, step: pl.Step, params: dict[str, Any], n: int, total: int) -> Result:
        """Run one task with its outputs staged; commit them if it ends well, else discard them."""
        task = step.task
        tlog = self.log.bind(task=task.name)
        tlog.info(f"start of task {task.version} ({n}/{total}, "
                  f"{'critical' if task.critical else 'non-critical'})")
        t0 = time.monotonic()
        staged: dict[str, Staged] = {}
        try:
            staged = self.staging.stage(step.proc.outputs)
            with self.signals.task():
                if task.entry_point is not None:
                    code = self._call(step, staged, params, tlog)
                else:
                    code = self._spawn(step, staged, tlog)
            if not code.is_error:
                _check_produced(step, staged)
                self.staging.commit(staged)
        except Stop as stop:
            self.staging.discard(staged.values())
            self.results.append(Result(task.name, stop.code, time.monotonic() - t0, stop.reason))
            raise
        except Exception as exc:
            beside = step.proc.outputs[0].file_name.parent if step.proc.outputs else None
            code = self._report(exc, tlog, task.name, beside if beside and beside.is_dir()
                                else self.working_dir)
        seconds = time.monotonic() - t0
        if code.is_error:
            self.staging.discard(staged.values())
            tlog.error(f"task failed: {code.name} after {seconds:.2f} s")
        else:
            tlog.info(f"end of task: {code.name} in {seconds:.2f} s")
        return Result(task.name, code, seconds)

    def _call(self, step: pl.Step, staged: dict[str, Staged], params: dict[str, Any],
              tlog) -> ExitCode:
        module, function = step.task.entry_point
        ctx = TaskContext(job=self.job, table=self.table, task=step.task, proc=step.proc,
                          params=params, log=tlog, working_dir=self.working_dir, staged=staged)
        try:
            fn = getattr(importlib.import_module(module), function)
        except (ImportError, AttributeError) as exc:
            raise TaskTableError(f"entry point {step.task.file_name!r}: {exc}",
                                 source=self.table.source,
                                 element=f"{step.task.xpath}/File_Name") from None
        if not _takes_one_argument(fn):
            raise TaskTableError(f"entry point {step.task.file_name!r} is not a task: a task is a "
                                 "function of one argument, its TaskContext",
                                 source=self.table.source, element=f"{step.task.xpath}/File_Name")
        returned = fn(ctx)
        if isinstance(returned, ExitCode) and returned.is_error:
            return returned
        if ctx.warnings or (isinstance(returned, ExitCode) and returned.is_warning):
            return ExitCode.PROCESSING_WARNING
        return ExitCode.OK

    def _report(self, exc: Exception, log, task: str, folder: Path) -> ExitCode:
        """Log ``exc`` in one error line and return its exit code; the traceback of a bug goes
        to the log at debug level and to :data:`TRACEBACK_FILE` in ``folder``."""
        code = exit_code(exc)
        if isinstance(exc, IpfError):
            log.error(str(exc))
        elif code is ExitCode.OUT_OF_MEMORY:
            log.error("out of memory")
        elif isinstance(exc, OSError):
            log.error(f"{type(exc).__name__}: {exc}")
        else:
            text = traceback.format_exc()
            for line in text.rstrip().splitlines():
                log.debug(line)
            saved = _save_traceback(text, folder / TRACEBACK_FILE.format(task=task, pid=os.getpid()),
                                    log)
            log.error(f"unexpected {type(exc).__name__}: {exc}"
                      + (f" (traceback in {saved})" if saved else ""))
        return code

    # ------------------------------------------------------------------- executable tasks
    def _spawn(self, step: pl.Step, staged: dict[str, Staged], tlog) -> ExitCode:
        """Run an executable task as ``<exe> <JobOrder.xml>`` with a Job Order of its own."""
        exe = self.table.executable(step.task)
        proc = step.proc.model_copy(update={"outputs": tuple(
            o.model_copy(update={"file_name": staged[o.file_type].path}) for o in step.proc.outputs)})
        job = self.job.model_copy(update={"procs": (proc,)})
        order_dir = self._order_dir()
        order_dir.mkdir(parents=True, exist_ok=True)
        order = jo.write(job, order_dir / f"JobOrder.{step.task.name}.xml")
        tlog.debug(f"running {exe} {order}")
        watched = {signal.SIGINT, signal.SIGTERM, signal.SIGALRM}
        # a signal between fork and the assignment would orphan the child: hold them until then
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, watched)
        try:
            self._child = subprocess.Popen(
                [str(exe), str(order)], start_new_session=True,
                preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_SETMASK, mask))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        try:
            status = self._child.wait()
        except Stop:
            self._terminate_child(step.pool.killing_signal, tlog)
            raise
        finally:
            child, self._child = self._child, None
            if child.poll() is None:
                self._terminate_child(signal.SIGKILL, tlog, child)
            shutil.rmtree(order_dir, ignore_errors=True)
        if status == 0:
            return ExitCode.OK
        if 0 < status < 128:
            tlog.warning(f"{exe.name} exited with warning code {status}")
            return ExitCode.PROCESSING_WARNING
        tlog.error(f"{exe.name} exited with code {status}")
        return ExitCode.PROCESSING_ERROR

    def _order_dir(self) -> Path:
        return self.working_dir / f".ipf-{os.getpid()}"

    def _terminate_child(self, sig: int, tlog, child: subprocess.Popen | None = None) -> None:
        child = child or self._child
        if child is None or child.poll() is not None:
            return
        try:
            os.killpg(child.pid, sig)
            child.wait(timeout=KILL_GRACE_S)
        except subprocess.TimeoutExpired:
            tlog.warning(f"task still running {KILL_GRACE_S:.0f} s after signal {sig}; killing it")
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        except ProcessLookupError:
            pass

    def _end_now(self) -> None:
        """Second signal: kill the running executable and take this run's outputs out of their
        places (renames only); the process then exits without further cleaning."""
        try:
            if self._child is not None and self._child.poll() is None:
                os.killpg(self._child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.staging.move_aside()
        shutil.rmtree(self._order_dir(), ignore_errors=True)


def _check_produced(step: pl.Step, staged: dict[str, Staged]) -> None:
    """A :class:`TaskError` when a mandatory output of ``step`` was not written."""
    mandatory = {o.file_type for o in step.task.outputs if o.mandatory}
    for out in step.proc.outputs:
        s = staged[out.file_type]
        if not (out.mandatory or out.file_type in mandatory):
            continue
        if not s.path.exists() or (s.directory and not any(s.path.iterdir())):
            raise TaskError(f"mandatory {out.file_type} output {out.file_name} was not written")


def _save_traceback(text: str, path: Path, log) -> Path | None:
    try:
        return atomic_write(path, text)
    except OSError as exc:
        log.warning(f"traceback not written to {path}: {exc}")
        return None


def _takes_one_argument(fn) -> bool:
    """Whether ``fn`` is a task: callable with one positional argument, which, when annotated,
    is a :class:`~ipf.interface.context.TaskContext`."""
    if not callable(fn):
        return False
    try:
        signature = inspect.signature(fn)
        signature.bind(None)
    except TypeError:
        return False
    except ValueError:
        return True
    first = next(iter(signature.parameters.values()), None)
    if first is None or first.annotation is inspect.Parameter.empty:
        return True
    annotation = first.annotation if isinstance(first.annotation, str) else getattr(
        first.annotation, "__name__", str(first.annotation))
    return annotation.rsplit(".", 1)[-1] == "TaskContext"
