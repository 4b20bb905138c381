"""Run a Job Order: check everything first, then the tasks in strict sequence, outputs atomically.

The order of a run:

1. read the Job Order and select its task table (:mod:`ipf.interface.joborder`, :mod:`ipf.interface.tasktable`);
2. plan: the task table's tasks that the Job Order lists, in table order (pools in sequence, the
   tasks of a pool one after the other: this processor uses one core);
3. check before any task starts: entry points, typed dynamic parameters, mandatory inputs,
   outputs (parent writable, destination absent or an empty directory), ``Min_Disk_Space``;
4. run each task. Its outputs are written in a hidden staging directory beside the destination
   and renamed into place only when the task ends well; a failed task leaves nothing. A failed
   non-critical task is logged and the run goes on; a failed critical task, ``Max_Time``, SIGINT
   or SIGTERM end the run, and then the outputs this run has already put in place are removed too,
   so a host can re-run the Job Order as it is. A second signal ends the process at once.
"""

from __future__ import annotations

import errno
import importlib
import os
import shutil
import signal
import subprocess
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipf.interface import joborder as jo
from ipf.interface import log as ipflog
from ipf.interface import runtime
from ipf.interface import tasktable as tt
from ipf.interface import errors
from ipf.interface.context import TaskContext
from ipf.interface.errors import TaskError
from ipf.interface.staging import STAGING_PREFIX, Staged
from ipf.interface.exitcodes import ExitCode, IpfError, worst

KILL_GRACE_S = float(os.environ.get("IPF_KILL_GRACE", "5"))


class Stop(BaseException):
    """Ends the current task from a signal handler; not an ``Exception`` so tasks cannot swallow it."""

    def __init__(self, code: ExitCode, reason: str):
        self.code = code
        self.reason = reason
        super().__init__(reason)


@dataclass
class Step:
    """One planned task: its table entry, pool and the Job Order's ``Ipf_Proc``."""

    task: tt.Task
    pool: tt.Pool
    proc: jo.IpfProc


