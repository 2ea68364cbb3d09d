"""Runs of the code location's jobs from the command line, on the configured Dagster instance (so the UI
sees them), with a progress bar fed by the run's own materialization events."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import dagster as dg

from ntrader_pipeline.cli.console import polled
from ntrader_pipeline.defs.partitions import partition_range_tags
from ntrader_pipeline.defs.schedules import sessions_run_config


@dataclass(frozen=True)
class StoredPartition:
    bars: int
    sessions: int  # sessions a bars partition (an instrument-month) stored in the run; 1 for others
    flagged: int  # of which stored with a note: IB had no data, closed, not listed, or minutes missing


@dataclass
class RunProgress:
    """What one run has materialized so far: each distinct (asset, partition) with its bars and flag."""

    run_id: str
    stored: dict[tuple[str, str], StoredPartition] = field(default_factory=dict)

    @property
    def partitions(self) -> set[tuple[str, str]]:
        return set(self.stored)

    @property
    def bars(self) -> int:
        return sum(p.bars for p in self.stored.values())

    @property
    def flagged(self) -> int:
        return sum(p.flagged for p in self.stored.values())

    @property
    def sessions(self) -> int:
        return sum(p.sessions for p in self.stored.values())

    def of_instrument(self, instrument_id: str) -> RunProgress:
        """The partitions of one instrument (keys `month|instrument`, or the instrument itself)."""
        mine = {k: p for k, p in self.stored.items() if k[1].rsplit("|", 1)[-1] == instrument_id}
        return RunProgress(self.run_id, mine)

    def read(self, instance: dg.DagsterInstance) -> None:
        stored: dict[tuple[str, str], StoredPartition] = {}
        for entry in instance.all_logs(self.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
            event = entry.dagster_event
            if event is None:
                continue
            materialization = event.step_materialization_data.materialization
            if materialization.partition is None:
                continue
            key = (materialization.asset_key.to_user_string(), materialization.partition)
            stored[key] = _stored(materialization.metadata)
        self.stored = stored


def _stored(metadata: Mapping[str, dg.MetadataValue]) -> StoredPartition:
    """A partition's counts from its metadata: a bars month carries `flagged_sessions`."""

    def number(name: str, default: int) -> int:
        return int(metadata[name].value) if name in metadata else default

    if "flagged_sessions" not in metadata:
        return StoredPartition(bars=number("bars", 0), sessions=1, flagged=0)
    return StoredPartition(number("bars", 0), number("sessions", 0), number("flagged_sessions", 0))


def run_job(
    defs: dg.Definitions,
    job_name: str,
    instance: dg.DagsterInstance,
    *,
    on_progress: Callable[[RunProgress], None] | None = None,
    tags: Mapping[str, str] | None = None,
    partition_key: str | None = None,
    asset_selection: Sequence[dg.AssetKey] | None = None,
    run_config: Mapping[str, object] | None = None,
) -> tuple[dg.ExecuteInProcessResult, RunProgress]:
    """Execute `job_name` in this process; while it runs, `on_progress` sees what it has stored so far."""
    state = RunProgress(run_id=str(uuid.uuid4()))

    def update() -> None:
        state.read(instance)
        if on_progress is not None:
            on_progress(state)

    with polled(update):
        result = defs.resolve_job_def(job_name).execute_in_process(
            instance=instance,
            run_id=state.run_id,
            tags=dict(tags or {}),
            partition_key=partition_key,
            asset_selection=list(asset_selection) if asset_selection else None,
            run_config=dict(run_config or {}),
            raise_on_error=False,
        )
    return result, state


def fetch_range(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    instrument_id: str,
    start: str,
    end: str,
    asset_keys: Sequence[dg.AssetKey],
    *,
    last_instrument_id: str | None = None,
    on_progress: Callable[[RunProgress], None] | None = None,
    extra_tags: Mapping[str, str] | None = None,
) -> tuple[dg.ExecuteInProcessResult, RunProgress]:
    """One run of `market_data_job` over the sessions `start`..`end` of one instrument (a single-run
    backfill of their months, narrowed to those sessions), or of the universe's instruments from
    `instrument_id` to `last_instrument_id` (they take turns in it)."""
    tags = {**partition_range_tags(start, end, instrument_id, last_instrument_id), **(extra_tags or {})}
    run_config = sessions_run_config([key.to_user_string() for key in asset_keys], start, end)
    return run_job(
        defs,
        "market_data_job",
        instance,
        on_progress=on_progress,
        tags=tags,
        asset_selection=asset_keys,
        run_config=run_config,
    )


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    """The first step failure's description (what Dagster's UI shows), else a pointer to the run."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE" and event.step_failure_data is not None:
            error = event.step_failure_data.user_failure_data
            if error is not None and error.description:
                return error.description
            if event.step_failure_data.error is not None:
                return event.step_failure_data.error.message.strip().splitlines()[-1]
    return f"run {result.run_id} failed; see its logs"
