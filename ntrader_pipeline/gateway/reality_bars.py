"""One session's bars under a `MarketReality`: minutes without trades, halts, listing, splits, dividends.

The synthetic minute series (synthetic.py) is the continuous, split-free "economic" series. From it:
- TRADES: minutes without a trade and halted minutes are dropped, then coarser bars are aggregated from
  the minutes that remain; prices are unadjusted (× the split scale), volumes ÷ the split scale.
- MIDPOINT: every minute outside halts, unadjusted prices.
- ADJUSTED_LAST: the TRADES minutes, continuous prices times the later dividends' factors (split-free).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from ntrader_pipeline.gateway.realities import MarketReality
from ntrader_pipeline.gateway.synthetic import (
    DAY,
    MINUTE,
    BarSeries,
    SyntheticBar,
    _seed,
    _tick,
    adjustment_factor,
    aggregate,
    minute_bars,
    symbol_session,
)
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE

_EXCHANGE_TZ = ZoneInfo(EXCHANGE_TIMEZONE)


@lru_cache(maxsize=4096)
def _trade_mask(symbol: str, session_date: dt.date, share: float) -> np.ndarray:
    """True for minutes with at least one trade; the opening and closing minutes always trade."""
    n = len(minute_bars(symbol, session_date))
    rng = np.random.default_rng(_seed("liquidity", symbol, session_date.isoformat()))
    keep = rng.random(n) >= share
    if n:
        keep[0] = keep[-1] = True
    keep.setflags(write=False)
    return keep


def _halt_mask(minutes: BarSeries, reality: MarketReality) -> np.ndarray:
    keep = np.ones(len(minutes), dtype=bool)
    for halt in reality.halts:
        if halt.session != minutes.session_date:
            continue
        start = dt.datetime.combine(halt.session, halt.start, _EXCHANGE_TZ).timestamp()
        end = start + MINUTE * halt.minutes
        keep &= ~((minutes.start >= start) & (minutes.start < end))
    return keep


def _select(minutes: BarSeries, keep: np.ndarray) -> BarSeries:
    columns = ("start", "open", "high", "low", "close", "volume", "wap", "count")
    return BarSeries(minutes.session_date, *(getattr(minutes, c)[keep] for c in columns))


def _scaled(series: BarSeries, price: float, volume: float, tick: float) -> BarSeries:
    if price == 1.0 and volume == 1.0:
        return series
    decimals = 2 if tick >= 0.01 else 7
    prices = [np.round(getattr(series, c) * price, decimals) for c in ("open", "high", "low", "close")]
    wap = np.round(series.wap * price, 4)
    vol = np.maximum((series.volume * volume).astype(np.int64), 1)
    return BarSeries(series.session_date, series.start, *prices, vol, wap, series.count)


def session_series(
    symbol: str, session_date: dt.date, bar_seconds: int, reality: MarketReality, what_to_show: str
) -> BarSeries | None:
    """The session's bars as served under `reality`, or None when there are none (not listed yet, a halt
    over the whole session)."""
    if reality.listed is not None and session_date < reality.listed:
        return None
    minutes = minute_bars(symbol, session_date)
    keep = _halt_mask(minutes, reality)
    if what_to_show != "MIDPOINT" and reality.no_trade_share:
        keep &= _trade_mask(symbol, session_date, reality.no_trade_share)
    if not keep.any():
        return None
    present = _select(minutes, keep) if not keep.all() else minutes
    if what_to_show != "ADJUSTED_LAST":  # ADJUSTED_LAST stays continuous: `adjusted_bars` scales it
        scale = reality.split_scale(session_date)
        price = scale / dividend_factor(symbol, session_date, reality) if reality.dividend_drops else scale
        present = _scaled(present, price, 1 / scale, _tick(symbol))
    if bar_seconds != MINUTE:  # from the unadjusted minutes, so volumes add up exactly
        first = int(symbol_session(symbol, session_date).open.timestamp())
        present = aggregate(present, bar_seconds, first=first)
    return present


def dividend_factor(symbol: str, session_date: dt.date, reality: MarketReality) -> float:
    """What ADJUSTED_LAST multiplies the continuous prices of `session_date` by (without
    `dividend_drops`), or the product of (1 - D/C) over the later dividends (with it)."""
    if reality.dividends is None:
        return adjustment_factor(session_date)
    if reality.dividend_drops:
        factor = 1.0
        for ex_date, share in _dividend_shares(symbol, reality):
            if session_date < ex_date:
                factor *= 1 - share
        return factor
    factor = 1.0
    for dividend in reality.dividends:
        if session_date < dividend.ex_date:
            factor *= 1 - dividend.amount / _previous_unadjusted_close(symbol, dividend.ex_date, reality)
    return factor


@lru_cache(maxsize=256)
def _dividend_shares(symbol: str, reality: MarketReality) -> tuple[tuple[dt.date, float], ...]:
    """D/C of each dividend when TRADES drops by it: C, the unadjusted close before the ex-date, is the
    continuous close × split scale ÷ the factor of every dividend from this one on, so C = K + D with
    K the close without this dividend's own drop; solved from the latest dividend back."""
    shares: list[tuple[dt.date, float]] = []
    later = 1.0
    for dividend in sorted(reality.dividends or (), key=lambda d: d.ex_date, reverse=True):
        day, continuous = _previous_close_continuous(symbol, dividend.ex_date)
        base = continuous * reality.split_scale(day) / later
        share = dividend.amount / (base + dividend.amount)
        shares.append((dividend.ex_date, share))
        later *= 1 - share
    return tuple(shares)


