"""``ipf-batch``: run many Job Orders on a Dask cluster, each as its own single-core ``ipf``.

``ipf-batch run JOBS...`` runs Job Orders, directories (a chain each) and list files
(:mod:`ipf.ops.batch.jobs`) and writes a summary; ``ipf-batch watch SPOOL`` serves a spool directory
(:mod:`ipf.ops.batch.spool`). Exit codes: :mod:`ipf.ops.batch.policy`. See ``docs/batch.md``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from ipf.ops.batch import policy


__all__ = ["run", "watch", "main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ipf-batch", description="Run Job Orders on a Dask cluster, "
                                "each as a single-core `ipf` process.")
    sub = p.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--scheduler", metavar="ADDRESS",
                        help="Dask scheduler (tcp://host:8786); default: a LocalCluster")
    common.add_argument("--workers", type=int, metavar="N",
                        help="LocalCluster worker processes, one thread each (default: CPUs)")
    common.add_argument("--retries", type=int, default=1, metavar="K",
                        help="attempts after the first for a retryable exit code (default 1)")
    common.add_argument("--warnings-as-success", action="store_true",
                        help="count the warning exit codes (1-127) as success")
    run = sub.add_parser("run", parents=[common], help="run Job Orders, directories, lists")
    run.add_argument("jobs", nargs="+", metavar="JOBS",
                     help="Job Order, directory (one chain in name order) or list file")
    run.add_argument("--independent", action="store_true",
                     help="run the Job Orders of a directory or list in parallel, not as a chain")
    run.add_argument("--log-dir", type=Path, default=Path("ipf-batch-logs"), metavar="DIR",
                     help="one log per job (default ./ipf-batch-logs)")
    run.add_argument("--summary", type=Path, metavar="FILE",
                     help="JSON summary (default LOG_DIR/summary.json)")
    watch = sub.add_parser("watch", parents=[common], help="serve a spool directory")
    watch.add_argument("spool", type=Path, metavar="SPOOL")
    watch.add_argument("--poll", type=float, default=1.0, metavar="S",
                       help="seconds between looks at the spool (default 1)")
    return p


def _say(text: str) -> None:
    print(text, flush=True)


def run(args) -> int:
    from ipf.ops.batch import summary
    from ipf.ops.batch.jobs import collect
    from ipf.ops.batch.runner import Runner, connect, run_chains

    log_dir = args.log_dir.resolve()
    try:
        chains = collect(args.jobs, log_dir, independent=args.independent)
    except ValueError as exc:
        print(f"ipf-batch: {exc}", file=sys.stderr)
        return policy.EXIT_USAGE
    if not chains:
        print("ipf-batch: no Job Order found", file=sys.stderr)
        return policy.EXIT_USAGE
    t0 = time.monotonic()
    with connect(args.scheduler, args.workers) as client:
        runner = Runner(client, retries=args.retries, warnings_ok=args.warnings_as_success)
        _say(f"ipf-batch: {sum(map(len, chains))} jobs in {len(chains)} chains on "
             f"{runner.capacity()} worker threads; logs in {log_dir}")
        results = run_chains(runner, chains, lambda r: _say(summary.line(r)))
    order = {job.id: n for n, job in enumerate(j for c in chains for j in c)}
    results.sort(key=lambda r: order[r.job.id])
    data = summary.summarize(results, time.monotonic() - t0)
    summary.write_json(data, (args.summary or log_dir / "summary.json").resolve())
    _say(summary.text(data))
    return policy.EXIT_OK if data["ok"] == data["jobs"] else policy.EXIT_JOBS_FAILED


def watch(args) -> int:
    from ipf.ops.batch.runner import Runner, connect
    from ipf.ops.batch.spool import Spool, SpoolBusy, watch as serve

    stop = threading.Event()

    def on_signal(signum, frame):
        if stop.is_set():
            os._exit(policy.EXIT_STOPPED)
        _say(f"ipf-batch: {signal.Signals(signum).name}: finishing the jobs started, "
             "starting no other")
        stop.set()

    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, on_signal)
    spool = Spool(args.spool)
    try:
        with spool.served(), connect(args.scheduler, args.workers) as client:
            runner = Runner(client, retries=args.retries, warnings_ok=args.warnings_as_success)
            _say(f"ipf-batch: serving {spool.root} on {runner.capacity()} worker threads")
            serve(spool, runner, stop, poll=args.poll, say=_say)
    except SpoolBusy as exc:
        print(f"ipf-batch: {exc}", file=sys.stderr)
        return policy.EXIT_USAGE
    _say("ipf-batch: stopped")
    return policy.EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.workers is not None and args.workers < 1 or args.retries < 0:
        _parser().error("--workers must be at least 1 and --retries at least 0")
    return {"run": run, "watch": watch}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
