"""Downstream refresh: when a bars run succeeds, rerun its instruments' backtests, metrics and reports,
and when those succeed, the comparison report.

Why a run-status sensor rather than automation conditions on the backtest assets: the backtests are
partitioned by instrument while bars are date × instrument, and a backtest should run once per
successful bars run (the nightly one or a backfill), never half-way through one. The sensor reads
the instrument off the finished run, so it is deterministic to test and needs no change to the
backtest assets (the job selects them by group, whatever the declared backtests are named).
"""

import dagster as dg

from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.defs.adjustments import ADJUSTMENT_FACTORS
from ntrader_pipeline.defs.backtests import backtest_asset_name
from ntrader_pipeline.defs.instrument_data import instrument_data_asset_name
from ntrader_pipeline.defs.jobs import Jobs
from ntrader_pipeline.defs.metrics import metrics_asset_name
from ntrader_pipeline.defs.partitions import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    PARTITION_TAG,
    split_bar_partition_keys,
)
from ntrader_pipeline.defs.reports import report_asset_name
from ntrader_pipeline.defs.run_tags import INSTRUMENT_TAG
from ntrader_pipeline.markets.universe import Universe


def instruments_of_run(universe: Universe, tags: dict[str, str]) -> list[str]:
    """The universe instruments a bars run covered, from its partition (or partition-range) tags."""
    keys = [tags.get(t) for t in (PARTITION_TAG, PARTITION_RANGE_START_TAG, PARTITION_RANGE_END_TAG)]
    found = set(split_bar_partition_keys(key for key in keys if key and "|" in key))
    if INSTRUMENT_TAG in tags:
        found.update(tags[INSTRUMENT_TAG].split(","))
    return [i for i in universe.instrument_ids if i in found]


def backtest_chain_keys(declarations: list[BacktestDeclaration], instrument_id: str) -> list[dg.AssetKey]:
    """The data versions (and the adjustment factors, when a backtest adjusts the instrument's bars) and
    every declared chain (backtest → metrics → report) that trades the instrument; an instrument no
    backtest declares (an FX pair, say) has none."""
    declared = [d for d in declarations if instrument_id in d.instruments]
    names = sorted({instrument_data_asset_name(d.spec) for d in declared})
    if any(d.adjustment is not Adjustment.NONE for d in declared):
        names.insert(0, ADJUSTMENT_FACTORS)
    for d in declared:
        names += [backtest_asset_name(d.name), metrics_asset_name(d.name), report_asset_name(d.name)]
    return [dg.AssetKey(name) for name in names]


def build_sensors(
    universe: Universe, declarations: list[BacktestDeclaration], jobs: Jobs
) -> list[dg.SensorDefinition]:
    @dg.run_status_sensor(
        name="refresh_backtests_after_bars",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[jobs.market_data],
        request_job=jobs.backtests,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="After a successful market_data_job run, refresh each covered instrument's backtests.",
    )
    def refresh_backtests_after_bars(context: dg.RunStatusSensorContext) -> list[dg.RunRequest]:
        run = context.dagster_run
        return [
            dg.RunRequest(
                run_key=f"after:{run.run_id}:{instrument}",
                partition_key=instrument,
                asset_selection=keys,
                tags={INSTRUMENT_TAG: instrument, "ntrader/after_run": run.run_id},
            )
            for instrument in instruments_of_run(universe, dict(run.tags))
            if (keys := backtest_chain_keys(declarations, instrument))
        ]

    @dg.run_status_sensor(
        name="refresh_comparison_after_backtests",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[jobs.backtests],
        request_job=jobs.comparison,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="After a successful backtests_job run, re-rank every backtest in the comparison report.",
    )
    def refresh_comparison_after_backtests(context: dg.RunStatusSensorContext) -> dg.RunRequest:
        run = context.dagster_run
        return dg.RunRequest(run_key=f"after:{run.run_id}", tags={"ntrader/after_run": run.run_id})

    return [refresh_backtests_after_bars, refresh_comparison_after_backtests]
