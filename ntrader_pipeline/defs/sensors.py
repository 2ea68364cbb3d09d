"""Downstream refresh: when a bars run succeeds, rerun its instruments' backtests, metrics and reports.

Why a run-status sensor rather than automation conditions on the backtest assets: the backtests are
partitioned by instrument while bars are date × instrument, and a backtest should run once per
successful bars run (the nightly one or a backfill), never half-way through one. The sensor reads
the instrument off the finished run, so it is deterministic to test and needs no change to the
backtest assets (which another change renames: the job selects them by group).
"""

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from ntrader_pipeline.defs.jobs import backtests_job, market_data_job
from ntrader_pipeline.defs.partitions import UNIVERSE
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
            tags={INSTRUMENT_TAG: instrument, "ntrader/after_run": run.run_id},
        )
        for instrument in instruments_of_run(dict(run.tags))
    ]


all_sensors = [refresh_backtests_after_bars]
