"""Partition keys built with Dagster's MultiPartitionKey, and the run tags that carry a partition range."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._core.storage.tags import (  # pinned here only: the package uses no dagster._core import
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from ntrader_pipeline.defs import build_definitions
from ntrader_pipeline.defs.partitions import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    PARTITION_TAG,
    bar_partition_key,
    build_partitions,
    partition_range_tags,
    split_bar_partition_keys,
)
from ntrader_pipeline.markets.calendars import get_session_calendar
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.markets.universe import load_universe
from ntrader_pipeline_tests.defs.helpers import code_location


def test_tag_names_are_dagsters_own() -> None:
    assert PARTITION_TAG == PARTITION_NAME_TAG
    assert PARTITION_RANGE_START_TAG == ASSET_PARTITION_RANGE_START_TAG
    assert PARTITION_RANGE_END_TAG == ASSET_PARTITION_RANGE_END_TAG


def test_keys_are_dagsters_multi_partition_keys() -> None:
    settings, universe, _ = code_location()
    partitions = build_partitions(universe, settings.ntrader.first_session)
    key = bar_partition_key("2024-01-03", "SPY.ARCA")  # a session names its month
    assert isinstance(key, dg.MultiPartitionKey)
    assert key == "2024-01-01|SPY.ARCA"
    assert partitions.bars.has_partition_key(key)
    assert partition_range_tags("2024-01-02", "2024-03-05", "SPY.ARCA") == {
        PARTITION_RANGE_START_TAG: "2024-01-01|SPY.ARCA",
        PARTITION_RANGE_END_TAG: "2024-03-01|SPY.ARCA",
    }


def test_a_decade_of_500_instruments_stays_within_dagsters_partition_envelope(tmp_path) -> None:
    universe_file = tmp_path / "universe.yaml"
    symbols = [f"S{i:03d}" for i in range(500)]
    universe_file.write_text(
        "bar_specs: [1-MINUTE-LAST]\ninstruments:\n"
        + "".join(f"  - {{symbol: {s}, primary_exchange: NYSE}}\n" for s in symbols)
    )
    universe = load_universe(universe_file)
    partitions = build_partitions(universe, dt.date(2016, 1, 4))
    now = dt.datetime(2025, 12, 31, 12, tzinfo=dt.UTC)
    months = partitions.months.get_partition_keys(current_time=now)
    assert (months[0], months[-1], len(months)) == ("2016-01-01", "2025-12-01", 120)
    assert len(months) * len(universe.instrument_ids) == 60_000  # Dagster advises at most 100,000
    assert len(partitions.sessions.in_month("2016-01-01", now)) == 19  # from the 4th; MLK day closed


def test_split_groups_months_by_instrument_whatever_the_key_type() -> None:
    keys = ["2024-02-01|SPY.ARCA", bar_partition_key("2024-01-03", "SPY.ARCA"), "2024-01-01|QQQ.NASDAQ"]
    assert split_bar_partition_keys(keys) == {
        "SPY.ARCA": ["2024-01-01", "2024-02-01"],
        "QQQ.NASDAQ": ["2024-01-01"],
    }


def test_partitions_follow_the_universe_given(tmp_path) -> None:
    universe_file = tmp_path / "universe.yaml"
    universe_file.write_text(
        "bar_specs: [1-DAY-LAST]\ninstruments:\n  - {symbol: AAPL, primary_exchange: NASDAQ}\n"
    )
    backtests_file = tmp_path / "backtests.yaml"
    backtests_file.write_text(
        "backtests:\n  daily_sma:\n    strategy: sma_cross\n    instruments: [AAPL.NASDAQ]\n"
        "    bar_spec: 1-DAY-LAST\n    index_instrument: AAPL.NASDAQ\n"
        "    window: {start: 2024-01-02, end: 2024-06-28}\n"
    )
    settings, universe, declarations = code_location(universe_file, backtests_file)
    partitions = build_partitions(universe, settings.ntrader.first_session)
    assert partitions.instruments.get_partition_keys() == ["AAPL.NASDAQ"]
    defs = build_definitions(settings, universe, declarations)
    assert {k.to_user_string() for k in defs.resolve_all_asset_keys()} == {
        "bars_1_day",
        "bars_1_day_version",
        "daily_sma_inputs",
        "daily_sma_backtest",
        "daily_sma_metrics",
        "daily_sma_report",
        "backtest_comparison",
        "bars_freshness",  # the freshness checks' external asset (defs/freshness.py)
    }


# -- only closed sessions ------------------------------------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("new_york_time", "last_key"),
    [
        ("2024-07-06 12:00", "2024-07-05"),  # Saturday: Friday's session, not Monday's
        ("2024-07-07 23:59", "2024-07-05"),  # Sunday night
        ("2024-07-04 12:00", "2024-07-03"),  # Independence Day: the half day before, not the 5th
        ("2024-07-05 09:00", "2024-07-03"),  # a weekday before the open
        ("2024-07-05 15:59", "2024-07-03"),  # ... before the close
        ("2024-07-05 16:01", "2024-07-03"),  # just after the close: not yet (window ends 18:00 EDT)
        ("2024-07-05 18:01", "2024-07-05"),  # the session is offered (before the 18:30 nightly run)
        ("2024-01-05 15:59", "2024-01-04"),  # winter: the window ends 17:00 EST
        ("2024-01-05 17:01", "2024-01-05"),
        ("2024-07-03 12:59", "2024-07-02"),  # half day (13:00 close), before the close
        ("2024-07-03 13:01", "2024-07-02"),  # ... after it: offered only once the window ends
        ("2024-07-03 18:01", "2024-07-03"),
        ("2024-11-29 12:00", "2024-11-27"),  # day after Thanksgiving (half day) before its 13:00 close
    ],
)
def test_partitions_offer_only_sessions_that_have_closed(new_york_time, last_key) -> None:
    settings, universe, _ = code_location()
    sessions = build_partitions(universe, settings.ntrader.first_session).sessions
    now = dt.datetime.strptime(new_york_time, "%Y-%m-%d %H:%M").replace(tzinfo=NEW_YORK)
    assert sessions.last_offered(now).isoformat() == last_key
    keys = sessions.in_month(last_key, now)
    assert keys[-1] == last_key
    for key in keys[-3:]:  # every offered session has closed by `now`
        assert session_for(key).close <= now


def test_every_calendar_closes_before_its_partition_appears() -> None:
    """The window of key D ends at 22:00 UTC on D: after NYSE, FX 24x5 and CME closes, summer and winter."""
    for name in ("NYSE", "FX24x5", "CME"):
        calendar = get_session_calendar(name)
        for session in calendar.sessions_between("2024-01-02", "2024-12-31"):
            window_end = dt.datetime.combine(session.date, dt.time(22), tzinfo=dt.UTC)
            assert session.close <= window_end, (name, session.key)
