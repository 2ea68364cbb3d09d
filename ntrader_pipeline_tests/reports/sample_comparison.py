"""Three backtest x instrument results (metrics as in metrics.json) and their equity curves."""

from __future__ import annotations

import polars as pl

from ntrader_pipeline.analytics import compute_metrics
from ntrader_pipeline.reports import comparison_key
from ntrader_pipeline_tests.analytics.sample_backtest import (
    STARTING_CASH,
    empty_fills,
    empty_trades,
    random_equity,
)

RESULTS = (("sma_fast", "SPY.ARCA", 1), ("sma_fast", "QQQ.NASDAQ", 2), ("momentum", "SPY.ARCA", 3))


def comparison_inputs(rows_per_curve: int = 4_000) -> tuple[list[dict[str, object]], dict[str, pl.DataFrame]]:
    rows, curves = [], {}
    for backtest, instrument, seed in RESULTS:
        equity = random_equity(rows_per_curve, seed=seed, bars_per_session=40, bar_minutes=10)
        metrics = compute_metrics(equity, empty_trades(), empty_fills(), STARTING_CASH)
        rows.append({"backtest": backtest, "instrument": instrument, **metrics.as_dict()})
        curves[comparison_key(backtest, instrument)] = equity
    return rows, curves
