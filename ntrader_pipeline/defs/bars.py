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
from pydantic import Field

from ntrader_pipeline.app.bars import BarsRun, RunHooks, fetch_bars, session_selection
from ntrader_pipeline.app.outcomes import CheckOutcome, MonthRecorded
from ntrader_pipeline.defs.checks import BAR_QUALITY_CHECK
from ntrader_pipeline.defs.outcomes import check_result, dagster_metadata, step_errors_as_failures
from ntrader_pipeline.defs.partitions import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    PARTITION_TAG,
    BarPartitions,
    bar_partition_key,
    split_bar_partition_keys,
)
from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource
from ntrader_pipeline.defs.run_tags import tag_bars_run
from ntrader_pipeline.markets.bar_specs import bars_asset_name
from ntrader_pipeline.markets.universe import BarSpec, Universe
from ntrader_pipeline.runtime.process_tags import RUN_PID_TAG
from ntrader_pipeline.runtime.watchdog import StepWatchdog

MARKET_DATA_GROUP = "market_data"


class BarsConfig(dg.Config):
    """Narrow a run to some sessions of its months (the launchpad, the nightly schedule, the CLI)."""

    first_session: str | None = Field(default=None, description="fetch sessions from this date (YYYY-MM-DD)")
    last_session: str | None = Field(default=None, description="fetch sessions up to this date (YYYY-MM-DD)")
    only_missing: bool = Field(
        default=False, description="skip sessions already stored (bars or IB's recorded 'no data')"
    )


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


def _run_pid(context: dg.AssetExecutionContext) -> int | None:
    """The run's own process (tagged by the executor), which the step's watchdog watches."""
    pid = context.instance.get_run_by_id(context.run_id).tags.get(RUN_PID_TAG, "")
    return int(pid) if pid.isdigit() else None


def _hooks(context: dg.AssetExecutionContext, watchdog: StepWatchdog) -> RunHooks:
    return RunHooks(
        on_plan=lambda requested: tag_bars_run(context, requested),
        on_progress=context.log.info,
        stop_reason=watchdog.stop_reason,
        log_fields={"run_id": context.run_id},
    )


def _dagster_event(
    asset_key: dg.AssetKey, event: MonthRecorded | CheckOutcome
) -> dg.AssetMaterialization | dg.AssetCheckResult:
    if isinstance(event, CheckOutcome):
        return check_result(event, BAR_QUALITY_CHECK)
    partition = bar_partition_key(event.month, event.instrument_id)
    return dg.AssetMaterialization(asset_key, partition=partition, metadata=dagster_metadata(event.metadata))


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
        run = BarsRun(universe, spec, storage.catalog_store(), partitions.sessions)
        months = run.applicable(split_bar_partition_keys(_run_partition_keys(context, partitions)))
        now = dt.datetime.now(dt.UTC)
        if dg.AssetKey(asset_name) not in context.selected_asset_keys:  # the check alone
            yield check_result(run.check(months, now), BAR_QUALITY_CHECK)
            return
        with step_errors_as_failures(), StepWatchdog(_run_pid(context)) as watchdog:
            selection = session_selection(config.first_session, config.last_session, config.only_missing)
            for event in fetch_bars(run, months, selection, ib.fetcher, now, _hooks(context, watchdog)):
                yield _dagster_event(dg.AssetKey(asset_name), event)

    return _bars


def build_bars_assets(universe: Universe, partitions: BarPartitions) -> list[dg.AssetsDefinition]:
    return [build_bars_asset(spec, universe, partitions) for spec in universe.all_bar_specs]
