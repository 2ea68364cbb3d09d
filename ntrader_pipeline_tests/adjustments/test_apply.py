"""Applying factors: daily and minute bars looked up by their SESSION's date (one test matrix for both),
and adjusted prices and volumes kept at full precision."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import polars as pl
import pytest
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.objects import Price, Quantity

from ntrader_pipeline.adjustments.apply import (
    ADJUSTED_PRICE_PRECISION,
    ADJUSTED_SIZE_PRECISION,
    adjust_bars,
    adjust_frame,
    adjusted_instrument,
    bar_session_date,
)
from ntrader_pipeline.adjustments.factors import adjustment_factors, factors_from_events
from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.catalog.frames import bars_to_frame
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline_tests.adjustments.histories import Event, daily_history
from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity

# Mon 12 … Fri 16 February 2024, Presidents' Day on Mon 19, then Tue 20: a 4:1 split goes ex on Wed 14.
SESSIONS = sessions_between("2024-02-12", "2024-02-20")
SPLIT = dt.date(2024, 2, 14)
DAY_NS = 86_400 * 10**9


def _events(ex_date: dt.date, ratio: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"ex_date": [ex_date], "kind": ["split"], "split_ratio": [ratio], "dividend_share": [None]},
        schema={"ex_date": pl.Date, "kind": pl.Utf8, "split_ratio": pl.Utf8, "dividend_share": pl.Float64},
    )


def _factors(ex_date: dt.date = SPLIT, ratio: str = "4:1") -> pl.DataFrame:
    daily = pl.DataFrame({"date": [s.date for s in SESSIONS], "close": 1.0, "adjusted_close": 1.0})
    return factors_from_events(daily, _events(ex_date, ratio))


def _bar(kind: str, session, close: float, volume: float = 1000, precision: int = 2) -> Bar:
    """A daily bar as Nautilus' IB adapter stamps it (00:00 UTC of the session, which is the previous
    evening in New York) or the session's first minute bar (stamped at its open)."""
    if kind == "daily":
        start = int(dt.datetime.combine(session.date, dt.time(), tzinfo=dt.UTC).timestamp() * 1e9)
        bar_type, end = BarType.from_str("SPY.ARCA-1-DAY-LAST-EXTERNAL"), start + DAY_NS - 1
    else:
        start = int(session.open.timestamp() * 1e9)
        bar_type, end = BarType.from_str("SPY.ARCA-1-MINUTE-LAST-EXTERNAL"), start + 60 * 10**9
    price = Price(close, precision)
    return Bar(bar_type, price, price, price, price, Quantity(volume, 0), start, end)


@pytest.mark.parametrize("kind", ["daily", "minute"])
def test_every_bar_takes_its_own_sessions_factor(kind):
    """Issue 19 item 1: on main a daily bar took the previous calendar day's factor."""
    bars = [_bar(kind, s, 400.0 if s.date < SPLIT else 100.0) for s in SESSIONS]
    assert [bar_session_date(b) for b in bars] == [s.date for s in SESSIONS]
    adjusted = adjust_bars(bars, _factors(), Adjustment.SPLITS)
    # main: the Wednesday daily bar × Tuesday's 1/4 → 25, a fake +300 % on Thursday
    assert [b.close.as_double() for b in adjusted] == [100.0] * len(SESSIONS)
    volumes = [b.volume.as_double() for b in adjusted]
    assert volumes == [4000.0 if s.date < SPLIT else 1000.0 for s in SESSIONS]


@pytest.mark.parametrize("kind", ["daily", "minute"])
def test_monday_and_post_holiday_sessions_have_their_factor(kind):
    """Issue 19 item 1: a Monday's daily bar looked up Sunday and raised MissingFactorsError on main."""
    bars = [_bar(kind, s, 100.0) for s in SESSIONS if s.date.weekday() in (0, 1)]  # Mon 12, Tue 13, Tue 20
    assert [b.close.as_double() for b in adjust_bars(bars, _factors(), Adjustment.SPLITS)] == [
        25.0,
        25.0,
        100.0,
    ]


@pytest.mark.parametrize("kind", ["daily", "minute"])
def test_frames_use_the_same_session_dates(kind):
    bars = [_bar(kind, s, 400.0 if s.date < SPLIT else 100.0) for s in SESSIONS]
    frame = adjust_frame(bars_to_frame(bars), _factors(), Adjustment.SPLITS, daily=kind == "daily")
    assert frame["close"].to_list() == [100.0] * len(SESSIONS)


