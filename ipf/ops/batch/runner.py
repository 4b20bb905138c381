"""The client side of a batch: the Dask cluster, one future per attempt, retries, and chains.

A :class:`Runner` submits jobs (:func:`ipf.ops.batch.attempt.run_attempt` on a worker), collects the
attempts that end, submits the next attempt of a job whose exit code is retryable
(:mod:`ipf.ops.batch.policy`), and hands back each job's final :class:`JobResult`. :func:`run_chains`
runs chains of jobs: the chains in parallel, the jobs of one chain one after the other, the rest of
a chain skipped when one of its jobs fails.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ipf.ops.batch import policy
from ipf.ops.batch.attempt import run_attempt


__all__ = ["Job", "JobResult", "connect", "Runner", "run_chains"]


@dataclass(frozen=True)
class Job:
    """A Job Order to run; ``id`` names it in logs and summaries, ``chain`` its chain."""

    id: str
    job_order: Path
    log: Path
    chain: str = ""


@dataclass
class JobResult:
    job: Job
    #: ``ok``, ``failed`` or ``skipped`` (an earlier job of its chain failed)
    status: str
    exit_code: int | None = None
    attempts: int = 0
    #: time spent in ``ipf``, all attempts together (s)
    wall_time_s: float = 0.0
    host: str | None = None
    error: str | None = None
    cleaned: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict:
        return {"id": self.job.id, "job_order": str(self.job.job_order), "chain": self.job.chain,
                "status": self.status, "exit_code": self.exit_code,
                "exit_name": policy.name(self.exit_code) if self.attempts else None,
                "attempts": self.attempts, "wall_time_s": round(self.wall_time_s, 3),
                "host": self.host, "log": str(self.job.log), "error": self.error,
                "cleaned": self.cleaned}


@contextmanager
def connect(scheduler: str | None = None, workers: int | None = None) -> Iterator:
    """A Dask client: of the scheduler at ``scheduler``, or of a LocalCluster of ``workers``
    processes (default: one per CPU) with one thread each and no memory limit (the work is done in
    ``ipf`` child processes)."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                      processes=True, memory_limit=0, dashboard_address=None,
                      silence_logs=logging.WARNING) as cluster, Client(cluster) as client:
        yield client


@dataclass
class _Flight:
    job: Job
    attempt: int
    result: JobResult


class Runner:
    """Runs jobs on ``client``, each up to ``1 + retries`` times."""

    def __init__(self, client, *, retries: int = 0, warnings_ok: bool = False,
                 ipf: str | None = None):
        self.client = client
        self.retries = retries
        self.warnings_ok = warnings_ok
        self.ipf = ipf
        self.run_id = uuid.uuid4().hex[:12]
        self._flights: dict = {}

    @property
    def busy(self) -> int:
        """Jobs submitted and not yet finished."""
        return len(self._flights)

    def capacity(self) -> int:
        """Worker threads of the cluster now."""
        return sum(self.client.nthreads().values())

    def submit(self, job: Job, *, clean: bool = False) -> None:
        """Start ``job``; ``clean`` removes its outputs first (a job interrupted earlier)."""
        self._launch(_Flight(job, 1, JobResult(job, "failed")), clean)

    def _launch(self, flight: _Flight, clean: bool) -> None:
        tag = f"run {self.run_id} attempt {flight.attempt}"
        future = self.client.submit(run_attempt, str(flight.job.job_order), str(flight.job.log),
                                    tag=tag, clean=clean, ipf=self.ipf, pure=False,
                                    key=f"ipf-{flight.job.id}-{self.run_id}-{flight.attempt}")
        self._flights[future] = flight

    def poll(self, timeout: float) -> list[JobResult]:
        """Wait up to ``timeout`` seconds for attempts to end; returns the jobs that are done."""
        from distributed import wait

        if not self._flights:
            time.sleep(timeout)
            return []
        try:
            done, _ = wait(list(self._flights), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return []
        finished = []
        for future in done:
            flight = self._flights.pop(future)
            if self._settle(flight, future):
                finished.append(flight.result)
        return finished

    def _settle(self, flight: _Flight, future) -> bool:
        """Record an ended attempt; False when another attempt was launched."""
        r = flight.result
        r.attempts = flight.attempt
        try:
            out = future.result()
        except Exception as exc:  # the task itself failed: its worker was lost too often
            r.exit_code, r.error = None, f"{type(exc).__name__}: {exc}"
            return True
        r.exit_code, r.error, r.host = out["exit_code"], out["error"], out["host"]
        r.wall_time_s += out["wall_time_s"]
        r.cleaned += out["cleaned"]
        if policy.succeeded(r.exit_code, warnings_ok=self.warnings_ok):
            r.status = "ok"
            return True
        if policy.retryable(r.exit_code) and flight.attempt <= self.retries:
            flight.attempt += 1
            self._launch(flight, clean=True)
            return False
        return True

    def drain(self, poll: float = 0.5) -> Iterator[JobResult]:
        """Every result still to come."""
        while self._flights:
            yield from self.poll(poll)


def run_chains(runner: Runner, chains: Iterable[list[Job]],
               on_result: Callable[[JobResult], None] = lambda r: None) -> list[JobResult]:
    """Run the chains in parallel, the jobs of each in order; returns every job's result."""
    queues = [deque(c) for c in chains if c]
    chain_of = {job.id: q for q in queues for job in q}
    for q in queues:
        runner.submit(q.popleft())
    results = []
    for r in runner.drain():
        results.append(r)
        on_result(r)
        q = chain_of[r.job.id]
        if r.ok and q:
            runner.submit(q.popleft())
        elif not r.ok:
            while q:
                skipped = JobResult(q.popleft(), "skipped", error=f"{r.job.id} failed")
                results.append(skipped)
                on_result(skipped)
    return results
