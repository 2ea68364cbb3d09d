"""What a backtest run hands to metrics and reports: plain polars frames with fixed schemas."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

UTC_NS = pl.Datetime("ns", "UTC")

EQUITY_SCHEMA = pl.Schema(
    {
        "ts": UTC_NS,
        "close": pl.Float64,
        "position_qty": pl.Float64,
        "cash": pl.Float64,
        "equity": pl.Float64,
    }
)
FILLS_SCHEMA = pl.Schema(
    {
        "ts": UTC_NS,
        "side": pl.String,
        "quantity": pl.Float64,
        "price": pl.Float64,
        "commission": pl.Float64,
    }
)
TRADES_SCHEMA = pl.Schema(
    {
        "entry_ts": UTC_NS,
        "exit_ts": UTC_NS,
        "quantity": pl.Float64,
        "entry_price": pl.Float64,
        "exit_price": pl.Float64,
        "commission": pl.Float64,
        "pnl": pl.Float64,
        "return_pct": pl.Float64,
    }
)


@dataclass(frozen=True)
class BacktestResult:
    """
    One backtest of one instrument over one bar series.

    Attributes
    ----------
    equity : pl.DataFrame
        One row per bar in time order (`EQUITY_SCHEMA`): `ts` is the bar's `ts_init` (its close time),
        `position_qty` and `cash` are after the fills at that bar, `equity = cash + position_qty * close`.
    fills : pl.DataFrame
        One row per fill in time order (`FILLS_SCHEMA`); `side` is "BUY" or "SELL". No IDs, so two runs
        on the same input give equal frames.
    trades : pl.DataFrame
        Closed long round trips (`TRADES_SCHEMA`): quantity-weighted entry/exit prices, `commission` of
        entry and exit, `pnl` net of commission, `return_pct = pnl / (entry_price * quantity)` as a
        fraction (0.01 = 1%). A position still open at the end is not a trade.
    instrument_id : str
        e.g. "SPY.ARCA".
    bar_type : str
        e.g. "SPY.ARCA-1-MINUTE-LAST-EXTERNAL".
    starting_cash : float
        Opening cash balance.
    bar_count : int
        Number of bars fed to the engine (= rows of `equity`).
    account_balance : float
        The engine account's final cash balance; the last `equity["cash"]` equals it.
    orders_denied : int
        Orders the risk engine denied (e.g. above the per-order notional cap).

    """

    equity: pl.DataFrame
    fills: pl.DataFrame
    trades: pl.DataFrame
    instrument_id: str
    bar_type: str
    starting_cash: float
    bar_count: int
    account_balance: float
    orders_denied: int = 0