def test_adjusted_minute_returns_keep_their_volatility_at_a_28th_of_450_dollars():
    """Issue 19 item 4: re-rounded to cents, 1/28 of a $450 stock raised the minute return volatility
    13 % and turned 13 zero-return minutes into 187 of 389."""
    rng = np.random.default_rng(11)
    closes = np.round(450 * np.exp(np.cumsum(rng.normal(0, 0.0007, 390))), 2)
    session = SESSIONS[0]
    bar_type = BarType.from_str("SPY.ARCA-1-MINUTE-LAST-EXTERNAL")
    open_ns = int(session.open.timestamp() * 1e9)
    bars = [
        Bar(
            bar_type,
            *(Price(c, 2),) * 4,
            Quantity(100, 0),
            open_ns + i * 60 * 10**9,
            open_ns + (i + 1) * 60 * 10**9,
        )
        for i, c in enumerate(closes)
    ]
    factors = _factors(SESSIONS[1].date, "28:1")
    adjusted = np.array([b.close.as_double() for b in adjust_bars(bars, factors, Adjustment.SPLITS)])
    raw_returns, adjusted_returns = np.diff(np.log(closes)), np.diff(np.log(adjusted))
    assert np.std(adjusted_returns) == pytest.approx(np.std(raw_returns), rel=1e-6)
    assert np.sum(adjusted_returns == 0) == np.sum(raw_returns == 0)
    assert adjusted[0] == pytest.approx(closes[0] / 28, abs=10**-ADJUSTED_PRICE_PRECISION)
    rounded_returns = np.diff(np.log(np.round(closes / 28, 2)))  # what main did: +8.6 %, 3 → 134 zero returns
    assert np.std(rounded_returns) > 1.08 * np.std(raw_returns)
    assert np.sum(rounded_returns == 0) > 5 * np.sum(raw_returns == 0)


def test_volumes_are_not_rounded_to_whole_shares():
    """Issue 19 item 4: 7 shares before a 1:10 reverse split are 0.7 shares after, not 1."""
    bars = [_bar("minute", SESSIONS[0], 10.0, volume=7)]
    (adjusted,) = adjust_bars(bars, _factors(SESSIONS[1].date, "1:10"), Adjustment.SPLITS)
    assert adjusted.volume.as_double() == 0.7
    assert adjusted.close.as_double() == 100.0


def test_the_adjusted_instrument_has_the_adjusted_bars_precisions():
    instrument = adjusted_instrument(ib_equity())
    assert (instrument.price_precision, instrument.size_precision) == (
        ADJUSTED_PRICE_PRECISION,
        ADJUSTED_SIZE_PRECISION,
    )
    assert instrument.id == ib_equity().id and instrument.quote_currency == ib_equity().quote_currency
    (bar,) = adjust_bars([_bar("minute", SESSIONS[0], 10.0)], _factors(), Adjustment.SPLITS)
    assert (bar.close.precision, bar.volume.precision) == (ADJUSTED_PRICE_PRECISION, ADJUSTED_SIZE_PRECISION)


@pytest.mark.parametrize("kind", ["daily", "minute"])
def test_a_7_for_1_split_in_splits_mode_leaves_no_crash(kind):
    """Issue 19 item 2: on main the 7:1 was a "dividend" with split factor 1, so `splits` mode kept an
    86 % overnight crash (603.06 → 84.58 in the measured history)."""
    trades, adjusted = daily_history([Event(SPLIT, split=(7, 1))], start="2024-02-05", end="2024-02-23")
    factors, _ = adjustment_factors(trades, adjusted)
    by_date = dict(trades.select("date", "close").iter_rows())
    bars = [_bar(kind, s, by_date[s.date]) for s in SESSIONS]
    closes = [b.close.as_double() for b in adjust_bars(bars, factors, Adjustment.SPLITS)]
    overnight = [b / a - 1 for a, b in itertools.pairwise(closes)]
    assert max(abs(r) for r in overnight) < 0.05  # the history's daily moves are about 1.2 %
    assert by_date[SPLIT] / by_date[dt.date(2024, 2, 13)] < 0.2  # unadjusted, the split is a -86 % "crash"


def test_a_special_dividend_leaves_splits_mode_prices_and_volumes_alone():
    """Issue 19 item 3: on main a 20 % special dividend was a 5:4 split: prices × 0.8, volumes × 1.25."""
    trades, adjusted = daily_history([Event(SPLIT, dividend_share=0.2)], start="2024-02-05", end="2024-02-23")
    factors, _ = adjustment_factors(trades, adjusted)
    before = factors.filter(pl.col("date") < SPLIT)
    assert before["split_factor"].unique().to_list() == [1.0]  # splits mode: × 1, volumes × 1
    assert before["factor"].unique().to_list() == [pytest.approx(0.8, abs=5e-4)]  # the dividend, in full
