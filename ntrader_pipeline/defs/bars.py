"""Bars assets, one per bar spec of the universe: IB or files → Nautilus catalog, partitioned by month ×
instrument (see defs/partitions.py).

A run covers months × instruments over one IB connection. Each instrument × month is recorded as a
runtime materialization of its partition the moment its last session settles (sessions, bars, and a
table of the flagged ones), so the UI fills in while the run goes on, and the months stored before a
failure or an interrupt stay recorded. That is the partition's one materialization event: the asset
yields no output of its own (`output_required=False`), and its blocking `bar_quality` check runs in the
same step over every stored session of the run's months (a separate check step would be skipped).

A session that cannot be stored does not stop the others: its month is not recorded, and the step fails
at the end naming every failed instrument and session.
"""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import structlog
from pydantic import Field

from ntrader_pipeline.defs.checks import BAR_QUALITY_CHECK, bar_quality_result
from ntrader_pipeline.defs.partitions import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    PARTITION_TAG,
    BarPartitions,
    bar_partition_key,
    split_bar_partition_keys,
)
from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource
from ntrader_pipeline.defs.run_guard import RUN_PID_TAG, StepWatchdog
from ntrader_pipeline.defs.run_tags import tag_bars_run
from ntrader_pipeline.ingest.errors import FetchError
from ntrader_pipeline.ingest.months import (
    MonthSummary,
    MonthTally,
    SessionSelection,
    SessionSelectionError,
    plan_sessions,
    requested_dates,
)
from ntrader_pipeline.ingest.progress import Progress
from ntrader_pipeline.ingest.run import ingest_sessions
from ntrader_pipeline.markets.bar_specs import bars_asset_name
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.markets.universe import BarSpec, Universe

MARKET_DATA_GROUP = "market_data"


class BarsConfig(dg.Config):
    """Narrow a run to some sessions of its months (the launchpad, the nightly schedule, the CLI)."""

    first_session: str | None = Field(default=None, description="fetch sessions from this date (YYYY-MM-DD)")
    last_session: str | None = Field(default=None, description="fetch sessions up to this date (YYYY-MM-DD)")
    only_missing: bool = Field(
        default=False, description="skip sessions already stored (bars or IB's recorded 'no data')"
    )


def _selection(config: BarsConfig) -> SessionSelection:
    try:
        return SessionSelection(config.first_session, config.last_session, config.only_missing)
    except SessionSelectionError as exc:
        raise dg.Failure(description=f"bars run config: {exc}") from exc


def _applicable(universe: Universe, spec: BarSpec, months: dict[str, list[str]]) -> dict[str, list[str]]:
    """A run over several instruments (a range, the nightly) leaves out those without `spec` bars (an
    adjusted series has no minute bars); a run of one instrument keeps it, to fail saying why."""
    if len(months) < 2:
        return months
    return {i: m for i, m in months.items() if universe.provides(universe.instrument(i), spec)}


def _run_partition_keys(context: dg.AssetExecutionContext, partitions: BarPartitions) -> list[str]:
    """The run's month partitions; a run of the check alone (the UI's "Execute check") is not a
    partitioned run to Dagster, so its partition (or range) comes from the run's tags."""
    try:
        return list(context.partition_keys)
    except dg.DagsterInvariantViolationError:
        tags = context.run.tags
    if PARTITION_TAG in tags:
        return [tags[PARTITION_TAG]]
    if PARTITION_RANGE_START_TAG in tags and PARTITION_RANGE_END_TAG in tags:
        span = dg.PartitionKeyRange(tags[PARTITION_RANGE_START_TAG], tags[PARTITION_RANGE_END_TAG])
        return list(partitions.bars.get_partition_keys_in_range(span))
    raise dg.Failure(description="bar_quality needs a partition: pick a month × instrument (or a range)")


def _materialization(asset_key: dg.AssetKey, month: MonthSummary) -> dg.AssetMaterialization:
    metadata = month.metadata()
    if "flagged" in metadata:
        metadata["flagged"] = dg.MetadataValue.md(str(metadata["flagged"]))
    return dg.AssetMaterialization(
        asset_key=asset_key, partition=bar_partition_key(month.month, month.instrument_id), metadata=metadata
    )


