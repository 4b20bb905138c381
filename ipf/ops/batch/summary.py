"""The summary of a batch: counts and one record per job, as JSON and as terminal lines."""

from __future__ import annotations

import json
from pathlib import Path

from ipf.interface.files import atomic_write
from ipf.ops.batch.runner import JobResult

__all__ = ["summarize", "write_json", "line", "text"]


def summarize(results: list[JobResult], elapsed_s: float) -> dict:
    """``jobs``, ``ok``, ``failed``, ``skipped``, ``retried`` (jobs run more than once),
    ``attempts``, ``wall_time_s`` (the batch, start to end) and ``results``."""
    return {"jobs": len(results),
            "ok": sum(r.status == "ok" for r in results),
            "failed": sum(r.status == "failed" for r in results),
            "skipped": sum(r.status == "skipped" for r in results),
            "retried": sum(r.attempts > 1 for r in results),
            "attempts": sum(r.attempts for r in results),
            "wall_time_s": round(elapsed_s, 3),
            "results": [r.to_json() for r in results]}


def write_json(data: dict, path: Path) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(data, indent=1) + "\n")


def line(r: JobResult) -> str:
    """One terminal line for a finished job."""
    if r.status == "skipped":
        return f"skipped {r.job.id}: {r.error}"
    code = "-" if r.exit_code is None else f"{r.exit_code} {r.to_json()['exit_name']}"
    tail = f": {r.error}" if r.error else ""
    return (f"{r.status:<7} {r.job.id}: exit {code}, {r.attempts} attempt"
            f"{'s' if r.attempts != 1 else ''}, {r.wall_time_s:.1f} s, log {r.job.log}{tail}")


def text(summary: dict) -> str:
    """The closing terminal line."""
    return (f"ipf-batch: {summary['jobs']} jobs, {summary['ok']} ok, {summary['failed']} failed, "
            f"{summary['skipped']} skipped, {summary['retried']} retried; "
            f"{summary['wall_time_s']:.1f} s")
