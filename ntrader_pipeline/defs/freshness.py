"""Freshness: after the nightly refresh, flag each instrument whose last closed session is not stored.

Dagster 1.13 offers `build_time_partition_freshness_checks` (superseded, and it needs a time-window
partitioned asset: ours are month × instrument) and the new `FreshnessPolicy` (preview, enabled per
instance, asset-level: one instrument's fresh session hides another's missing one; and a month partition's
materialization does not say which of its sessions are stored). So this is a plain
asset check per bars asset, `<bars asset>_latest_session`, run by `freshness_schedule` two hours after
the nightly schedule: it fails naming every instrument whose latest session on its own calendar (closed
by the tick's time) has no materialization. The checks sit on an external asset, `bars_freshness`
(downstream of the bars assets, never materialized): on a bars asset itself, every materialization of it
(`dagster asset materialize --select bars_1_minute`, the UI's Materialize) would run them too, judging
"now" in a run about some past session. The logic is in `app/freshness.py` and `markets/latest_sessions.py`.
"""

import datetime as dt

import dagster as dg

from ntrader_pipeline.app.freshness import check_latest_sessions
from ntrader_pipeline.defs.outcomes import check_result
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.markets.bar_specs import bars_asset_name
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE
from ntrader_pipeline.markets.universe import BarSpec, Universe

FRESHNESS_ASSET = "bars_freshness"
FRESHNESS_GROUP = "freshness"
# 20:30 New York, Mon-Fri: two hours after the nightly run starts (NIGHTLY_CRON, 18:30), which fetches
# the closed session of every instrument in one run (about 5 minutes for 500 instruments).
FRESHNESS_CRON = "30 20 * * 1-5"
# Where Dagster puts a schedule tick's time on its runs (pinned by defs/test_freshness.py).
SCHEDULED_TIME_TAG = ".dagster/scheduled_execution_time"


def check_time(tags: dict[str, str]) -> dt.datetime:
    """The schedule tick's time when a schedule launched the run (so a late run judges the same
    sessions), else now."""
    scheduled = tags.get(SCHEDULED_TIME_TAG)
    return dt.datetime.fromisoformat(scheduled) if scheduled else dt.datetime.now(dt.UTC)


def latest_session_check_name(spec: BarSpec) -> str:
    return f"{bars_asset_name(spec)}_latest_session"


def build_latest_session_check(universe: Universe, spec: BarSpec, first: dt.date) -> dg.AssetChecksDefinition:
    asset_key = dg.AssetKey(bars_asset_name(spec))
    instruments = [(i.instrument_id, i.calendar) for i in universe.instruments if universe.provides(i, spec)]

    @dg.asset_check(
        asset=FRESHNESS_ASSET,
        name=latest_session_check_name(spec),
        description=f"Every instrument has its last closed session of {asset_key.to_user_string()} stored.",
    )
    def latest_session_stored(
        context: dg.AssetCheckExecutionContext, storage: StorageResource
    ) -> dg.AssetCheckResult:
        now = check_time(context.run.tags)
        return check_result(check_latest_sessions(storage.catalog_store(), spec, instruments, now, first))

    return latest_session_stored


def build_freshness_definitions(universe: Universe, first: dt.date) -> dg.Definitions:
    """The external asset the checks sit on, the checks, a job that runs only them, and its schedule (on by
    default, like the nightly one)."""
    specs = universe.all_bar_specs
    # an AssetsDefinition (not a bare AssetSpec): every consumer of `Definitions.assets` takes it
    freshness_spec = dg.AssetSpec(
        FRESHNESS_ASSET,
        deps=[bars_asset_name(spec) for spec in specs],
        group_name=FRESHNESS_GROUP,
        description="Whether the nightly refresh stored every instrument's last closed session (its checks).",
    )
    freshness = dg.AssetsDefinition(specs=[freshness_spec])  # external: never materialized
    checks = [build_latest_session_check(universe, spec, first) for spec in specs]
    job = dg.define_asset_job(
        "freshness_check_job",
        selection=dg.AssetSelection.checks(*checks),
        description="Is every instrument's last closed session stored? (checks only, no IB request)",
    )
    schedule = dg.ScheduleDefinition(
        name="freshness_schedule",
        cron_schedule=FRESHNESS_CRON,
        execution_timezone=EXCHANGE_TIMEZONE,
        job=job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="20:30 New York, Mon-Fri: flags instruments whose latest closed session is missing.",
    )
    return dg.Definitions(assets=[freshness], asset_checks=checks, jobs=[job], schedules=[schedule])