def _failure(spec: BarSpec, failures: list[str], stored_months: int, total_months: int) -> dg.Failure:
    return dg.Failure(
        description=(
            f"{len(failures)} {spec} sessions were not stored; {stored_months} of {total_months} "
            f"instrument-months were (and are recorded). First problem: {failures[0]}"
        ),
        metadata={"failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures))},
    )


def build_bars_asset(spec: BarSpec, universe: Universe, partitions: BarPartitions) -> dg.AssetsDefinition:
    asset_name = bars_asset_name(spec)

    @dg.multi_asset(
        name=asset_name,
        specs=[
            dg.AssetSpec(
                asset_name,
                group_name=MARKET_DATA_GROUP,
                kinds={"nautilus", "parquet"},
                skippable=True,  # recorded per month partition as it settles, not as an output
                description=(
                    f"{spec} bars from IB (or an instrument's files), one catalog file per instrument-month."
                ),
            )
        ],
        check_specs=[
            dg.AssetCheckSpec(
                BAR_QUALITY_CHECK,
                asset=asset_name,
                blocking=True,
                description=(
                    "pandera BarFrame rules (OHLC, prices, volume, timestamps, in session) on every stored "
                    "session of the run's months; missing bars and split-like overnight jumps as warnings "
                    "(missing bars block above the instrument's max_missing_fraction)."
                ),
            )
        ],
        partitions_def=partitions.bars,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="ibkr",
        can_subset=True,  # the check alone re-checks what is stored (the UI's "Execute check")
    )
    def _bars(
        context: dg.AssetExecutionContext, config: BarsConfig, ib: IBGatewayResource, storage: StorageResource
    ) -> Iterator[dg.AssetMaterialization | dg.AssetCheckResult]:
        store = storage.catalog_store()
        months = _applicable(
            universe, spec, split_bar_partition_keys(_run_partition_keys(context, partitions))
        )
        now = dt.datetime.now(dt.UTC)
        if dg.AssetKey(asset_name) not in context.selected_asset_keys:
            yield bar_quality_result(store, universe, spec, months, partitions.sessions, now)
            return

        def is_stored(instrument_id: str, date: str) -> bool:
            bar_type, session = spec.bar_type(instrument_id), session_for(date)
            return store.has_session(bar_type, session) or store.empty_reason(bar_type, session) is not None

        plan = plan_sessions(months, partitions.sessions, now, _selection(config), is_stored)
        requested = requested_dates(plan)
        tag_bars_run(context, requested)
        tally = MonthTally(plan)
        failures: list[str] = []
        recorded = 0
        for month in tally.without_sessions():
            yield _materialization(dg.AssetKey(asset_name), month)
            recorded += 1
        run_pid = context.instance.get_run_by_id(context.run_id).tags.get(RUN_PID_TAG, "")
        progress = Progress(sum(len(dates) for dates in plan.values()))
        structlog.contextvars.bind_contextvars(run_id=context.run_id)
        try:
            with StepWatchdog(int(run_pid) if run_pid.isdigit() else None) as watchdog:
                records = ingest_sessions(universe, spec, requested, store, ib.fetcher, now=lambda: now)
                for record in records:
                    if not record.stored:
                        failures.append(record.detail or f"{record.instrument_id} {record.date}: not stored")
                    month = tally.add(record)
                    if month is not None and not month.failed:
                        yield _materialization(dg.AssetKey(asset_name), month)
                        recorded += 1
                    if line := progress.add(record.bars):
                        context.log.info(line)
                    if reason := watchdog.stop_reason():
                        records.close()  # closes the IB connection
                        raise dg.Failure(
                            description=(
                                f"{spec} bars stopped after {progress.done} of {progress.total} sessions: "
                                f"{reason}. The {recorded} instrument-months completed are recorded; "
                                "re-materialize the rest (only_missing: true skips what is stored)."
                            )
                        )
        except FetchError as exc:  # no gateway, unknown contract, unreadable files: the rest cannot run
            failures.insert(0, str(exc))
        finally:
            structlog.contextvars.clear_contextvars()
        yield bar_quality_result(store, universe, spec, months, partitions.sessions, now, only=requested)
        if failures:
            raise _failure(spec, failures, recorded, len(plan))

    return _bars


def build_bars_assets(universe: Universe, partitions: BarPartitions) -> list[dg.AssetsDefinition]:
    return [build_bars_asset(spec, universe, partitions) for spec in universe.all_bar_specs]
