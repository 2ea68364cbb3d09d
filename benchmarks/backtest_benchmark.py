"""Backtest benchmark, one run on the same data: asset vs raw engine, metrics speed, peak memory.

Run: PYTHONPATH=$PWD .venv/bin/python benchmarks/backtest_benchmark.py [--window START END]
     [--rss-bars N]
Prints, never asserts on timing:
  (a) `sma_cross_backtest` asset time / raw BacktestEngine time for the same strategy on the same catalog
      bars (SPY 1-minute bars of the window, fetched from the embedded gateway)      goal <= 1.10
  (b) metrics time (compute_metrics + worst-drawdowns table) on a 1M-bar equity curve  goal <= 0.5 s
  (c) peak RSS of a 1M-bar backtest (`backtest.engine.run_backtest` of the declared sma_cross strategy:
      engine + equity/fills/trades frames) in a child process, read from
      getrusage(RUSAGE_CHILDREN).ru_maxrss; with --raw-rss also a raw-engine child on the same bars
                                                                                     goal <= 1.2 GB
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ONE_MILLION = 1_000_000
GB = 1024**3


def run_child(kind: str, bars: int) -> dict[str, float]:
    """A fresh interpreter builds `bars` synthetic 1-minute bars and backtests them; its own figures come
    back as JSON on the last stdout line."""
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--rss-bars", str(bars)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def child(kind: str, bars: int) -> None:
    from backtest_engine_overhead import spy, synthetic_bars
    from backtest_raw_engine import raw_engine_run

    from ntrader_pipeline.backtest.declarations import load_declarations
    from ntrader_pipeline.backtest.engine import run_backtest
    from ntrader_pipeline.markets.universe import load_universe
    from ntrader_pipeline.settings import load_settings

    settings = load_settings().ntrader
    universe = load_universe(settings.universe)
    declaration = next(d for d in load_declarations(settings.backtests, universe) if d.name == "sma_cross")
    instrument = spy()
    series = synthetic_bars(instrument, bars)
    started = time.perf_counter()
    if kind == "pipeline":
        classes = declaration.strategy_classes()
        values = declaration.strategy_values(classes, str(instrument.id))
        result = run_backtest(
            instrument,
            series,
            lambda _bar_type: classes.build(values),
            declaration.starting_cash,
            declaration.costs,
            declaration.risk,
        )
        fills = result.fills.height
    else:
        raw_engine_run(declaration, instrument, series, str(instrument.id))
        fills = -1
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": elapsed, "peak_bytes": peak_kib * 1024, "fills": fills}))


def metrics_on_one_million_bars(repeats: int = 5) -> float:
    from metrics_speed import (
        SESSIONS_1M,
        STARTING_CASH,
        best_of,
        empty_trades_and_fills,
        synthetic_minute_curve,
    )

    from ntrader_pipeline.analytics import compute_metrics, drawdown_table

    trades, fills = empty_trades_and_fills()
    equity = synthetic_minute_curve(SESSIONS_1M)
    benchmark = STARTING_CASH * equity["close"] / equity["close"][0]

    def work() -> None:
        compute_metrics(equity, trades, fills, STARTING_CASH, benchmark)
        drawdown_table(equity, STARTING_CASH)

    seconds = best_of(repeats, work)
    print(
        f"(b) metrics on {equity.height:,} bars (compute_metrics with benchmark + worst drawdowns): "
        f"{seconds:.3f} s best of {repeats}   (goal <= 0.5 s)"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", nargs=2, default=("2024-01-02", "2024-12-31"), metavar=("START", "END"))
    parser.add_argument("--rss-bars", type=int, default=ONE_MILLION)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--raw-rss", action="store_true", help="also measure a raw-engine child on the same bars (slow)"
    )
    parser.add_argument("--child", choices=("pipeline", "raw"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    sys.path.insert(0, str(HERE))
    if arguments.child:
        child(arguments.child, arguments.rss_bars)
        return

    metrics_on_one_million_bars()

    from backtest_asset_vs_engine import asset_vs_engine

    start, end = arguments.window
    figures = asset_vs_engine(start, end, arguments.repeats)
    print(
        f"(a) asset / raw engine on {figures['bars']:,.0f} bars: {figures['ratio']:.2f}   (goal <= 1.10)",
    )

    # (c) last and the only child process (the gateway above is a thread, Dagster runs in process), so
    # RUSAGE_CHILDREN holds this child's peak alone.
    pipeline = run_child("pipeline", arguments.rss_bars)
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(
        f"(c) {arguments.rss_bars:,}-bar backtest, peak RSS (RUSAGE_CHILDREN): {children_peak / GB:.2f} GB "
        f"(run_backtest {pipeline['seconds']:.1f} s, {pipeline['fills']:,} fills)   (goal <= 1.2 GB)"
    )
    if arguments.raw_rss:
        raw = run_child("raw", arguments.rss_bars)
        print(
            f"    raw BacktestEngine child on the same bars: {raw['peak_bytes'] / GB:.2f} GB "
            f"({raw['seconds']:.1f} s); ratio {children_peak / raw['peak_bytes']:.2f}"
        )


if __name__ == "__main__":
    main()
