"""Session calendars per contract type: NYSE (default, unchanged), FX 24×5 and CME Globex edge cases."""

import datetime as dt

import pytest

from ntrader_pipeline.markets.calendars import CME, FX_24X5, NYSE, get_session_calendar
from ntrader_pipeline.markets.sessions import NotATradingSessionError, session_for, sessions_between

UTC = dt.UTC


def test_nyse_stays_the_default():
    assert session_for("2024-01-03") == session_for("2024-01-03", NYSE)
    assert session_for("2024-01-03") == get_session_calendar(NYSE).session("2024-01-03")
    assert sessions_between("2024-01-01", "2024-01-31") == sessions_between("2024-01-01", "2024-01-31", NYSE)
    assert session_for("2024-07-03").expected_bar_count(1, "MINUTE") == 210
    with pytest.raises(NotATradingSessionError, match="NYSE"):
        session_for("2024-01-15")


def test_fx_monday_opens_sunday_evening_new_york():
    monday = session_for("2024-01-08", FX_24X5)
    assert monday.open == dt.datetime(2024, 1, 7, 22, 0, tzinfo=UTC)  # Sunday 17:00 EST
    assert monday.close == dt.datetime(2024, 1, 8, 22, 0, tzinfo=UTC)
    assert monday.expected_bar_count(1, "MINUTE") == 1440
    assert monday.expected_bar_count(1, "HOUR") == 24
    assert monday.expected_bar_count(1, "DAY") == 1
    assert not monday.is_half_day


def test_fx_friday_closes_at_five_and_the_weekend_has_no_session():
    friday = session_for("2024-01-05", FX_24X5)
    assert friday.close == dt.datetime(2024, 1, 5, 22, 0, tzinfo=UTC)  # Friday 17:00 EST
    for weekend_day in ("2024-01-06", "2024-01-07"):
        with pytest.raises(NotATradingSessionError, match="Sunday 17:00 to Friday 17:00"):
            session_for(weekend_day, FX_24X5)
    week = sessions_between("2024-01-05", "2024-01-08", FX_24X5)
    assert [s.date.isoformat() for s in week] == ["2024-01-05", "2024-01-08"]


def test_fx_trades_us_holidays_and_keeps_24_hours_across_dst():
    mlk = session_for("2024-01-15", FX_24X5)  # NYSE is closed
    assert mlk.minutes == 1440
    after_dst = session_for("2024-03-11", FX_24X5)  # clocks moved on Sunday 03-10
    assert after_dst.open == dt.datetime(2024, 3, 10, 21, 0, tzinfo=UTC)  # Sunday 17:00 EDT
    assert after_dst.minutes == 1440
    assert len(sessions_between("2024-01-01", "2024-12-31", FX_24X5)) == 262  # every weekday


def test_cme_globex_session_and_us_holidays():
    regular = session_for("2024-01-16", CME)
    assert regular.open == dt.datetime(2024, 1, 15, 23, 0, tzinfo=UTC)  # 17:00 Chicago the day before
    assert regular.close == dt.datetime(2024, 1, 16, 22, 0, tzinfo=UTC)  # 16:00 Chicago: maintenance hour
    assert regular.expected_bar_count(1, "MINUTE") == 1380
    mlk = session_for("2024-01-15", CME)  # a short session on MLK day, closing 12:00 Chicago
    assert mlk.close == dt.datetime(2024, 1, 15, 18, 0, tzinfo=UTC)
    assert mlk.is_half_day and mlk.expected_bar_count(1, "MINUTE") == 19 * 60
    with pytest.raises(NotATradingSessionError, match="CME"):
        session_for("2024-03-29", CME)  # Good Friday: CME equity futures closed
    with pytest.raises(NotATradingSessionError, match="CME"):
        session_for("2024-12-25", CME)


def test_overnight_sessions_store_from_their_open_to_the_end_of_their_date():
    fx = session_for("2024-01-08", FX_24X5)
    assert fx.day_start == fx.open and fx.date_start == dt.datetime(2024, 1, 8, tzinfo=UTC)
    assert fx.day_end.date() == dt.date(2024, 1, 8)
    nyse = session_for("2024-01-08")
    assert nyse.day_start == nyse.date_start == dt.datetime(2024, 1, 8, tzinfo=UTC)


def test_unknown_calendar_is_named():
    with pytest.raises(ValueError, match="unknown session calendar 'LSE'"):
        get_session_calendar("LSE")
