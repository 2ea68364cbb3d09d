"""A hand-built backtest in the backtest runner's output schemas: 3 NYSE sessions x 3 bars, 2 round trips.

Starting cash 10,000; every fill pays 1.0 commission.
  day 1 (2024-01-02): BUY 10 @ 100 at 15:00 UTC, SELL 10 @ 110 at 21:00 → pnl = 10 x 10 - 2 = +98
  day 2 (2024-01-03): BUY 10 @ 108 at 15:00, held overnight
  day 3 (2024-01-04): SELL 10 @ 104 at 18:00                         → pnl = 10 x (-4) - 2 = -42
Equity (cash + 10 x close while long):
  day 1: 8999 + 1000 = 9999,  8999 + 1050 = 10049,  cash after sale 10098
  day 2: 9017 + 1080 = 10097, 9017 + 960 = 9977,    9017 + 1000 = 10017
  day 3: 9017 + 1020 = 10037, cash after sale 10056, 10056
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl

STARTING_CASH = 10_000.0
UTC_DATETIME = pl.Datetime("ns", "UTC")
SESSIONS = (dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4))
BAR_HOURS_UTC = (15, 18, 21)  # 10:00, 13:00 and 16:00 in New York (EST)


def utc(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def bar_times() -> list[dt.datetime]:
    return [utc(day, hour) for day in SESSIONS for hour in BAR_HOURS_UTC]


def sample_equity() -> pl.DataFrame:
    closes = [100.0, 105.0, 110.0, 108.0, 96.0, 100.0, 102.0, 104.0, 103.0]
    position = [10.0, 10.0, 0.0, 10.0, 10.0, 10.0, 10.0, 0.0, 0.0]
    cash = [8999.0, 8999.0, 10098.0, 9017.0, 9017.0, 9017.0, 9017.0, 10056.0, 10056.0]
    return equity_frame(bar_times(), closes, position, cash)


def sample_fills() -> pl.DataFrame:
    day1, day2, day3 = SESSIONS
    return fills_frame(
        [utc(day1, 15), utc(day1, 21), utc(day2, 15), utc(day3, 18)],
        ["BUY", "SELL", "BUY", "SELL"],
        [10.0, 10.0, 10.0, 10.0],
        [100.0, 110.0, 108.0, 104.0],
        [1.0, 1.0, 1.0, 1.0],
    )


def sample_trades() -> pl.DataFrame:
    day1, day2, day3 = SESSIONS
    return pl.DataFrame(
        {
            "entry_ts": [utc(day1, 15), utc(day2, 15)],
            "exit_ts": [utc(day1, 21), utc(day3, 18)],
            "quantity": [10.0, 10.0],
            "entry_price": [100.0, 108.0],
            "exit_price": [110.0, 104.0],
            "commission": [2.0, 2.0],
            "pnl": [98.0, -42.0],
            "return_pct": [0.098, -42.0 / 1080.0],
        },
        schema_overrides={"entry_ts": UTC_DATETIME, "exit_ts": UTC_DATETIME},
    )


Column = Sequence[float] | np.ndarray


def equity_frame(
    ts: Sequence[dt.datetime] | np.ndarray, close: Column, position_qty: Column, cash: Column
) -> pl.DataFrame:
    """`ts` is UTC (aware datetimes, or naive numpy datetime64 meaning UTC); equity is marked to the close."""
    frame = pl.DataFrame(
        {"ts": ts, "close": close, "position_qty": position_qty, "cash": cash},
        schema_overrides={"close": pl.Float64, "position_qty": pl.Float64, "cash": pl.Float64},
    )
    if frame.schema["ts"].time_zone is None:
        frame = frame.with_columns(pl.col("ts").dt.replace_time_zone("UTC"))
    return frame.with_columns(
        pl.col("ts").cast(UTC_DATETIME),
        equity=pl.col("cash") + pl.col("position_qty") * pl.col("close"),
    )


def fills_frame(
    ts: Sequence[dt.datetime],
    side: Sequence[str],
    quantity: Column,
    price: Column,
    commission: Column,
) -> pl.DataFrame:
    return pl.DataFrame(
        {"ts": ts, "side": side, "quantity": quantity, "price": price, "commission": commission},
        schema={
            "ts": UTC_DATETIME,
            "side": pl.String,
            "quantity": pl.Float64,
            "price": pl.Float64,
            "commission": pl.Float64,
        },
    )


def empty_fills() -> pl.DataFrame:
    return fills_frame([], [], [], [], [])


def empty_trades() -> pl.DataFrame:
    return sample_trades().clear()


def random_equity(rows: int, seed: int, *, bars_per_session: int = 390, bar_minutes: int = 1) -> pl.DataFrame:
    """A random-walk long/flat curve over consecutive weekdays, each session opening at 14:30 UTC.

    With long sessions (e.g. 20 bars of 30 minutes) bars run past UTC midnight, which the New York
    session date must absorb.
    """
    rng = np.random.default_rng(seed)
    session_count = -(-rows // bars_per_session)
    days = (dt.date(2024, 3, 1) + dt.timedelta(days=offset) for offset in range(session_count * 2))
    weekdays = [day for day in days if day.weekday() < 5][:session_count]
    opens = np.array([np.datetime64(dt.datetime.combine(day, dt.time(14, 30)), "ns") for day in weekdays])
    steps = np.arange(1, bars_per_session + 1) * np.timedelta64(bar_minutes * 60, "s")
    ts = (opens[:, None] + steps).ravel()[:rows]
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, rows)))
    position = np.where(rng.random(rows) < 0.6, 10.0, 0.0)
    cash = 10_000.0 - position * 100.0 + np.cumsum(rng.normal(0.0, 1.0, rows))
    return equity_frame(ts, close, position, cash)
