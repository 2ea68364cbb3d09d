"""Runs whose process died: found, marked failed and their pool slots freed, before the next run waits.

The daemon's run monitoring (dagster.yaml `run_monitoring:`) only watches runs it launched. A run of
`dagster asset materialize` that is killed (`kill -9`, OOM, a closed terminal) stays STARTED and keeps
its `ibkr` slot, and every later IB run then waits for that slot forever. So the code location's
default executor (not Celery's; those deployments rely on the daemon's run monitoring):

- tags its own run with this host and the run process's pid (and that process's start time, so a
  reused pid is not taken for the dead run's process);
- looks, at its start and every `REAP_INTERVAL_S` while it runs (it may be the one waiting for the
  slot), for runs of this instance that are still STARTED, STARTING or CANCELING, were tagged by this
  host, and whose process is gone. Each is marked failed with a message that says why, its pool slots
  are freed, and the new run's log names it. A finished run that still holds slots gets them freed too
  (what the daemon's `free_slots_after_run_end_seconds` does when a daemon runs);
- when the plan is done, frees any slot its own run still holds (a step worker that crashed before
  reporting its end keeps its slot otherwise).

The check must run before a step claims its slot, which is why it lives in the executor and not in an
asset: a step blocked on the pool never starts.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import dagster as dg

from ntrader_pipeline.runtime.process_tags import (
    RUN_HOST_TAG,
    RUN_PID_STARTED_TAG,
    RUN_PID_TAG,
    process_alive,
)

_UNFINISHED = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
_FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


@dataclass(frozen=True)
class ReapedRun:
    run_id: str
    job_name: str
    pid: str
    status: str
    freed_slots: bool

    def describe(self) -> str:
        return (
            f"run {self.run_id} ({self.job_name}, process {self.pid} on this host) was {self.status} "
            f"but its process is gone"
        )


def dead_runs_on_this_host(instance: dg.DagsterInstance, exclude: str | None = None) -> list[dg.DagsterRun]:
    host = socket.gethostname()
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=_UNFINISHED, tags={RUN_HOST_TAG: host}))
    dead = []
    for run in runs:
        if run.run_id == exclude or not run.tags.get(RUN_PID_TAG, "").isdigit():
            continue
        if not process_alive(int(run.tags[RUN_PID_TAG]), run.tags.get(RUN_PID_STARTED_TAG)):
            dead.append(run)
    return dead


def reap_dead_runs(instance: dg.DagsterInstance, exclude: str | None = None) -> list[ReapedRun]:
    """Mark this host's runs whose process is gone as failed and free their pool slots; also free the
    slots still held by finished runs. Returns the dead runs, for the caller to log."""
    storage = instance.event_log_storage
    reaped = []
    for run in dead_runs_on_this_host(instance, exclude):
        message = (
            f"Marked failed by run {exclude or '(none)'}: its process {run.tags[RUN_PID_TAG]} on "
            f"{run.tags[RUN_HOST_TAG]} is gone (killed?). The instrument-months it completed stay recorded "
            "and the sessions it wrote stay in the catalog; re-materialize the rest."
        )
        instance.report_run_failed(run, message)
        holds = storage.supports_global_concurrency_limits and run.run_id in storage.get_concurrency_run_ids()
        if holds:
            storage.free_concurrency_slots_for_run(run.run_id)
        reaped.append(ReapedRun(run.run_id, run.job_name, run.tags[RUN_PID_TAG], run.status.value, holds))
    if storage.supports_global_concurrency_limits:
        held = set(storage.get_concurrency_run_ids()) - {exclude}
        if held:
            for run in instance.get_runs(filters=dg.RunsFilter(run_ids=list(held), statuses=_FINISHED)):
                storage.free_concurrency_slots_for_run(run.run_id)
    return reaped


def release_slots(instance: dg.DagsterInstance, run_id: str) -> None:
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits and run_id in storage.get_concurrency_run_ids():
        storage.free_concurrency_slots_for_run(run_id)