@lru_cache(maxsize=1024)
def _previous_close_continuous(symbol: str, ex_date: dt.date) -> tuple[dt.date, float]:
    day = ex_date - dt.timedelta(days=1)
    for _ in range(10):
        try:
            return day, float(minute_bars(symbol, day).close[-1])
        except Exception:  # not a session (weekend, holiday): step back
            day -= dt.timedelta(days=1)
    raise ValueError(f"no session before {ex_date} for {symbol}")


def _previous_unadjusted_close(symbol: str, ex_date: dt.date, reality: MarketReality) -> float:
    day, close = _previous_close_continuous(symbol, ex_date)
    return close * reality.split_scale(day)


def previous_unadjusted_close(symbol: str, ex_date: dt.date, reality: MarketReality) -> float:
    """The split-unadjusted close of the session before `ex_date` (before any dividend drops)."""
    return _previous_unadjusted_close(symbol, ex_date, reality)


def adjusted_bars(symbol: str, bars: list[SyntheticBar], reality: MarketReality) -> list[SyntheticBar]:
    """ADJUSTED_LAST bars from continuous ones: prices times the session's dividend factor (cents)."""
    out = []
    for bar in bars:
        f = 1.0 if reality.dividend_drops else dividend_factor(symbol, bar.session_date, reality)
        o, h, lo, c, w = (round(v * f, 2) for v in (bar.open, bar.high, bar.low, bar.close, bar.wap))
        out.append(
            SyntheticBar(bar.session_date, bar.start, o, h, lo, c, bar.volume, min(max(w, lo), h), bar.count)
        )
    return out


def head_timestamp(
    symbol: str, reality: MarketReality | None, what_to_show: str, first_session: dt.date
) -> int:
    """Epoch seconds of the first bar IB has for the symbol and what-to-show."""
    day = reality.listed if reality is not None and reality.listed is not None else first_session
    for _ in range(10):
        try:
            series = session_series(symbol, day, MINUTE, reality or MarketReality(), what_to_show)
        except Exception:  # not a session: the next day
            series = None
        if series is not None and len(series):
            return int(series.start[0])
        day += dt.timedelta(days=1)
    return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())


__all__ = ["DAY", "adjusted_bars", "dividend_factor", "head_timestamp", "session_series"]
