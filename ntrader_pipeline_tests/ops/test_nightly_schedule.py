"""The nightly schedule evaluated at chosen instants: a Friday, a holiday, after a half day, a Saturday."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from ntrader_pipeline.defs import build_definitions
from ntrader_pipeline.defs.partitions import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    build_partitions,
)
from ntrader_pipeline.defs.schedules import SESSION_TAG
from ntrader_pipeline.markets.closes import holiday_name
from ntrader_pipeline_tests.defs.helpers import code_location

NEW_YORK = ZoneInfo("America/New_York")
SETTINGS, UNIVERSE, DECLARATIONS = code_location()
defs = build_definitions(SETTINGS, UNIVERSE, DECLARATIONS)
nightly_bars_schedule = defs.resolve_schedule_def("nightly_bars_schedule")


def evaluate(year: int, month: int, day: int):
    instant = dt.datetime(year, month, day, 18, 30, tzinfo=NEW_YORK)
    context = dg.build_schedule_context(
        scheduled_execution_time=instant, repository_def=defs.get_repository_def()
    )
    return nightly_bars_schedule.evaluate_tick(context)


def test_cron_is_after_the_close_on_weekdays_in_new_york() -> None:
    assert nightly_bars_schedule.cron_schedule == "30 18 * * 1-5"
    assert nightly_bars_schedule.execution_timezone == "America/New_York"


def test_friday_requests_that_session_for_every_instrument_as_one_run() -> None:
    data = evaluate(2024, 1, 5)  # a Friday session
    assert data.skip_message is None
    (request,) = data.run_requests
    ids = UNIVERSE.instrument_ids
    assert request.tags[PARTITION_RANGE_START_TAG] == f"2024-01-01|{ids[0]}"  # the month of every instrument
    assert request.tags[PARTITION_RANGE_END_TAG] == f"2024-01-01|{ids[-1]}"
    assert request.tags[SESSION_TAG] == "2024-01-05"
    assert {k.to_user_string() for k in request.asset_selection} == {"bars_1_minute", "bars_1_day"}
    narrowed = {"first_session": "2024-01-05", "last_session": "2024-01-05"}
    assert request.run_config == {
        "ops": {"bars_1_minute": {"config": narrowed}, "bars_1_day": {"config": narrowed}}
    }
    # The run key makes a re-evaluated tick idempotent.
    assert request.run_key == "nightly:2024-01-05"


def test_holiday_skips_naming_the_holiday() -> None:
    data = evaluate(2024, 7, 4)
    assert data.run_requests == []
    assert data.skip_message is not None
    assert "2024-07-04" in data.skip_message
    assert "July 4th" in data.skip_message


def test_day_after_a_half_day_requests_its_own_full_session() -> None:
    half_day = evaluate(2024, 7, 3)  # 13:00 close
    assert {r.tags[SESSION_TAG] for r in half_day.run_requests} == {"2024-07-03"}
    data = evaluate(2024, 7, 5)  # after the half day and the holiday
    assert data.skip_message is None
    assert {r.tags[SESSION_TAG] for r in data.run_requests} == {"2024-07-05"}


def test_saturday_skips() -> None:
    data = evaluate(2024, 7, 6)
    assert data.run_requests == []
    assert "Saturday" in (data.skip_message or "")


def test_holiday_names_come_from_the_calendar() -> None:
    assert holiday_name(dt.date(2024, 12, 25)) == "Christmas"
    assert holiday_name(dt.date(2025, 1, 9)) == "an unscheduled NYSE closure"  # national day of mourning
    assert holiday_name(dt.date(2024, 7, 5)) is None


def test_the_nightly_session_is_offered_in_an_offered_month_at_the_tick() -> None:
    """Sessions are offered only after the close (18:00 New York in summer, 17:00 in winter); the 18:30
    tick's session is already offered, and its month is a partition, in both seasons and after a half day."""
    months = defs.resolve_assets_def("bars_1_minute").partitions_def.get_partitions_def_for_dimension("date")
    sessions = build_partitions(UNIVERSE, SETTINGS.ntrader.first_session).sessions
    for year, month, day in ((2024, 1, 5), (2024, 7, 5), (2024, 7, 3), (2024, 11, 29), (2024, 2, 1)):
        tick = dt.datetime(year, month, day, 18, 30, tzinfo=NEW_YORK)
        (request,) = evaluate(year, month, day).run_requests
        session = request.tags[SESSION_TAG]
        assert sessions.last_offered(tick).isoformat() == session
        assert months.get_partition_keys(current_time=tick)[-1] == session[:8] + "01"