@dataclass
class Result:
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
        self._committed: list[Staged] = []
        self._staging: list[Staged] = []
        self._created_dirs: list[Path] = []
        self._child: subprocess.Popen | None = None
        self._signals = 0
        self._stop: Stop | None = None
        self._in_task = False

    # ----------------------------------------------------------------------------------- run
    def run(self) -> ExitCode:
        """Check and run the Job Order. Never raises: every failure becomes an exit code."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        for signum in runtime.take_early_signals():
            self._on_signal(signum, None)
        try:
            return self._run()
        except Stop as stop:
            self.log.error(f"run stopped: {stop.reason}")
            return stop.code
        except (IpfError, errors.IpfError) as exc:
            self.log.error(str(exc))
            return exc.code
        except Exception as exc:
            _log_traceback(self.log)
            self.log.error(f"unexpected {type(exc).__name__}: {exc}")
            return ExitCode.UNEXPECTED_EXCEPTION
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _checkpoint(self) -> None:
        if self._stop is not None:
            raise self._stop

    def _run(self) -> ExitCode:
        job = jo.read(self.job_path)
        ipflog.configure(job.processor_name, job.version, job.stdout_log_level.value,
                         job.stderr_log_level.value, self.json_logs)
        self.log = ipflog.get_logger()
        self.job = job
        code = ExitCode.OK
        for text in job.count_mismatches:
            self.log.warning(f"{self.job_path}: {text}")
            code = worst(code, ExitCode.XML_WARNING)

        table = tt.find(job.processor_name, job.version, job_order=self.job_path,
                        warn=self.log.warning)
        self.table = table
        self.log.info(f"Job Order {self.job_path} ({job.dialect}), task table {table.source}"
                      + (", TEST run" if job.test else ""))
        if table.test and not job.test:
            raise IpfError(ExitCode.JOB_ORDER_READ_ERROR, f"task table {table.source} is a test "
                           "table (Test=true) and this Job Order is operational (Test=false)",
                           source=self.job_path, element="/Ipf_Job_Order/Ipf_Conf/Test")
        steps = self.plan()
        params, unknown = tt.typed_parameters(table, job)
        for name in unknown:
            self.log.warning(f"dynamic processing parameter {name} is not declared in the task "
                             "table; passed on as a string")
        table.check_entry_points([s.task for s in steps])
        self.working_dir = self._working_dir()
        code = worst(code, self.check_inputs(steps))
        self.check_outputs(steps)
        self.check_disk_space(steps)
        self._checkpoint()
        if self.dry_run:
            self.print_plan(steps, params)
            return code
        return worst(code, self.execute(steps, params))

    def plan(self) -> list[Step]:
        """The tasks to run, in task-table order; every ``Ipf_Proc`` must name a table task."""
        job, table = self.job, self.table
        seen = set()
        for proc in job.procs:
            where = dict(source=self.job_path, element=f"{proc.xpath}/Task_Name")
            if table.task(proc.task_name) is None:
                raise IpfError(ExitCode.UNKNOWN_PROCESSOR, f"task {proc.task_name!r} is not in task "
                               f"table {table.source} (tasks: "
                               f"{', '.join(t.name for t in table.tasks)})", **where)
            if proc.task_name in seen:
                raise IpfError(ExitCode.JOB_ORDER_READ_ERROR, f"task {proc.task_name} is listed "
                               "twice", **where)
            seen.add(proc.task_name)
        return [Step(task, pool, job.proc(task.name)) for pool in table.pools for task in pool.tasks
                if job.proc(task.name) is not None]

    def _working_dir(self) -> Path:
        """The ``WORKING`` input directory (created when missing), else the current directory."""
        for proc in self.job.procs:
            for n, path in enumerate(proc.input_files("WORKING"), 1):
                try:
                    if self.dry_run:
                        _check_creatable(path)
                    else:
                        path.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    given = next(i for i in proc.inputs if i.file_type == "WORKING")
                    raise IpfError(ExitCode.OUTPUT_ERROR, f"working directory {path}: "
                                   f"{exc.strerror or exc}", source=self.job_path,
                                   element=f"{given.xpath}/List_of_File_Names/File_Name[{n}]") from None
                return path
        return Path.cwd()

    # -------------------------------------------------------------------------------- checks
    def check_inputs(self, steps: list[Step]) -> ExitCode:
        """Mandatory inputs present (or made by an earlier task of this run); warn on the rest."""
        code = ExitCode.OK
        produced: list[Path] = []
        for step in steps:
            for need in step.task.inputs:
                given = [i for i in step.proc.inputs if i.file_type in need.file_types and i.file_names]
                if need.mandatory and not given:
                    raise IpfError(ExitCode.MISSING_MANDATORY_FILE, f"task {step.task.name} needs an "
                                   f"input of type {' or '.join(need.file_types)}; the Job Order "
                                   "gives none", source=self.job_path,
                                   element=f"{step.proc.xpath}/List_of_Inputs")
            mandatory_types = {ft for need in step.task.inputs if need.mandatory for ft in need.file_types}
            for given in step.proc.inputs:
                if given.file_type == "WORKING":
                    continue
                for n, path in enumerate(given.file_names, 1):
                    if path.exists() or any(path == p or p in path.parents for p in produced):
                        continue
                    where = f"{given.xpath}/List_of_File_Names/File_Name[{n}]"
                    if given.file_type in mandatory_types:
                        raise IpfError(ExitCode.MISSING_MANDATORY_FILE, f"mandatory "
                                       f"{given.file_type} input {path} does not exist",
                                       source=self.job_path, element=where)
                    self.log.warning(f"{self.job_path}: {where}: {given.file_type} input {path} "
                                     "does not exist")
                    code = ExitCode.PROCESSING_WARNING
            produced.extend(o.file_name for o in step.proc.outputs)
        return code

    def check_outputs(self, steps: list[Step]) -> None:
        """Each output can be created where the Job Order puts it, and nothing is there yet.

        Outputs of different tasks must not be the same path or nested in each other; two
        outputs of one task may share a path (S2 Job Orders give PDI_DS and PDI_DS_GR_LIST the
        same directory). Nothing is created: parents are made when the task is staged.
        """
        owner: dict[Path, tuple[str, str]] = {}
        for step in steps:
            declared = {o.file_type for o in step.proc.outputs}
            for need in step.task.outputs:
                if need.mandatory and need.file_type not in declared:
                    raise IpfError(ExitCode.JOB_ORDER_READ_ERROR, f"task {step.task.name} makes a "
                                   f"mandatory {need.file_type} output; the Job Order gives no "
                                   "Output of that type", source=self.job_path,
                                   element=f"{step.proc.xpath}/List_of_Outputs")
            for out in step.proc.outputs:
                where = dict(source=self.job_path, element=f"{out.xpath}/File_Name")
                final = out.file_name.resolve()
                for other, (task, xpath) in owner.items():
                    if task != step.task.name and (other == final or other in final.parents
                                                   or final in other.parents):
                        raise IpfError(ExitCode.OUTPUT_ERROR, f"output {final} collides with "
                                       f"{other}, an output of task {task} ({xpath})", **where)
                owner[final] = (step.task.name, out.xpath)
                empty_dir = final.is_dir() and not final.is_symlink() and not any(final.iterdir())
                if (final.exists() or final.is_symlink()) and not empty_dir:
                    raise IpfError(ExitCode.OUTPUT_ERROR, f"output {final} already exists; "
                                   "refusing to overwrite it", **where)
                if len(_container_name(final).encode()) > 255:
                    raise IpfError(ExitCode.OUTPUT_ERROR, f"output name {final.name!r} is too long "
                                   f"to be staged (255 bytes with the '{STAGING_PREFIX}<pid>-' "
                                   "prefix)", **where)
                try:
                    _check_creatable(final.parent)
                except OSError as exc:
                    raise IpfError(ExitCode.OUTPUT_ERROR, f"cannot write output {final}: "
                                   f"{exc.strerror or exc}", **where) from None

    def check_disk_space(self, steps: list[Step]) -> None:
        """``Min_Disk_Space`` free on every file system that receives outputs and working files."""
        need_mb = self.table.min_disk_space_mb
        dirs = {self.working_dir} | {o.file_name.parent for s in steps for o in s.proc.outputs}
        devices = {}
        for d in sorted(dirs):
            existing = next(p for p in (d, *d.parents) if p.exists())
            devices.setdefault(os.stat(existing).st_dev, existing)
        for d in devices.values():
            free_mb = shutil.disk_usage(d).free / 2**20
            if free_mb < need_mb:
                raise IpfError(ExitCode.DISK_FULL, f"{free_mb:.0f} MB free on {d}, the task table "
                               f"needs {need_mb:.0f} MB", source=self.table.source,
                               element="/Ipf_Task_Table/Min_Disk_Space")

    def print_plan(self, steps: list[Step], params: dict[str, Any]) -> None:
        self.log.info(f"dry run: {len(steps)} task(s) of {self.table.processor_name} "
                      f"{self.table.version}; nothing is executed")
        for n, step in enumerate(steps, 1):
            t = step.task
            pool = self.table.pools.index(step.pool) + 1
            self.log.info(f"{n}. pool {pool} task {t.name} {t.version} "
                          f"{'critical' if t.critical else 'non-critical'} "
                          f"level {t.criticality_level}: {t.file_name}")
            for i in step.proc.inputs:
                for f in i.file_names:
                    self.log.info(f"     in  {i.file_type:<16} {f}"
                                  + ("" if f.exists() else " (made by an earlier task)"))
            for o in step.proc.outputs:
                self.log.info(f"     out {o.file_type:<16} {o.file_name}")
        for name, value in params.items():
            self.log.info(f"   parameter {name} = {value!r}")

    # ----------------------------------------------------------------------------- execution
    def execute(self, steps: list[Step], params: dict[str, Any]) -> ExitCode:
        code = ExitCode.OK
        started = time.monotonic()
        previous_alarm = signal.signal(signal.SIGALRM, self._on_alarm)
        if self.table.max_time > 0:
            signal.setitimer(signal.ITIMER_REAL, self.table.max_time)
        try:
            for n, step in enumerate(steps, 1):
                self._checkpoint()
                result = self.run_step(step, params, n, len(steps))
                self.results.append(result)
                if result.code.is_error:
                    if step.task.critical:
                        code = result.code
                        break
                    self.log.error(f"non-critical task {step.task.name} failed "
                                   f"({result.code.name}); the run goes on")
                    code = worst(code, ExitCode.PROCESSING_WARNING)
                else:
                    code = worst(code, result.code)
            if not code.is_error:
                self._checkpoint()
        except Stop as stop:
            self.log.error(f"run stopped: {stop.reason}")
            code = stop.code
        except Exception as exc:
            _log_traceback(self.log)
            self.log.error(f"unexpected {type(exc).__name__}: {exc}")
            code = ExitCode.UNEXPECTED_EXCEPTION
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_alarm)
            if code.is_error:
                self._discard(self._staging)
                self._rollback()
                for d in reversed(self._created_dirs):
                    try:
                        d.rmdir()
                    except OSError:
                        pass
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
        import json

        summary = {"processor": self.table.processor_name, "version": self.table.version,
                   "exit_code": int(code), "status": code.name, "seconds": round(total, 3),
                   "tasks": [{"task": r.task, "status": r.code.name, "seconds": round(r.seconds, 3)}
                             for r in self.results]}
        tmp = Path(f"{path}.tmp-{os.getpid()}")
        try:
            tmp.write_text(json.dumps(summary, indent=1) + "\n")
            os.replace(tmp, path)
        except OSError as exc:
            self.log.warning(f"run summary {path} not written: {exc}")
            tmp.unlink(missing_ok=True)

    def run_step(self, step: Step, params: dict[str, Any], n: int, total: int) -> Result:
        """Run one task with its outputs staged; commit them if it ends well, else discard them."""
        task = step.task
        tlog = self.log.bind(task=task.name)
        tlog.info(f"start of task {task.version} ({n}/{total}, "
                  f"{'critical' if task.critical else 'non-critical'})")
        t0 = time.monotonic()
        staged: dict[str, Staged] = {}
        try:
            try:
                staged = self._stage(step)
            except (IpfError, errors.IpfError) as exc:
                tlog.error(str(exc))
                code = exc.code
            else:
                self._in_task = True
                self._checkpoint()
                try:
                    if task.entry_point is not None:
                        code = self._call(step, staged, params, tlog)
                    else:
                        code = self._spawn(step, staged, tlog)
                finally:
                    self._in_task = False
                if not code.is_error:
                    self._check_produced(step, staged)
                    self._commit(staged)
        except Stop as stop:
            self._discard(staged.values())
            self.results.append(Result(task.name, stop.code, time.monotonic() - t0, stop.reason))
            raise
        except TaskError as exc:
            tlog.error(str(exc))
            code = ExitCode.PROCESSING_ERROR
        except (IpfError, errors.IpfError) as exc:
            tlog.error(str(exc))
            code = exc.code
        seconds = time.monotonic() - t0
        if code.is_error:
            self._discard(staged.values())
            tlog.error(f"task failed: {code.name} after {seconds:.2f} s")
        else:
            tlog.info(f"end of task: {code.name} in {seconds:.2f} s")
        return Result(task.name, code, seconds)

    def _call(self, step: Step, staged: dict[str, Staged], params: dict[str, Any], tlog) -> ExitCode:
        module, function = step.task.entry_point
        ctx = TaskContext(job=self.job, table=self.table, task=step.task, proc=step.proc,
                          params=params, log=tlog, working_dir=self.working_dir, staged=staged)
        try:
            fn = getattr(importlib.import_module(module), function)
        except (ImportError, AttributeError) as exc:
            raise IpfError(ExitCode.XML_ERROR, f"entry point {step.task.file_name!r}: {exc}",
                           source=self.table.source, element=f"{step.task.xpath}/File_Name") from None
        try:
            returned = fn(ctx)
        except TaskError:
            raise
        except (IpfError, errors.IpfError) as exc:
            tlog.error(str(exc))
            return exc.code
        except MemoryError:
            tlog.error("out of memory")
            return ExitCode.OUT_OF_MEMORY
        except OSError as exc:
            tlog.error(f"{type(exc).__name__}: {exc}")
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                return ExitCode.DISK_FULL
            return ExitCode.PROCESSING_ERROR
        except Exception as exc:
            _log_traceback(tlog)
            tlog.error(f"unexpected {type(exc).__name__}: {exc}")
            return ExitCode.UNEXPECTED_EXCEPTION
        if isinstance(returned, ExitCode) and returned.is_error:
            return returned
        if ctx.warnings or (isinstance(returned, ExitCode) and returned.is_warning):
            return ExitCode.PROCESSING_WARNING
        return ExitCode.OK

    def _spawn(self, step: Step, staged: dict[str, Staged], tlog) -> ExitCode:
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

    # ------------------------------------------------------------------------ output staging
    def _stage(self, step: Step) -> dict[str, Staged]:
        """Create the staging place of every output of ``step``; ``IpfError`` names the output."""
        by_final: dict[Path, Staged] = {}
        staged: dict[str, Staged] = {}
        for out in step.proc.outputs:
            final = out.file_name
            if final not in by_final:
                container = final.parent / _container_name(final)
                try:
                    missing = [d for d in (final.parent, *final.parent.parents) if not d.exists()]
                    container.mkdir(parents=True)
                    self._created_dirs.extend(reversed(missing))
                    directory = out.file_name_type is jo.FileNameType.DIRECTORY
                    path = container / final.name
                    if directory:
                        path.mkdir()
                except OSError as exc:
                    self._discard(by_final.values())
                    shutil.rmtree(container, ignore_errors=True)
                    raise IpfError(ExitCode.OUTPUT_ERROR, f"cannot stage output {final}: "
                                   f"{exc.strerror or exc}", source=self.job_path,
                                   element=f"{out.xpath}/File_Name") from None
                by_final[final] = Staged(final, container, path, directory)
                self._staging.append(by_final[final])
            staged[out.file_type] = by_final[final]
        return staged

    def _check_produced(self, step: Step, staged: dict[str, Staged]) -> None:
        mandatory = {o.file_type for o in step.task.outputs if o.mandatory}
        for out in step.proc.outputs:
            s = staged[out.file_type]
            if not (out.mandatory or out.file_type in mandatory):
                continue
            if not s.path.exists() or (s.directory and not any(s.path.iterdir())):
                raise TaskError(f"mandatory {out.file_type} output {out.file_name} was not written")

    def _commit(self, staged: dict[str, Staged]) -> None:
        """Rename each complete output into place; an output that appeared meanwhile is an error."""
        for s in dict.fromkeys(staged.values()):
            if not s.path.exists():
                self._discard([s])
                continue
            if s.final.is_dir() and not s.final.is_symlink():
                try:
                    s.final.rmdir()
                except OSError:
                    raise IpfError(ExitCode.OUTPUT_ERROR, f"output {s.final} was filled by "
                                   "another process during the run", source=self.job_path) from None
                s.was_empty_dir = True
            elif s.final.exists() or s.final.is_symlink():
                raise IpfError(ExitCode.OUTPUT_ERROR, f"output {s.final} was created by another "
                               "process during the run", source=self.job_path)
            os.replace(s.path, s.final)
            s.container.rmdir()
            self._staging.remove(s)
            self._committed.append(s)

    def _discard(self, staged) -> None:
        for s in list(dict.fromkeys(staged)):
            shutil.rmtree(s.container, ignore_errors=True)
            if s in self._staging:
                self._staging.remove(s)

    def _move_aside(self) -> list[Path]:
        """Take every output this run committed out of its place, by renames only (fast), so a
        run that fails never leaves them; returns the hidden paths to delete."""
        trash = []
        for s in reversed(self._committed):
            hidden = s.final.parent / f"{STAGING_PREFIX}{os.getpid()}-removed-{s.final.name}"
            try:
                os.replace(s.final, hidden)
                trash.append(hidden)
            except OSError:
                continue
            if s.was_empty_dir:
                s.final.mkdir(exist_ok=True)
        return trash

    def _rollback(self) -> None:
        committed, trash = list(self._committed), self._move_aside()
        self._committed.clear()
        for s in committed:
            self.log.warning(f"removed output {s.final}: the run did not complete")
        for path in trash:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    # ------------------------------------------------------------------------------- signals
    def _on_signal(self, signum: int, frame) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals > 1:
            self._end_now(name)
        self.log.warning(f"received {name}: stopping the current task")
        self._stop = Stop(ExitCode.PREMATURE_TERMINATION, f"{name} received")
        if self._in_task:
            raise self._stop

    def _end_now(self, name: str) -> None:
        """Second signal: kill the running executable, take this run's outputs out of their
        places (renames only), and exit without further cleaning."""
        try:
            if self._child is not None and self._child.poll() is None:
                os.killpg(self._child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self._move_aside()
            shutil.rmtree(self._order_dir(), ignore_errors=True)
            self.log.error(f"second signal ({name}): ending now")
        finally:
            os._exit(int(ExitCode.PREMATURE_TERMINATION))

    def _on_alarm(self, signum: int, frame) -> None:
        if self._stop is not None:
            return
        self.log.error(f"Max_Time of {self.table.max_time:.0f} s exceeded")
        self._stop = Stop(ExitCode.MAX_TIME_EXCEEDED, f"Max_Time of {self.table.max_time:.0f} s "
                          "exceeded")
        if self._in_task:
            raise self._stop


def _container_name(final: Path) -> str:
    return f"{STAGING_PREFIX}{os.getpid()}-{final.name}"


def _log_traceback(logger) -> None:
    for line in traceback.format_exc().rstrip().splitlines():
        logger.debug(line)


def _check_creatable(directory: Path) -> None:
    """Raise ``OSError`` unless ``directory`` exists writable or could be created (no side effect)."""
    for d in (directory, *directory.parents):
        if d.exists():
            if not d.is_dir():
                raise OSError(errno.ENOTDIR, f"{d} is not a directory")
            if not os.access(d, os.W_OK | os.X_OK):
                raise OSError(errno.EACCES, f"{d} is not writable")
            return
