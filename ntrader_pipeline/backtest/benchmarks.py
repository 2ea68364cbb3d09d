"""Buy-and-hold benchmarks over a backtest's sessions, vectorized from bar closes.

Each benchmark buys the whole shares the starting cash affords (commission included, same fee model as
the backtest) at the first bar's close and holds to the end. The index curve is aligned to the backtest's
own bar times: at each time the index's last close so far, and before its first bar its first close.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from ntrader_pipeline.backtest.result import UTC_NS

BENCHMARKS_SCHEMA = pl.Schema({"ts": UTC_NS, "instrument_equity": pl.Float64, "index_equity": pl.Float64})

Commission = Callable[[Decimal, Decimal], Decimal]


def buy_and_hold_shares(price: float, cash: float, commission: Commission) -> tuple[int, float]:
    """The most whole shares `cash` buys at `price` with the order's commission; (shares, commission)."""
    if price <= 0 or cash <= 0:
        return 0, 0.0
    cash_d, price_d = Decimal(repr(cash)), Decimal(repr(price))
    shares = math.floor(cash_d / price_d)
    while shares > 0:
        fee = commission(Decimal(shares), price_d * shares).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if price_d * shares + fee <= cash_d:
            return shares, float(fee)
        shares -= 1
    return 0, 0.0


def buy_and_hold_equity(closes: pl.Series, starting_cash: float, commission: Commission) -> pl.Series:
    """Equity per close of buying at the first close and holding (cash rounded to cents)."""
    if closes.len() == 0:
        return pl.Series(dtype=pl.Float64)
    first = float(closes[0])
    shares, fee = buy_and_hold_shares(first, starting_cash, commission)
    cash = round(starting_cash - shares * first - fee, 2)
    return (closes * shares + cash).cast(pl.Float64)


def benchmarks_frame(
    equity_ts: pl.Series,
    instrument_closes: pl.Series,
    index_bars: pl.DataFrame,
    starting_cash: float,
    commission: Commission,
) -> pl.DataFrame:
    """
    `BENCHMARKS_SCHEMA` rows on the backtest's bar times.

    Parameters
    ----------
    equity_ts, instrument_closes : pl.Series
        The backtest equity's `ts` and `close` columns.
    index_bars : pl.DataFrame
        `ts` and `close` of the index instrument over the same sessions (may be the instrument itself).
    starting_cash : float
        Cash both benchmarks start with.
    commission : Callable[[Decimal, Decimal], Decimal]
        Whole-order commission (quantity, value) of the backtest's fee model.

    Raises
    ------
    ValueError
        If the index has no bars.

    """
    if index_bars.height == 0:
        raise ValueError("the index instrument has no bars in the backtest's sessions")
    index = index_bars.select(pl.col("ts").cast(UTC_NS), pl.col("close")).sort("ts")
    aligned = (
        pl.DataFrame({"ts": equity_ts})
        .join_asof(index, on="ts", strategy="backward")
        .with_columns(pl.col("close").fill_null(index["close"][0]))
    )
    return pl.DataFrame(
        {
            "ts": equity_ts,
            "instrument_equity": buy_and_hold_equity(instrument_closes, starting_cash, commission),
            "index_equity": buy_and_hold_equity(aligned["close"], starting_cash, commission),
        },
        schema=BENCHMARKS_SCHEMA,
    )
