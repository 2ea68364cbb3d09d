"""Equity curve and round trips from fills and bar closes, vectorized (no per-bar Python)."""

from __future__ import annotations

import polars as pl

from ntrader_pipeline.backtest.result import EQUITY_SCHEMA, TRADES_SCHEMA

_IS_BUY = pl.col("side") == "BUY"
_SIGNED_QTY = pl.when(_IS_BUY).then(pl.col("quantity")).otherwise(-pl.col("quantity"))
_VALUE = pl.col("quantity") * pl.col("price")
# Float position sums of fractional sizes may miss zero by ~1e-15; shares are never this small.
_QTY_DECIMALS = 9


def equity_frame(
    bar_closes: pl.DataFrame, fills: pl.DataFrame, starting_cash: float, cash_decimals: int
) -> pl.DataFrame:
    """
    Mark-to-market equity per bar (`EQUITY_SCHEMA`).

    Parameters
    ----------
    bar_closes : pl.DataFrame
        `ts`, `close` per bar, sorted by `ts`.
    fills : pl.DataFrame
        `FILLS_SCHEMA` rows sorted by `ts`.
    starting_cash : float
        Opening cash.
    cash_decimals : int
        Precision of the account currency; cash is rounded to it like the engine's `Money`, which
        removes float drift from the running sum so the last row equals the account balance.

    """
    # Each fill moves the engine's cash by its notional as `Money`: qty × price in floats, times 10^decimals,
    # rounded half away from zero (Rust's f64::round). With sub-cent prices (full-precision adjusted bars)
    # that rounding happens per fill, so here too.
    scale = 10.0**cash_decimals
    notional = (pl.col("quantity") * pl.col("price") * scale + 0.5).floor() / scale
    per_ts = (
        fills.group_by("ts", maintain_order=True)
        .agg(
            qty_delta=_SIGNED_QTY.sum(),
            cash_delta=(pl.when(_IS_BUY).then(-notional).otherwise(notional) - pl.col("commission")).sum(),
        )
        .select(
            "ts",
            position_qty=pl.col("qty_delta").cum_sum().round(_QTY_DECIMALS),
            cash=(starting_cash + pl.col("cash_delta").cum_sum()).round(cash_decimals),
        )
    )
    # Backward as-of: a bar sees every fill up to and including its own close time.
    return (
        bar_closes.join_asof(per_ts, on="ts", strategy="backward")
        .with_columns(
            pl.col("position_qty").fill_null(0.0),
            pl.col("cash").fill_null(starting_cash),
        )
        .with_columns(equity=pl.col("cash") + pl.col("position_qty") * pl.col("close"))
        .select(pl.col(name).cast(dtype) for name, dtype in EQUITY_SCHEMA.items())
    )


def trades_frame(fills: pl.DataFrame, cash_decimals: int) -> pl.DataFrame:
    """
    Closed long round trips (`TRADES_SCHEMA`): fills from flat back to flat form one trade.

    Parameters
    ----------
    fills : pl.DataFrame
        `FILLS_SCHEMA` rows sorted by `ts`.
    cash_decimals : int
        Precision of the account currency, for `commission` and `pnl`.

    Raises
    ------
    ValueError
        If the fills ever leave a short position (this pairing is long-only).

    """
    if fills.is_empty():
        return pl.DataFrame(schema=TRADES_SCHEMA)
    positioned = fills.with_columns(position_after=_SIGNED_QTY.cum_sum().round(_QTY_DECIMALS))
    if (positioned["position_after"] < 0).any():
        raise ValueError("fills go short; trades_frame pairs long-only round trips")

    # A fill that returns the position to zero ends a trade; the next fill starts a new one.
    flat_after = (pl.col("position_after") == 0).cast(pl.Int64)
    buy_value = _VALUE.filter(_IS_BUY).sum()
    sell_value = _VALUE.filter(~_IS_BUY).sum()
    return (
        positioned.with_columns(trade_no=flat_after.cum_sum().shift(1, fill_value=0))
        .group_by("trade_no", maintain_order=True)
        .agg(
            entry_ts=pl.col("ts").filter(_IS_BUY).first(),
            exit_ts=pl.col("ts").filter(~_IS_BUY).last(),
            quantity=pl.col("quantity").filter(_IS_BUY).sum(),
            buy_value=buy_value,
            entry_price=buy_value / pl.col("quantity").filter(_IS_BUY).sum(),
            exit_price=sell_value / pl.col("quantity").filter(~_IS_BUY).sum(),
            commission=pl.col("commission").sum().round(cash_decimals),
            gross_pnl=sell_value - buy_value,
            is_closed=pl.col("position_after").last() == 0,
        )
        .filter("is_closed")
        .with_columns(pnl=(pl.col("gross_pnl") - pl.col("commission")).round(cash_decimals))
        .with_columns(return_pct=pl.col("pnl") / pl.col("buy_value"))
        .select(pl.col(name).cast(dtype) for name, dtype in TRADES_SCHEMA.items())
    )
