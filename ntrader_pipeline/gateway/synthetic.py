"""Deterministic synthetic bars for one (symbol, NYSE session).

Each session is computed on its own from a SHA-256 seed of symbol and date (never Python's salted `hash`):
its opening price is a smooth function of symbol and date plus a small per-day gap, and the session is a
geometric random walk of 1-minute bars from there. Coarser bars are exact aggregates of the minute bars,
so a daily bar always equals the aggregate of its session's minute bars. Bars exist only in regular
trading hours of NYSE sessions (390 minutes, 210 on half days).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ntrader_pipeline.gateway.contracts import CONTRACTS
from ntrader_pipeline.markets.sessions import session_for

MINUTE = 60
FIVE_MINUTES = 300
HOUR = 3600
DAY = 86400
SUPPORTED_BAR_SECONDS = (MINUTE, FIVE_MINUTES, HOUR, DAY)

_MINUTE_VOLATILITY = 0.0007  # ~1.4% daily: enough movement for strategies to trade
_EPOCH_DAY = dt.date(2024, 1, 1)  # base prices in the registry are levels around this date


@dataclass(frozen=True, slots=True)
class SyntheticBar:
    """One bar; `start` is the bar's opening instant as UTC epoch seconds."""

    session_date: dt.date
    start: int
    open: float
    high: float
    low: float
    close: float
    volume: int
    wap: float
    count: int


@dataclass(frozen=True, slots=True)
class BarSeries:
    """Column arrays of one session's bars (read-only: instances are shared through the caches)."""

    session_date: dt.date
    start: np.ndarray  # int64 epoch seconds
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray  # int64
    wap: np.ndarray
    count: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.start)

    def rows(self) -> list[SyntheticBar]:
        columns = (self.start, self.open, self.high, self.low, self.close, self.volume, self.wap, self.count)
        return [
            SyntheticBar(
                self.session_date, int(s), float(o), float(h), float(lo), float(c), int(v), float(w), int(n)
            )
            for s, o, h, lo, c, v, w, n in zip(*(col.tolist() for col in columns), strict=True)
        ]


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")


def _unit(*parts: str) -> float:
    """A deterministic number in [0, 1)."""
    return _seed(*parts) / 2**64


def _base_price(symbol: str) -> float:
    contract = CONTRACTS.get(symbol)
    return contract.base_price if contract else 20.0 + 480.0 * _unit("base-price", symbol)


def _base_volume(symbol: str) -> int:
    contract = CONTRACTS.get(symbol)
    return contract.base_volume if contract else 5_000 + int(45_000 * _unit("base-volume", symbol))


def session_open_price(symbol: str, session_date: dt.date) -> float:
    """Opening price: a slow trend plus a multi-year cycle per symbol, and a per-day gap of at most ±0.5%.

    Cheap and independent per date, so any session can be generated without its predecessors.
    """
    years = (session_date - _EPOCH_DAY).days / 365.25
    phase = 2 * math.pi * _unit("phase", symbol)
    level = _base_price(symbol) * math.exp(0.07 * years + 0.12 * math.sin(2 * math.pi * years / 3.3 + phase))
    gap = 0.01 * (_unit("gap", symbol, session_date.isoformat()) - 0.5)
    return max(round(level * (1 + gap), 2), 1.0)


def _read_only(series: BarSeries) -> BarSeries:
    columns = (series.start, series.open, series.high, series.low, series.close, series.volume, series.wap)
    for column in (*columns, series.count):
        column.setflags(write=False)
    return series


@lru_cache(maxsize=4096)
def minute_bars(symbol: str, session_date: dt.date) -> BarSeries:
    """The session's 1-minute bars; raises NotATradingSessionError for weekends and holidays."""
    session = session_for(session_date)
    n = session.minutes
    rng = np.random.default_rng(_seed("minute-bars", symbol, session_date.isoformat()))

    open0 = session_open_price(symbol, session_date)
    path = open0 * np.exp(np.cumsum(rng.normal(0.0, _MINUTE_VOLATILITY, n)))
    close = np.maximum(np.round(path, 2), 0.01)
    open_ = np.concatenate(([open0], close[:-1]))
    wicks = np.abs(rng.normal(0.0, _MINUTE_VOLATILITY * 0.6, (2, n)))
    body_high = np.maximum(open_, close)
    body_low = np.minimum(open_, close)
    high = np.maximum(np.round(body_high * (1 + wicks[0]), 2), body_high)
    low = np.maximum(np.minimum(np.round(body_low * (1 - wicks[1]), 2), body_low), 0.01)

    # U-shaped intraday volume: busy open and close, quiet lunch
    x = np.linspace(0.0, 1.0, n)
    profile = 1.0 + 2.0 * np.exp(-x / 0.04) + 1.5 * np.exp(-(1.0 - x) / 0.04)
    noise = rng.lognormal(0.0, 0.35, n)
    volume = np.maximum((_base_volume(symbol) * profile * noise).astype(np.int64), 1)
    typical = (open_ + high + low + close) / 4
    wap = np.clip(np.round(typical + rng.normal(0.0, 0.002, n) * (high - low), 4), low, high)
    count = np.maximum(volume // rng.integers(80, 160, n), 1).astype(np.int64)

    first = int(session.open.timestamp())
    start = first + MINUTE * np.arange(n, dtype=np.int64)
    return _read_only(BarSeries(session_date, start, open_, high, low, close, volume, wap, count))


def _bucket_starts(minutes: BarSeries, bar_seconds: int) -> np.ndarray:
    if bar_seconds == MINUTE:
        return minutes.start
    if bar_seconds == DAY:
        return np.full(len(minutes), minutes.start[0])
    # Floor to the bar size in UTC; ET is a whole-hour offset, so this also aligns in exchange time.
    # The first hourly bar therefore runs 09:30-10:00, as IB's do.
    return np.maximum((minutes.start // bar_seconds) * bar_seconds, minutes.start[0])


def aggregate(minutes: BarSeries, bar_seconds: int) -> BarSeries:
    """Aggregate minute bars into `bar_seconds` bars: first open, max high, min low, last close, sums."""
    labels = _bucket_starts(minutes, bar_seconds)
    if bar_seconds == MINUTE:
        return minutes
    first = np.flatnonzero(np.concatenate(([True], labels[1:] != labels[:-1])))
    last = np.concatenate((first[1:], [len(labels)])) - 1
    volume = np.add.reduceat(minutes.volume, first)
    high = np.maximum.reduceat(minutes.high, first)
    low = np.minimum.reduceat(minutes.low, first)
    wap = np.clip(np.round(np.add.reduceat(minutes.wap * minutes.volume, first) / volume, 4), low, high)
    return _read_only(
        BarSeries(
            session_date=minutes.session_date,
            start=labels[first],
            open=minutes.open[first],
            high=high,
            low=low,
            close=minutes.close[last],
            volume=volume,
            wap=wap,
            count=np.add.reduceat(minutes.count, first),
        )
    )


@lru_cache(maxsize=4096)
def session_bars(symbol: str, session_date: dt.date, bar_seconds: int) -> BarSeries:
    """The session's bars of `bar_seconds` (60, 300, 3600 or 86400)."""
    if bar_seconds not in SUPPORTED_BAR_SECONDS:
        raise ValueError(f"bar size of {bar_seconds}s is not one of {SUPPORTED_BAR_SECONDS}")
    return aggregate(minute_bars(symbol, session_date), bar_seconds)
