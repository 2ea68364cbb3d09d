import datetime as dt

import pytest

from ntrader_pipeline.markets.sessions import (
    NotATradingSessionError,
    session_for,
    sessions_between,
)


def test_regular_winter_session_is_rth_in_utc():
    session = session_for("2024-01-03")
    assert session.open == dt.datetime(2024, 1, 3, 14, 30, tzinfo=dt.UTC)
    assert session.close == dt.datetime(2024, 1, 3, 21, 0, tzinfo=dt.UTC)
    assert session.expected_bar_count(1, "MINUTE") == 390
    assert session.expected_bar_count(5, "MINUTE") == 78
    assert session.expected_bar_count(1, "HOUR") == 7  # 09:30-10:00 then six full hours
    assert session.expected_bar_count(1, "DAY") == 1


def test_summer_session_shifts_with_daylight_saving():
    assert session_for("2024-07-01").open == dt.datetime(2024, 7, 1, 13, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize("date", ["2024-07-03", "2024-11-29", "2024-12-24"])
def test_half_days_close_at_13_00(date):
    session = session_for(date)
    assert session.is_half_day
    assert session.expected_bar_count(1, "MINUTE") == 210
    assert session.expected_bar_count(1, "HOUR") == 4


@pytest.mark.parametrize("date", ["2024-01-01", "2024-01-15", "2024-03-29", "2024-01-06"])
def test_holidays_and_weekends_are_not_sessions(date):
    with pytest.raises(NotATradingSessionError, match=date):
        session_for(date)


def test_demo_window_has_61_sessions_and_skips_holidays():
    sessions = sessions_between("2024-01-02", "2024-03-28")
    assert len(sessions) == 61
    assert dt.date(2024, 1, 15) not in {s.date for s in sessions}
    quarter = {s.date for s in sessions_between("2024-01-01", "2024-03-31")}
    days = (dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(91))
    assert [d for d in days if d.weekday() < 5 and d not in quarter] == [
        dt.date(2024, 1, 1),
        dt.date(2024, 1, 15),
        dt.date(2024, 2, 19),
        dt.date(2024, 3, 29),
    ]


def test_bad_date_text_is_named():
    with pytest.raises(ValueError, match="2024-13-01"):
        session_for("2024-13-01")
