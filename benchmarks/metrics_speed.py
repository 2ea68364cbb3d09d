"""How long `compute_metrics` takes on 1-minute equity curves, against a bare numpy computation of the same
drawdown and daily-return statistics. Prints times and their ratio; never fails on timing.

Run: .venv/bin/python benchmarks/metrics_speed.py
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import polars as pl

from ntrader_pipeline.analytics import compute_metrics

BARS_PER_SESSION = 390
SESSIONS_1M = 2_564  # ~10 years of NYSE sessions: 2,564 x 390 = 999,960 rows
NS_PER_MINUTE = 60 * 10**9
NS_PER_DAY = 86_400 * 10**9
STARTING_CASH = 100_000.0


def synthetic_minute_curve(sessions: int, seed: int = 42) -> pl.DataFrame:
    """Weekday sessions of 390 one-minute bars opening 14:30 UTC, a random walk, long 60 % of the bars."""
    rng = np.random.default_rng(seed)
    days = np.busday_offset("2015-01-02", np.arange(sessions), roll="forward").astype("datetime64[ns]")
    opens = days + np.timedelta64(14 * 60 + 30, "m")
    ts = (opens[:, None] + np.arange(1, BARS_PER_SESSION + 1) * np.timedelta64(1, "m")).ravel()
    rows = ts.size
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.0005, rows)))
    position = np.where(rng.random(rows) < 0.6, 500.0, 0.0)
    cash = STARTING_CASH - position * 100.0
    return pl.DataFrame(
        {"ts": ts, "close": close, "position_qty": position, "cash": cash, "equity": cash + position * close}
    ).with_columns(pl.col("ts").dt.replace_time_zone("UTC"))


def empty_trades_and_fills() -> tuple[pl.DataFrame, pl.DataFrame]:
    ts = pl.Datetime("ns", "UTC")
    trades = pl.DataFrame(
        schema={"entry_ts": ts, "exit_ts": ts, "quantity": pl.Float64, "entry_price": pl.Float64}
        | {name: pl.Float64 for name in ("exit_price", "commission", "pnl", "return_pct")}
    )
    fills = pl.DataFrame(
        schema={
            "ts": ts,
            "side": pl.String,
            "quantity": pl.Float64,
            "price": pl.Float64,
            "commission": pl.Float64,
        }
    )
    return trades, fills


def bare_numpy(ts_ns: np.ndarray, equity: np.ndarray) -> tuple[float, float, float]:
    """Max drawdown, Sharpe, Sortino. Session dates by a fixed UTC-5 shift: exact for RTH bars, no tz data."""
    values = np.concatenate(([STARTING_CASH], equity))
    max_drawdown = -float(np.min(values / np.maximum.accumulate(values) - 1.0))
    day = (ts_ns - 5 * 3600 * 10**9) // NS_PER_DAY
    last_of_day = np.flatnonzero(np.append(day[1:] != day[:-1], True))
    closes = np.concatenate(([STARTING_CASH], equity[last_of_day]))
    returns = closes[1:] / closes[:-1] - 1.0
    sharpe = returns.mean() / returns.std(ddof=1) * math.sqrt(252)
    sortino = returns.mean() / math.sqrt(np.mean(np.minimum(returns, 0.0) ** 2)) * math.sqrt(252)
    return max_drawdown, float(sharpe), float(sortino)


def best_of(repeats: int, work: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    trades, fills = empty_trades_and_fills()
    for sessions, repeats in ((65, 20), (SESSIONS_1M, 5)):  # 65 x 390 = 25,350 rows
        equity = synthetic_minute_curve(sessions)
        ts_ns = equity["ts"].dt.epoch("ns").to_numpy()
        values = equity["equity"].to_numpy()

        metrics = compute_metrics(equity, trades, fills, STARTING_CASH)
        reference = bare_numpy(ts_ns, values)
        assert np.allclose((metrics.max_drawdown, metrics.sharpe, metrics.sortino), reference), reference

        ours = best_of(repeats, lambda equity=equity: compute_metrics(equity, trades, fills, STARTING_CASH))
        baseline = best_of(repeats, lambda ts_ns=ts_ns, values=values: bare_numpy(ts_ns, values))
        print(
            f"{equity.height:>9,} rows: compute_metrics {ours * 1e3:8.1f} ms | bare numpy drawdown+returns "
            f"{baseline * 1e3:7.1f} ms | ratio {ours / baseline:5.1f}x | "
            f"{equity.height / ours / 1e6:5.1f} M rows/s (best of {repeats})"
        )


if __name__ == "__main__":
    main()
