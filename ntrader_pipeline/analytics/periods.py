"""Returns by calendar period and over rolling windows, from daily session returns (see `daily_returns`).

Period returns compound the session returns inside the period: Π(1 + r) - 1. The rolling Sharpe of a
session is that of the `window` sessions ending with it (mean / std with ddof 1, x √periods_per_year);
it is null until a full window has passed, and NaN where the window's returns do not vary.
"""

from __future__ import annotations

import math

import polars as pl


def monthly_returns(daily: pl.DataFrame) -> pl.DataFrame:
    """`year`, `month` (1-12), `return` for each month that has sessions, in time order."""
    return _compounded_by(
        daily,
        pl.col("session_date").dt.year().alias("year"),
        pl.col("session_date").dt.month().alias("month"),
    )


def yearly_returns(daily: pl.DataFrame) -> pl.DataFrame:
    """`year`, `return` for each calendar year that has sessions, in time order."""
    return _compounded_by(daily, pl.col("session_date").dt.year().alias("year"))


def rolling_sharpe(daily: pl.DataFrame, window: int = 126, *, periods_per_year: int = 252) -> pl.DataFrame:
    """`session_date`, `rolling_sharpe` over the last `window` sessions (126 ≈ 6 months)."""
    returns = pl.col("daily_return")
    mean = returns.rolling_mean(window_size=window)
    std = returns.rolling_std(window_size=window, ddof=1)
    return daily.select(
        "session_date",
        rolling_sharpe=pl.when(std > 0)
        .then(mean / std * math.sqrt(periods_per_year))
        .otherwise(pl.when(std.is_not_null()).then(float("nan"))),
    )


def _compounded_by(daily: pl.DataFrame, *keys: pl.Expr) -> pl.DataFrame:
    return daily.group_by(*keys, maintain_order=True).agg(
        ((1.0 + pl.col("daily_return")).product() - 1.0).alias("return")
    )
