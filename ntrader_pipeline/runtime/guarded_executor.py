"""The code location's default executor: Dagster's, after tagging the run with its process and failing
this host's runs whose process is gone (runtime/dead_runs.py), before any step waits for a pool slot."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import dagster as dg

from ntrader_pipeline.runtime.dead_runs import reap_dead_runs, release_slots
from ntrader_pipeline.runtime.process_tags import process_tags

REAP_INTERVAL_S = 15.0  # while a run executes, how often it looks again for dead runs


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
