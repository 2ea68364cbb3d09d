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

import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

RUN_HOST_TAG = "ntrader/host"
RUN_PID_TAG = "ntrader/pid"
RUN_PID_STARTED_TAG = "ntrader/pid_started"  # the process's start time in clock ticks since boot (Linux)
REAP_INTERVAL_S = 15.0  # while a run executes, how often it looks again for dead runs

_UNFINISHED = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
_FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


def _proc_stat(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (state first), or None where /proc is not available."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()  # after the command's parentheses


def process_started(pid: int) -> str | None:
    """The start time of `pid` as the kernel counts it, or None where /proc is not available."""
    fields = _proc_stat(pid)
    return fields[19] if fields else None  # field 22 of stat(5)


def process_alive(pid: int, started: str | None = None) -> bool:
    """Whether `pid` is running on this host and is the same process (when its start time is known).
    A zombie (killed, not yet reaped by its parent) is not alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, and not ours to judge
        return True
    fields = _proc_stat(pid)
    if fields is None:
        return True
    return fields[0] != "Z" and (started is None or fields[19] == started)


def process_tags(pid: int | None = None) -> dict[str, str]:
    pid = os.getpid() if pid is None else pid
    tags = {RUN_HOST_TAG: socket.gethostname(), RUN_PID_TAG: str(pid)}
    started = process_started(pid)
    if started is not None:
        tags[RUN_PID_STARTED_TAG] = started
    return tags


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


class GuardedExecutor(dg.Executor):
    """Dagster's default executor, after tagging the run with its process and reaping dead runs."""

    def __init__(self, inner: dg.Executor) -> None:
        self._inner = inner

    @property
    def retries(self):  # Dagster does not export RetryMode
        return self._inner.retries

    @property
    def step_dependency_config(self):
        return self._inner.step_dependency_config

    def execute(self, plan_context, execution_plan) -> Iterator:
        instance, run_id = plan_context.instance, plan_context.run_id
        instance.add_run_tags(run_id, process_tags())

        def reap() -> None:
            for reaped in reap_dead_runs(instance, exclude=run_id):
                slots = "its pool slots were freed" if reaped.freed_slots else "it held no pool slot"
                plan_context.log.warning(f"{reaped.describe()}: marked failed, {slots}.")

        reap()
        # A run killed while this one already waits for its slot is found on the next round.
        done = threading.Event()
        rounds = threading.Thread(target=_every, args=(done, REAP_INTERVAL_S, reap), daemon=True)
        rounds.start()
        try:
            yield from self._inner.execute(plan_context, execution_plan)
        finally:
            done.set()
            rounds.join(timeout=REAP_INTERVAL_S)
            # A step whose worker died before reporting its end (e.g. it crashed while opening the
            # instance) keeps its slot after the run ends, and a run waiting for the pool waits forever.
            release_slots(instance, run_id)


def _every(done: threading.Event, interval_s: float, action: Callable[[], None]) -> None:
    while not done.wait(interval_s):
        try:
            action()
        except Exception as exc:  # a storage hiccup must not end the run; the next round tries again
            sys.stderr.write(f"ntrader: checking for dead runs failed: {exc!r}\n")


def release_slots(instance: dg.DagsterInstance, run_id: str) -> None:
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits and run_id in storage.get_concurrency_run_ids():
        storage.free_concurrency_slots_for_run(run_id)


def _create_guarded(init_context: dg.InitExecutorContext) -> dg.Executor:
    inner = dg.multi_or_in_process_executor.executor_creation_fn(init_context)
    return GuardedExecutor(inner)


guarded_executor = dg.ExecutorDefinition(
    # Same name and config as Dagster's default, so `{"execution": {"config": {"in_process": {}}}}` and
    # the launchpad's executor config keep working.
    name=dg.multi_or_in_process_executor.name,
    config_schema=dg.multi_or_in_process_executor.config_schema,
    executor_creation_fn=_create_guarded,
    requirements=dg.multi_or_in_process_executor.get_requirements,
    description="Dagster's default executor; first fails this host's runs whose process is gone and frees "
    "their pool slots.",
)


class StepWatchdog:
    """Stops a step whose run is over: its run's process died (the step runs in a child of it) or the
    step was interrupted (SIGTERM/SIGINT forwarded by the run's executor).

    The IB client's event loop swallows the interrupt Dagster raises from its signal handler, so the step
    would otherwise go on to the end of its range. `stop_reason()` is checked between sessions, where
    stopping leaves nothing half-written; if the step does not come back to a session boundary within
    `grace_s` after its run's process died, the process exits (catalog writes are atomic renames, and a
    staging directory left behind is removed by a later write).
    """

    def __init__(self, run_pid: int | None, grace_s: float = 20.0, poll_s: float = 0.5) -> None:
        # Only a step in a child of the run's process has a parent to lose.
        self._parent = run_pid if run_pid is not None and run_pid == os.getppid() else None
        self._grace_s = grace_s
        self._poll_s = poll_s
        self._reason: str | None = None
        self._done = threading.Event()
        self._previous_handlers: dict[int, object] = {}

    def __enter__(self) -> StepWatchdog:
        if self._parent is not None:
            threading.Thread(target=self._watch, name="ntrader-step-watchdog", daemon=True).start()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous = signal.getsignal(signum)
                # SIGTERM only where Dagster made it an interrupt; left at its default it ends the process
                if signum == signal.SIGINT or callable(previous):
                    self._previous_handlers[signum] = previous
                    signal.signal(signum, self._interrupted)
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        for signum, previous in self._previous_handlers.items():
            signal.signal(signum, previous)

    def stop_reason(self) -> str | None:
        return self._reason

    def _interrupted(self, signo: int, frame: object) -> None:
        """First interrupt: stop at the next session boundary (within `grace_s`, or exit). A second one
        goes to Dagster's handler at once."""
        if self._reason is None:
            self._reason = "the run was interrupted (SIGTERM or SIGINT)"
            threading.Thread(target=self._exit_after_grace, name="ntrader-step-grace", daemon=True).start()
            return
        previous = self._previous_handlers.get(signo)
        if callable(previous):
            previous(signo, frame)
        raise KeyboardInterrupt

    def _exit_after_grace(self) -> None:
        if self._done.wait(self._grace_s):
            return
        sys.stderr.write(
            f"ntrader: step process {os.getpid()} exits: {self._reason}, and the step did not stop "
            f"within {self._grace_s:.0f} s\n"
        )
        sys.stderr.flush()
        os._exit(70)

    def _watch(self) -> None:
        while not self._done.wait(self._poll_s):
            if os.getppid() != self._parent:
                self._reason = f"the run's process {self._parent} is gone (killed?)"
                self._exit_after_grace()
                return
