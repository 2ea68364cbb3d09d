"""Daily TRADES and ADJUSTED_LAST closes generated FORWARD from known events (the inverse of what
`adjustments.events` does), as IB serves them: a smooth economic path, TRADES unadjusted (× later
splits' ratios, ÷ later dividends' factors) and cent-rounded, ADJUSTED_LAST the path cent-rounded, volumes
× later splits' 1/ratio with day-to-day noise."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from ntrader_pipeline.markets.sessions import sessions_between


@dataclass(frozen=True)
class Event:
    ex_date: dt.date
    split: tuple[int, int] | None = None  # (new, old): 7:1 → (7, 1)
    dividend_share: float = 0.0  # D / previous unadjusted close


def daily_history(
    events: list[Event],
    start: str = "2024-01-02",
    end: str = "2024-03-28",
    level: float = 100.0,
    seed: int = 7,
    volume_noise: float = 0.15,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(trades: date, open, close, volume; adjusted: date, close) over the NYSE sessions."""
    rng = np.random.default_rng(seed)
    dates = [s.date for s in sessions_between(start, end)]
    path = level * np.exp(np.cumsum(rng.normal(0, 0.012, len(dates))))
    gaps = np.exp(rng.normal(0, 0.004, len(dates)))
    volumes = 1_000_000 * np.exp(rng.normal(0, volume_noise, len(dates)))
    scale = np.ones(len(dates))  # unadjusted price ÷ path
    for event in events:
        before = np.array([d < event.ex_date for d in dates])
        ratio = event.split[0] / event.split[1] if event.split else 1.0
        scale[before] *= ratio / (1 - event.dividend_share)
        volumes[before] /= ratio
    close = np.round(path * scale, 2)
    opens = np.round(np.r_[path[0], path[:-1]] * gaps * scale, 2)
    trades = pl.DataFrame(
        {"date": dates, "open": opens, "close": close, "volume": np.round(volumes)},
        schema={"date": pl.Date, "open": pl.Float64, "close": pl.Float64, "volume": pl.Float64},
    )
    adjusted = pl.DataFrame(
        {"date": dates, "close": np.round(path, 2)}, schema={"date": pl.Date, "close": pl.Float64}
    )
    return trades, adjusted
