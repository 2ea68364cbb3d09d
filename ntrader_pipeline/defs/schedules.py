"""Nightly refresh: after the US close, fetch the session that just closed for every instrument.

One run covers the current month of every instrument (a partition range from the universe's first
instrument to its last), narrowed by run config to the session that closed: one IB connection with
concurrent requests, one materialization per instrument-month. An instrument that fails does not stop the
others: their months are recorded, and the run fails naming it. The backtests, metrics and reports are
refreshed by `sensors.refresh_backtests_after_bars` once the run has ended.
"""

import dagster as dg

from ntrader_pipeline.defs.bars import bars_asset_name
from ntrader_pipeline.defs.jobs import AssetJob
from ntrader_pipeline.defs.partitions import partition_range_tags
from ntrader_pipeline.markets.closes import NoSession, session_closed_on
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE
from ntrader_pipeline.markets.universe import Universe

NIGHTLY_CRON = "30 18 * * 1-5"  # 18:30 New York, Mon-Fri: the close (16:00, 13:00 on half days) is long past
SESSION_TAG = "ntrader/session"


def sessions_run_config(asset_names: list[str], first: str, last: str) -> dict:
    """Run config narrowing each bars asset of a run to the sessions `first`..`last`."""
    config = {"first_session": first, "last_session": last}
    return {"ops": {name: {"config": config} for name in asset_names}}


def nightly_run_request(universe: Universe, session_key: str) -> dg.RunRequest:
    """One run: the bars assets (with their checks) over every instrument's month, for one session."""
    names = [
        bars_asset_name(spec)
        for spec in universe.all_bar_specs
        if any(universe.provides(instrument, spec) for instrument in universe.instruments)
    ]
    ids = universe.instrument_ids
    return dg.RunRequest(
        run_key=f"nightly:{session_key}",  # a re-evaluated tick never launches a second run
        asset_selection=[dg.AssetKey(name) for name in names],
        run_config=sessions_run_config(names, session_key, session_key),
        tags={**partition_range_tags(session_key, session_key, ids[0], ids[-1]), SESSION_TAG: session_key},
    )


def build_nightly_schedule(universe: Universe, market_data_job: AssetJob) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="nightly_bars_schedule",
        cron_schedule=NIGHTLY_CRON,
        execution_timezone=EXCHANGE_TIMEZONE,
        job=market_data_job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="18:30 New York, Mon-Fri: the session that just closed, every instrument in one run.",
    )
    def nightly_bars_schedule(context: dg.ScheduleEvaluationContext) -> dg.SkipReason | list[dg.RunRequest]:
        closed = session_closed_on(context.scheduled_execution_time)
        if isinstance(closed, NoSession):
            return dg.SkipReason(closed.reason)
        return [nightly_run_request(universe, closed.key)]

    return nightly_bars_schedule
