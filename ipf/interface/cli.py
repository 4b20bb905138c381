"""``ipf JobOrder.xml``: the command the Production Service runs.

The Job Order path is the only argument a host has to give. Options, for operators and testers:
``--dry-run`` prints the plan and runs nothing; ``--check-tasktable FILE`` validates a task table
and lists its tasks (exit code 1 when some executables cannot be checked here); ``--log-json`` logs JSON lines; ``--warnings-as-success`` exits 0 on warnings
(as ``IPF_WARNINGS_AS_SUCCESS=1``). The exit codes are those of :mod:`ipf.interface.exitcodes`.
"""

from __future__ import annotations

import argparse
import sys

from ipf import __version__

__all__ = ["main", "check_tasktable"]


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with JOB_ORDER_READ_ERROR (128), not argparse's 2, which the generic
    IPF interface reads as a warning."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(128, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ipf", description="Sentinel-2 MSI IPF: run an ESA Job Order.")
    p.add_argument("job_order", nargs="?", help="the Job Order XML file")
    p.add_argument("--dry-run", action="store_true", help="check the Job Order and print the plan")
    p.add_argument("--check-tasktable", metavar="FILE", help="validate a task table, list its tasks")
    p.add_argument("--log-json", action="store_true", default=None, help="log JSON lines")
    p.add_argument("--warnings-as-success", action="store_true", default=None,
                   help="exit 0 when the run ends with a warning")
    p.add_argument("--version", action="version", version=f"s2ipf {__version__}")
    return p


def main(argv: list[str] | None = None) -> int:
    from ipf.interface import runtime

    runtime.catch_early_signals()
    args = _parser().parse_args(argv)
    runtime.configure()

    from ipf.interface import log
    from ipf.interface.exitcodes import process_exit_status

    log.configure("ipf", __version__, "INFO", "WARNING", args.log_json)
    if args.check_tasktable:
        code = check_tasktable(args.check_tasktable)
    elif args.job_order:
        from ipf.interface.executor import Executor

        code = Executor(args.job_order, dry_run=args.dry_run, json_logs=args.log_json).run()
    else:
        _parser().error("the Job Order is missing")
    return process_exit_status(code, warnings_ok=args.warnings_as_success)


def check_tasktable(path: str):
    """Validate the task table ``path``, check its entry points and print its tasks in order.

    Returns ``XML_WARNING`` (1) when an executable cannot be checked on this machine (an unset
    ``$VAR``, a program not installed): the table is valid but a run here would fail.
    """
    from ipf.interface import log, tasktable
    from ipf.interface.errors import IpfError
    from ipf.interface.exitcodes import ExitCode

    logger = log.get_logger()
    unchecked: list[str] = []
    try:
        table = tasktable.read(path)
        table.check_entry_points(warn=unchecked.append)
    except IpfError as exc:
        logger.error(str(exc))
        return exc.code
    for text in dict.fromkeys(unchecked):
        logger.warning(f"{path}: cannot be checked here: {text}")
    print(f"{path}: valid task table for {table.processor_name} {table.version}"
          f"{' (test)' if table.test else ''}; Min_Disk_Space {table.min_disk_space_mb:.0f} MB, "
          f"Max_Time {table.max_time:.0f} s")
    for n, pool in enumerate(table.pools, 1):
        for task in pool.tasks:
            kind = "in-process" if task.entry_point else "executable"
            print(f"  pool {n}{' (detached)' if pool.detached else ''}: {task.name} {task.version} "
                  f"{'critical' if task.critical else 'non-critical'} "
                  f"(level {task.criticality_level}), {kind} {task.file_name}")
            for i in task.inputs:
                print(f"      input  {' | '.join(i.file_types)}{' (mandatory)' if i.mandatory else ''}"
                      f"{'' if i.mode == 'ALWAYS' else f' (mode {i.mode})'}")
            for o in task.options:
                print(f"      option {o.name} = {o.value!r}")
            for o in task.outputs:
                print(f"      output {o.file_type}{' (mandatory)' if o.mandatory else ''}")
    for p in table.dyn_params:
        print(f"  parameter {p.name} ({p.type.value}) default {p.default!r}")
    return ExitCode.XML_WARNING if unchecked else ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
