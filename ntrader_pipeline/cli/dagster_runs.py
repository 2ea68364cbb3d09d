"""Runs of the code location's jobs from the command line, on the configured Dagster instance (so the UI
sees them), with a progress bar fed by the run's own materialization events."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import dagster as dg

from ntrader_pipeline.cli.console import polled
from ntrader_pipeline.defs.partitions import partition_range_tags


@dataclass
class RunProgress:
    """What one run has materialized so far: distinct (asset, partition) pairs and their bars."""

    run_id: str
    partitions: set[tuple[str, str | None]] = field(default_factory=set)
    bars: int = 0
    flagged: int = 0  # sessions stored with a note: IB had no data, closed, not listed, gaps

    def read(self, instance: dg.DagsterInstance) -> None:
        seen: set[tuple[str, str | None]] = set()
        session_bars: dict[str, int] = {}  # per asset, from per-session events
        range_bars: dict[str, int] = {}  # per asset, from a range's result (the same on each partition)
        flagged = 0
        for entry in instance.all_logs(self.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
            event = entry.dagster_event
            if event is None:
                continue
            materialization = event.step_materialization_data.materialization
            asset = materialization.asset_key.to_user_string()
            if materialization.partition is None or (asset, materialization.partition) in seen:
                continue
            seen.add((asset, materialization.partition))
            metadata = materialization.metadata
            bars = int(metadata["bars"].value) if "bars" in metadata else 0
            if "sessions" in metadata:
                range_bars[asset] = bars
            else:
                session_bars[asset] = session_bars.get(asset, 0) + bars
            flagged += any(k in metadata for k in ("empty_reason", "closed", "not_listed", "missing_minutes"))
        assets = set(session_bars) | set(range_bars)
        self.bars = sum(session_bars[a] if a in session_bars else range_bars[a] for a in assets)
        self.partitions, self.flagged = seen, flagged


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
    on_progress: Callable[[RunProgress], None] | None = None,
    extra_tags: Mapping[str, str] | None = None,
) -> tuple[dg.ExecuteInProcessResult, RunProgress]:
    """One run of `market_data_job` over `start`..`end` of one instrument (a single-run backfill)."""
    tags = {**partition_range_tags(start, end, instrument_id), **(extra_tags or {})}
    return run_job(
        defs, "market_data_job", instance, on_progress=on_progress, tags=tags, asset_selection=asset_keys
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
