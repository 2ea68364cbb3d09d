"""Downstream refresh: when a bars run succeeds, rerun its instruments' backtests, metrics and reports,
and when those succeed, the comparison report.

Why a run-status sensor rather than automation conditions on the backtest assets: the backtests are
partitioned by instrument while bars are date × instrument, and a backtest should run once per
successful bars run (the nightly one or a backfill), never half-way through one. The sensor reads
the instrument off the finished run, so it is deterministic to test and needs no change to the
backtest assets (the job selects them by group, whatever the declared backtests are named).
"""

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from ntrader_pipeline.defs.backtests import DECLARATIONS, backtest_asset_name
from ntrader_pipeline.defs.instrument_data import instrument_data_asset_name
from ntrader_pipeline.defs.jobs import backtests_job, comparison_job, market_data_job
from ntrader_pipeline.defs.metrics import metrics_asset_name
from ntrader_pipeline.defs.partitions import UNIVERSE
from ntrader_pipeline.defs.reports import report_asset_name
from ntrader_pipeline.defs.run_tags import INSTRUMENT_TAG


def instruments_of_run(tags: dict[str, str]) -> list[str]:
    """The universe instruments a bars run covered, from its partition (or partition-range) tags."""
    keys = [
        tags.get(t)
        for t in (PARTITION_NAME_TAG, ASSET_PARTITION_RANGE_START_TAG, ASSET_PARTITION_RANGE_END_TAG)
    ]
    found = {key.split("|")[-1] for key in keys if key and "|" in key}
    if INSTRUMENT_TAG in tags:
        found.update(tags[INSTRUMENT_TAG].split(","))
    return [i for i in UNIVERSE.instrument_ids if i in found]


def backtest_chain_keys(instrument_id: str) -> list[dg.AssetKey]:
    """The data versions and every declared chain (backtest → metrics → report) that trades the
    instrument; an instrument no backtest declares (an FX pair, say) has none."""
    declared = [d for d in DECLARATIONS if instrument_id in d.instruments]
    names = sorted({instrument_data_asset_name(d.spec) for d in declared})
    for d in declared:
        names += [backtest_asset_name(d.name), metrics_asset_name(d.name), report_asset_name(d.name)]
    return [dg.AssetKey(name) for name in names]


@dg.run_status_sensor(
    name="refresh_backtests_after_bars",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[market_data_job],
    request_job=backtests_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a successful market_data_job run, refresh each covered instrument's backtest chain.",
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
        for instrument in instruments_of_run(dict(run.tags))
        if (keys := backtest_chain_keys(instrument))
    ]


@dg.run_status_sensor(
    name="refresh_comparison_after_backtests",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[backtests_job],
    request_job=comparison_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After a successful backtests_job run, re-rank every backtest in the comparison report.",
)
def refresh_comparison_after_backtests(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    run = context.dagster_run
    return dg.RunRequest(run_key=f"after:{run.run_id}", tags={"ntrader/after_run": run.run_id})


all_sensors = [refresh_backtests_after_bars, refresh_comparison_after_backtests]
