"""Nightly refresh: after the US close, fetch the session that just closed for every instrument.

One run per instrument (partition `date|instrument`) so one slow or failing instrument does not hold
up the others; every run goes through the `ibkr` pool, so they still reach IB one at a time. The
backtests, metrics and reports are refreshed by `sensors.refresh_backtests_after_bars` once an
instrument's bars have landed.
"""

import dagster as dg

from ntrader_pipeline.defs.bars import bars_asset_name
from ntrader_pipeline.defs.checks import BAR_QUALITY_CHECK
from ntrader_pipeline.defs.jobs import AssetJob
from ntrader_pipeline.defs.partitions import bar_partition_key
from ntrader_pipeline.defs.run_tags import INSTRUMENT_TAG
from ntrader_pipeline.markets.closes import NoSession, session_closed_on
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE
from ntrader_pipeline.markets.universe import Universe

NIGHTLY_CRON = "30 18 * * 1-5"  # 18:30 New York, Mon-Fri: the close (16:00, 13:00 on half days) is long past
SESSION_TAG = "ntrader/session"


def nightly_run_requests(universe: Universe, session_key: str) -> list[dg.RunRequest]:
    """One request per universe instrument, for the bars assets that instrument provides (+ their checks)."""
    requests = []
    for instrument in universe.instruments:
        keys = [
            dg.AssetKey(bars_asset_name(spec))
            for spec in universe.all_bar_specs
            if universe.provides(instrument, spec)
        ]
        partition_key = bar_partition_key(session_key, instrument.instrument_id)
        requests.append(
            dg.RunRequest(
                run_key=f"nightly:{partition_key}",  # a re-evaluated tick never launches a second run
                partition_key=partition_key,
                asset_selection=keys,
                asset_check_keys=[dg.AssetCheckKey(key, BAR_QUALITY_CHECK) for key in keys],
                tags={INSTRUMENT_TAG: instrument.instrument_id, SESSION_TAG: session_key},
            )
        )
    return requests


def build_nightly_schedule(universe: Universe, market_data_job: AssetJob) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="nightly_bars_schedule",
        cron_schedule=NIGHTLY_CRON,
        execution_timezone=EXCHANGE_TIMEZONE,
        job=market_data_job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="18:30 New York, Mon-Fri: the session that just closed, all instruments; skips holidays.",
    )
    def nightly_bars_schedule(context: dg.ScheduleEvaluationContext) -> dg.SkipReason | list[dg.RunRequest]:
        closed = session_closed_on(context.scheduled_execution_time)
        if isinstance(closed, NoSession):
            return dg.SkipReason(closed.reason)
        return nightly_run_requests(universe, closed.key)

    return nightly_bars_schedule
