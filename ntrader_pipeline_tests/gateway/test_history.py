from __future__ import annotations

import datetime as dt

import pytest

from ntrader_pipeline.gateway.history import (
    Duration,
    HistoryRequestError,
    check_duration_fits_bar_size,
    history_window,
    parse_bar_size,
    parse_end_time,
    require_served_bar_size,
    select_bars,
)

NOW = dt.datetime(2025, 1, 10, 12, 0, tzinfo=dt.UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20240105 21:00:00 UTC", utc(2024, 1, 5, 21)),
        ("20240105 16:00:00 US/Eastern", utc(2024, 1, 5, 21)),
        ("20240705 16:00:00 US/Eastern", utc(2024, 7, 5, 20)),  # EDT
        ("20240105 16:00:00 America/New_York", utc(2024, 1, 5, 21)),
        ("20240105-21:00:00", utc(2024, 1, 5, 21)),
        ("20240105 21:00:00", utc(2024, 1, 5, 21)),  # no zone: the gateway's login zone is UTC
        ("  ", NOW),
        ("", NOW),
    ],
)
def test_end_time_forms(text: str, expected: dt.datetime) -> None:
    assert parse_end_time(text, NOW) == expected


@pytest.mark.parametrize(
    "text", ["2024-01-05", "20240105 25:00:00 UTC", "20240105 21:00:00 Mars/Base", "now"]
)
def test_bad_end_times_are_error_321(text: str) -> None:
    with pytest.raises(HistoryRequestError) as caught:
        parse_end_time(text, NOW)
    assert caught.value.code == 321
    assert "end date" in caught.value.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 D", Duration(1, "D")),
        ("23400 S", Duration(23400, "S")),
        ("2 w", Duration(2, "W")),
        ("3 M", Duration(3, "M")),
    ],
)
def test_durations(text: str, expected: Duration) -> None:
    assert Duration.parse(text) == expected


@pytest.mark.parametrize("text", ["0 D", "1D", "D", "1 H", "-1 D", "1.5 D", ""])
def test_bad_durations_are_error_321(text: str) -> None:
    with pytest.raises(HistoryRequestError) as caught:
        Duration.parse(text)
    assert caught.value.code == 321


def test_bar_sizes_and_their_duration_limits() -> None:
    assert [parse_bar_size(s) for s in ("1 min", "5 mins", "1 hour", "1 day")] == [60, 300, 3600, 86400]
    for bad in ("1 mins", "2 mins", "1 week", "30 sec"):
        with pytest.raises(HistoryRequestError, match="bar size"):
            parse_bar_size(bad)
    # sub-minute sizes are valid at IB (and count for pacing) but the gateway does not serve them
    assert [parse_bar_size(s) for s in ("1 secs", "30 secs")] == [1, 30]
    require_served_bar_size(60, "1 min")
    with pytest.raises(HistoryRequestError, match="not served") as caught:
        require_served_bar_size(30, "30 secs")
    assert caught.value.code == 321
    check_duration_fits_bar_size(Duration(30, "D"), 60)
    check_duration_fits_bar_size(Duration(2, "W"), 300)
    check_duration_fits_bar_size(Duration(1, "M"), 3600)
    check_duration_fits_bar_size(Duration(5, "Y"), 86400)
    for duration, bar_seconds in ((Duration(1, "W"), 60), (Duration(1, "M"), 300), (Duration(1, "Y"), 3600)):
        with pytest.raises(HistoryRequestError, match="at least"):
            check_duration_fits_bar_size(duration, bar_seconds)


@pytest.mark.parametrize(
    ("duration", "end", "sessions"),
    [
        # D counts sessions back from the end: MLK day (01-15) and the weekend are not days
        ("3 D", utc(2024, 1, 16, 21), ["2024-01-11", "2024-01-12", "2024-01-16"]),
        # Nautilus asks for calendar days ending at midnight ET; IB still answers with the last session(s)
        ("1 D", utc(2024, 1, 16, 5), ["2024-01-12"]),
        ("1 D", utc(2024, 1, 5, 18), ["2024-01-05"]),
        ("23400 S", utc(2024, 1, 5, 21), ["2024-01-05"]),
        ("86400 S", utc(2024, 1, 16, 5), []),  # the holiday itself
        ("30 S", utc(2024, 1, 6, 18), []),  # Saturday
        ("1 W", utc(2024, 1, 5, 21), ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]),
        ("5 D", utc(2000, 1, 4, 21), ["2000-01-03", "2000-01-04"]),  # the calendar starts in 2000
    ],
)
def test_history_window_sessions(duration: str, end: dt.datetime, sessions: list[str]) -> None:
    window = history_window(Duration.parse(duration), end, NOW)
    assert [s.date.isoformat() for s in window.sessions] == sessions
    assert window.end == end


def test_months_and_years_are_calendar_based() -> None:
    window = history_window(Duration(1, "M"), utc(2024, 3, 31), NOW)
    assert window.start == utc(2024, 2, 29)  # 31 March minus a month clamps to 29 February (leap year)
    assert len(window.sessions) == 21  # 29 Feb + 20 March sessions before Good Friday
    year = history_window(Duration(1, "Y"), utc(2024, 1, 1), NOW)
    assert year.start == utc(2023, 1, 1)
    assert len(year.sessions) == 250


def test_only_bars_overlapping_the_window_are_returned() -> None:
    window = history_window(Duration(1, "D"), utc(2024, 1, 5, 18), NOW)
    assert len(select_bars("SPY", window, 60)) == 210  # 14:30 up to 18:00
    hourly = history_window(Duration(3600, "S"), utc(2024, 1, 5, 15, 15), NOW)
    starts = [
        dt.datetime.fromtimestamp(b.start, dt.UTC).strftime("%H:%M") for b in select_bars("SPY", hourly, 3600)
    ]
    assert starts == ["14:30", "15:00"]  # whole bars, not trimmed to 14:15-15:15
    daily = history_window(Duration(23400, "S"), utc(2024, 1, 5, 21), NOW)
    assert [b.session_date for b in select_bars("SPY", daily, 86400)] == [dt.date(2024, 1, 5)]


def test_sessions_still_open_at_now_are_not_served() -> None:
    now = utc(2024, 1, 5, 18)
    window = history_window(Duration(1, "D"), parse_end_time("", now), now)
    assert [s.date for s in window.sessions] == [dt.date(2024, 1, 4)]
