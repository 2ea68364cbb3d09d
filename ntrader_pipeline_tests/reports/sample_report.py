"""Report inputs with every optional part filled (benchmarks, provenance, versions) for report tests."""

from __future__ import annotations

import dataclasses

import polars as pl

from ntrader_pipeline.analytics import compute_metrics, drawdown_table
from ntrader_pipeline.reports import ReportInputs
from ntrader_pipeline_tests.analytics.sample_backtest import (
    STARTING_CASH,
    fills_frame,
    random_equity,
    sample_equity,
    sample_fills,
    sample_trades,
)

PROVENANCE = {
    "sessions": 3,
    "bars": 9,
    "quality": {"sessions_checked": 3, "failing": 0, "empty": 0},
    "catalog_files": [
        {"path": "bar/SPY.ARCA-1-MINUTE/<2024-01-02>.parquet", "bytes": 20_480, "sha256": "ab" * 32},
        {"path": "bar/SPY.ARCA-1-MINUTE/2024-01-03.parquet", "bytes": 20_992, "mtime_ns": 1_700_000_000},
    ],
}


def benchmarks_for(equity: pl.DataFrame) -> pl.DataFrame:
    """Buy and hold of the instrument from its first close, and a steadily rising index."""
    return equity.select(
        "ts",
        instrument_equity=STARTING_CASH * pl.col("close") / pl.col("close").first(),
        index_equity=STARTING_CASH * (1.0 + 0.0004 * pl.int_range(pl.len()).cast(pl.Float64)),
    )


def full_inputs(equity: pl.DataFrame | None = None, fills: pl.DataFrame | None = None) -> ReportInputs:
    """The hand-built sample backtest by default; any equity curve (with its fills) otherwise."""
    equity = sample_equity() if equity is None else equity
    fills = sample_fills() if fills is None else fills
    trades = sample_trades()
    benchmarks = benchmarks_for(equity)
    return ReportInputs(
        title="SmaCross on SPY.ARCA",
        instrument_id="SPY.ARCA",
        bar_type="SPY.ARCA-1-MINUTE-LAST-EXTERNAL",
        strategy="SmaCross",
        parameters={"fast_period": 10, "slow_period": 20},
        window_start=equity["ts"][0].date(),
        window_end=equity["ts"][-1].date(),
        equity=equity,
        fills=fills,
        trades=trades,
        metrics=compute_metrics(equity, trades, fills, STARTING_CASH, benchmarks["instrument_equity"]),
        starting_cash=STARTING_CASH,
        benchmarks=benchmarks,
        index_instrument_id="QQQ.NASDAQ",
        config_hash="3f9a2c71d0e4",
        code_version="0.4.0+g1a2b3c4",
        data_version="catalog-7d41",
        provenance=PROVENANCE,
        drawdowns=drawdown_table(equity, STARTING_CASH),
    )


def long_intraday_inputs(rows: int = 60_000) -> ReportInputs:
    """About 150 sessions of 1-minute bars with a fill every 500 bars: exercises downsampling."""
    equity = random_equity(rows, seed=5)
    every = equity.gather_every(500)
    fills = fills_frame(
        every["ts"].to_list(),
        ["BUY", "SELL"] * (every.height // 2) + ["BUY"] * (every.height % 2),
        [10.0] * every.height,
        every["close"].to_list(),
        [1.0] * every.height,
    )
    return full_inputs(equity, fills)


DEMO_SESSIONS, DEMO_BARS_PER_SESSION = 61, 390


def demo_sized_inputs() -> ReportInputs:
    """The size of a demo backtest: 61 sessions of 1-minute bars (23,790), a round trip every 52 bars
    (about 900 fills and 450 trades, as the demo's SMA cross makes) and a provenance panel listing 62
    catalog files with their sha256, as the demo's manifests do. The index is a random walk too."""
    equity = random_equity(DEMO_SESSIONS * DEMO_BARS_PER_SESSION, seed=7)
    entries, exits = equity.gather_every(52), equity.gather_every(52, offset=26)
    pairs = min(entries.height, exits.height)
    entries, exits = entries.head(pairs), exits.head(pairs)
    fill_rows = pl.concat(
        [entries.select("ts", "close", side=pl.lit("BUY")), exits.select("ts", "close", side=pl.lit("SELL"))]
    ).sort("ts")
    fills = fills_frame(
        fill_rows["ts"].to_list(),
        fill_rows["side"].to_list(),
        [10.0] * fill_rows.height,
        fill_rows["close"].to_list(),
        [1.0] * fill_rows.height,
    )
    pnl = (exits["close"] - entries["close"]) * 10.0 - 2.0
    trades = (
        sample_trades()
        .clear()
        .vstack(
            pl.DataFrame(
                {
                    "entry_ts": entries["ts"],
                    "exit_ts": exits["ts"],
                    "quantity": [10.0] * pairs,
                    "entry_price": entries["close"],
                    "exit_price": exits["close"],
                    "commission": [2.0] * pairs,
                    "pnl": pnl,
                    "return_pct": pnl / (entries["close"] * 10.0),
                }
            )
        )
    )
    bar_dir = "data/bar/SPY.ARCA-1-MINUTE-LAST-EXTERNAL"
    days = equity["ts"].dt.date().unique().sort().to_list()
    provenance = {
        "sessions": DEMO_SESSIONS,
        "bars": equity.height,
        "quality": {"sessions_checked": DEMO_SESSIONS, "failing": 0, "empty": 0},
        "catalog_files": [
            {
                "bytes": 25_000 + number,
                "path": f"{bar_dir}/{day}T00-00-00-000000000Z_{day}T23-59-59-999999999Z.parquet",
                "sha256": f"{number:064x}",
            }
            for number, day in enumerate([*days, days[-1]])
        ],
    }
    index = random_equity(equity.height, seed=8)["close"]
    benchmarks = benchmarks_for(equity).with_columns(index_equity=STARTING_CASH * index / index[0])
    return dataclasses.replace(
        full_inputs(equity, fills),
        benchmarks=benchmarks,
        trades=trades,
        metrics=compute_metrics(equity, trades, fills, STARTING_CASH, benchmarks["instrument_equity"]),
        provenance=provenance,
        drawdowns=drawdown_table(equity, STARTING_CASH),
        window_start=days[0],
        window_end=days[-1],
    )
