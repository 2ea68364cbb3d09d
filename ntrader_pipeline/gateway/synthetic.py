"""Deterministic synthetic bars for one (symbol, session of the symbol's calendar).

Each session is computed on its own from a SHA-256 seed of symbol and date (never Python's salted `hash`):
its opening price is a smooth function of symbol and date plus a small per-day gap, and the session is a
geometric random walk of 1-minute bars from there. Coarser bars are exact aggregates of the minute bars,
so a daily bar always equals the aggregate of its session's minute bars. Stocks have bars only in regular
trading hours of NYSE sessions (390 minutes, 210 on half days); FX pairs over their whole 24×5 session
(1440 minutes) and futures over their CME Globex session (1380 minutes, less on early closes). Prices sit
on the contract's tick (0.01, FX 0.00005, ES 0.25); the daily volatility is about the same for all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ntrader_pipeline.gateway.contracts import CONTRACTS, ListedContract
from ntrader_pipeline.markets.sessions import TradingSession, session_for

MINUTE = 60
FIVE_MINUTES = 300
HOUR = 3600
DAY = 86400
SUPPORTED_BAR_SECONDS = (MINUTE, FIVE_MINUTES, HOUR, DAY)

_MINUTE_VOLATILITY = 0.0007  # ~1.4% daily over 390 minutes: enough movement for strategies to trade
_RTH_MINUTES = 390
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


def _contract(symbol: str) -> ListedContract | None:
    """By registry key (SPY, EUR.USD, ESH4) or plain symbol (EUR, ES: a future's months share one series)."""
    found = CONTRACTS.get(symbol)
    return found or next((c for c in CONTRACTS.values() if c.symbol == symbol), None)


def _base_price(symbol: str) -> float:
    contract = _contract(symbol)
    return contract.base_price if contract else 20.0 + 480.0 * _unit("base-price", symbol)


def _base_volume(symbol: str) -> int:
    contract = _contract(symbol)
    return contract.base_volume if contract else 5_000 + int(45_000 * _unit("base-volume", symbol))


def _tick(symbol: str) -> float:
    contract = _contract(symbol)
    return contract.min_tick if contract else 0.01


def symbol_session(symbol: str, session_date: dt.date) -> TradingSession:
    """The session of `session_date` on the symbol's calendar (NYSE for unknown symbols)."""
    contract = _contract(symbol)
    return session_for(session_date, contract.calendar if contract else None)


def _on_tick(values: np.ndarray, tick: float) -> np.ndarray:
    decimals = len(f"{tick:.10f}".rstrip("0").partition(".")[2])
    if tick == 10.0**-decimals:  # cents and the like: plain rounding, as the series always were
        return np.round(values, decimals)
    return np.round(np.round(values / tick) * tick, decimals)


def session_open_price(symbol: str, session_date: dt.date) -> float:
    """Opening price: a slow trend plus a multi-year cycle per symbol, and a per-day gap of at most ±0.5%.

    Cheap and independent per date, so any session can be generated without its predecessors.
    """
    years = (session_date - _EPOCH_DAY).days / 365.25
    phase = 2 * math.pi * _unit("phase", symbol)
    level = _base_price(symbol) * math.exp(0.07 * years + 0.12 * math.sin(2 * math.pi * years / 3.3 + phase))
    gap = 0.01 * (_unit("gap", symbol, session_date.isoformat()) - 0.5)
    tick = _tick(symbol)
    return max(float(_on_tick(np.array([level * (1 + gap)]), tick)[0]), 100 * tick)


def _read_only(series: BarSeries) -> BarSeries:
    columns = (series.start, series.open, series.high, series.low, series.close, series.volume, series.wap)
    for column in (*columns, series.count):
        column.setflags(write=False)
    return series


@lru_cache(maxsize=4096)
def minute_bars(symbol: str, session_date: dt.date) -> BarSeries:
    """The session's 1-minute bars; raises NotATradingSessionError for weekends and holidays."""
    session = symbol_session(symbol, session_date)
    n = session.minutes
    rng = np.random.default_rng(_seed("minute-bars", symbol, session_date.isoformat()))
    tick = _tick(symbol)
    # Longer sessions move less per minute, so every type keeps about the same daily range.
    volatility = _MINUTE_VOLATILITY * math.sqrt(_RTH_MINUTES / max(session.regular_minutes, _RTH_MINUTES))

    open0 = session_open_price(symbol, session_date)
    path = open0 * np.exp(np.cumsum(rng.normal(0.0, volatility, n)))
    close = np.maximum(_on_tick(path, tick), tick)
    open_ = np.concatenate(([open0], close[:-1]))
    wicks = np.abs(rng.normal(0.0, volatility * 0.6, (2, n)))
    body_high = np.maximum(open_, close)
    body_low = np.minimum(open_, close)
    high = np.maximum(_on_tick(body_high * (1 + wicks[0]), tick), body_high)
    low = np.maximum(np.minimum(_on_tick(body_low * (1 - wicks[1]), tick), body_low), tick)

    # U-shaped intraday volume: busy open and close, quiet lunch
    x = np.linspace(0.0, 1.0, n)
    profile = 1.0 + 2.0 * np.exp(-x / 0.04) + 1.5 * np.exp(-(1.0 - x) / 0.04)
    noise = rng.lognormal(0.0, 0.35, n)
    volume = np.maximum((_base_volume(symbol) * profile * noise).astype(np.int64), 1)
    typical = (open_ + high + low + close) / 4
    wap = np.clip(
        np.round(typical + rng.normal(0.0, 0.002, n) * (high - low), 4 if tick >= 0.01 else 7), low, high
    )
    count = np.maximum(volume // rng.integers(80, 160, n), 1).astype(np.int64)

    first = int(session.open.timestamp())
    start = first + MINUTE * np.arange(n, dtype=np.int64)
    return _read_only(BarSeries(session_date, start, open_, high, low, close, volume, wap, count))


def _bucket_starts(minutes: BarSeries, bar_seconds: int, first: int | None = None) -> np.ndarray:
    first = int(minutes.start[0]) if first is None else first
    if bar_seconds == MINUTE:
        return minutes.start
    if bar_seconds == DAY:
        return np.full(len(minutes), first)
    # Floor to the bar size in UTC; ET is a whole-hour offset, so this also aligns in exchange time.
    # The first hourly bar therefore runs 09:30-10:00, as IB's do.
    return np.maximum((minutes.start // bar_seconds) * bar_seconds, first)


def aggregate(minutes: BarSeries, bar_seconds: int, first: int | None = None) -> BarSeries:
    """Aggregate minute bars into `bar_seconds` bars: first open, max high, min low, last close, sums.

    `first` is the session's open (epoch seconds) when the minutes may not start with it (sparse bars)."""
    labels = _bucket_starts(minutes, bar_seconds, first)
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


# Split/dividend adjustment for ADJUSTED_LAST: a quarterly dividend of 0.375 % goes ex on the third Friday
# of Mar/Jun/Sep/Dec; prices before an ex-date are scaled down by each later dividend's factor, up to a
# fixed horizon so the series never depends on the wall clock.
_DIVIDEND_FACTOR = 1 - 0.00375
_ADJUSTMENT_HORIZON = dt.date(2030, 1, 1)


def _ex_dates() -> list[dt.date]:
    dates = []
    for year in range(2000, _ADJUSTMENT_HORIZON.year):
        for month in (3, 6, 9, 12):
            first = dt.date(year, month, 1)
            dates.append(first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14))
    return dates


_EX_DATES = np.array(_ex_dates(), dtype="datetime64[D]")


def adjustment_factor(session_date: dt.date) -> float:
    """What ADJUSTED_LAST multiplies a session's prices by: the product of later dividends' factors."""
    later = len(_EX_DATES) - int(np.searchsorted(_EX_DATES, np.datetime64(session_date, "D"), side="right"))
    return _DIVIDEND_FACTOR**later


def adjusted(bars: list[SyntheticBar]) -> list[SyntheticBar]:
    """ADJUSTED_LAST bars: prices times the session's adjustment factor (cents), volumes unchanged."""
    out = []
    for bar in bars:
        f = adjustment_factor(bar.session_date)
        o, h, lo, c, w = (round(v * f, 2) for v in (bar.open, bar.high, bar.low, bar.close, bar.wap))
        out.append(
            SyntheticBar(bar.session_date, bar.start, o, h, lo, c, bar.volume, min(max(w, lo), h), bar.count)
        )
    return out
