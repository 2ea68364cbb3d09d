from __future__ import annotations

import datetime as dt
import itertools
import time

import numpy as np
import pytest

from ntrader_pipeline.gateway import synthetic
from ntrader_pipeline.gateway.synthetic import DAY, FIVE_MINUTES, HOUR, MINUTE, minute_bars, session_bars
from ntrader_pipeline.markets.sessions import NotATradingSessionError

WINTER_DAY = dt.date(2024, 1, 5)
HALF_DAY = dt.date(2024, 7, 3)
SYMBOLS = ["SPY", "QQQ", "IWM", "AAPL", "ZZZT"]  # ZZZT: not in the registry, still gets bars


def test_same_bars_every_time_even_without_the_cache() -> None:
    first = minute_bars("SPY", WINTER_DAY).rows()
    minute_bars.cache_clear()
    session_bars.cache_clear()
    again = minute_bars("SPY", WINTER_DAY).rows()
    assert first == again
    assert minute_bars("SPY", WINTER_DAY).rows() != minute_bars("QQQ", WINTER_DAY).rows()
    assert minute_bars("SPY", WINTER_DAY).rows() != minute_bars("SPY", dt.date(2024, 1, 4)).rows()


@pytest.mark.parametrize("symbol", SYMBOLS)
@pytest.mark.parametrize("day", [WINTER_DAY, HALF_DAY, dt.date(2008, 10, 10), dt.date(2000, 1, 3)])
def test_minute_bars_are_valid(symbol: str, day: dt.date) -> None:
    bars = minute_bars(symbol, day)
    assert np.all(bars.low > 0)
    assert np.all(bars.low <= np.minimum(bars.open, bars.close))
    assert np.all(np.maximum(bars.open, bars.close) <= bars.high)
    assert np.all((bars.low <= bars.wap) & (bars.wap <= bars.high))
    assert np.all(bars.volume > 0) and np.all(bars.count > 0)
    assert bars.volume.dtype == np.int64
    for column in (bars.open, bars.high, bars.low, bars.close):
        assert np.allclose(column, np.round(column, 2), atol=1e-9, rtol=0)  # on the 0.01 tick
    assert np.all(np.diff(bars.start) == MINUTE)
    assert np.array_equal(bars.open[1:], bars.close[:-1])  # each minute opens where the last closed


def test_session_lengths_follow_the_calendar() -> None:
    assert len(minute_bars("SPY", WINTER_DAY)) == 390
    assert len(minute_bars("SPY", HALF_DAY)) == 210
    assert len(minute_bars("SPY", dt.date(2024, 11, 29))) == 210
    first = dt.datetime.fromtimestamp(int(minute_bars("SPY", dt.date(2024, 7, 1)).start[0]), dt.UTC)
    assert first == dt.datetime(2024, 7, 1, 13, 30, tzinfo=dt.UTC)  # summer time: 09:30 ET is 13:30 UTC
    with pytest.raises(NotATradingSessionError):
        minute_bars("SPY", dt.date(2024, 1, 15))  # MLK day
    with pytest.raises(NotATradingSessionError):
        minute_bars("SPY", dt.date(2024, 1, 6))  # Saturday


@pytest.mark.parametrize("day", [WINTER_DAY, HALF_DAY])
def test_daily_bar_is_the_aggregate_of_the_minute_bars(day: dt.date) -> None:
    minutes = minute_bars("QQQ", day)
    [daily] = session_bars("QQQ", day, DAY).rows()
    assert daily.open == minutes.open[0]
    assert daily.close == minutes.close[-1]
    assert daily.high == minutes.high.max()
    assert daily.low == minutes.low.min()
    assert daily.volume == minutes.volume.sum()
    assert daily.count == minutes.count.sum()
    assert daily.low <= daily.wap <= daily.high
    assert daily.start == minutes.start[0]


@pytest.mark.parametrize(
    ("day", "bar_seconds", "expected_count"),
    [
        (WINTER_DAY, FIVE_MINUTES, 78),
        (WINTER_DAY, HOUR, 7),
        (HALF_DAY, FIVE_MINUTES, 42),
        (HALF_DAY, HOUR, 4),
    ],
)
def test_intraday_aggregation(day: dt.date, bar_seconds: int, expected_count: int) -> None:
    minutes = minute_bars("IWM", day)
    bars = session_bars("IWM", day, bar_seconds)
    assert len(bars) == expected_count
    assert bars.volume.sum() == minutes.volume.sum()
    for bar in bars.rows():
        bar_end = (bar.start // bar_seconds + 1) * bar_seconds  # the first hourly bar ends at 10:00
        inside = (minutes.start >= bar.start) & (minutes.start < bar_end)
        assert bar.open == minutes.open[inside][0]
        assert bar.close == minutes.close[inside][-1]
        assert bar.high == minutes.high[inside].max()
        assert bar.low == minutes.low[inside].min()
        assert bar.volume == minutes.volume[inside].sum()
    if bar_seconds == HOUR:  # IB alignment: 09:30-10:00, then on the hour
        assert [dt.datetime.fromtimestamp(s, dt.UTC).minute for s in bars.start.tolist()][:2] == [30, 0]


def test_consecutive_sessions_stay_close_in_price() -> None:
    opens = [synthetic.session_open_price("SPY", dt.date(2024, 1, d)) for d in (2, 3, 4, 5, 8)]
    assert all(abs(b / a - 1) < 0.01 for a, b in itertools.pairwise(opens))


def test_generating_a_session_is_fast() -> None:
    started = time.perf_counter()
    for day in range(1, 29):
        date = dt.date(2023, 2, day)
        if date.weekday() < 5 and date != dt.date(2023, 2, 20):
            minute_bars.__wrapped__("MSFT", date)
    assert time.perf_counter() - started < 2.0  # ~1 ms each; generous for slow CI machines
