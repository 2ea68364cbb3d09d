"""Backtest frames on disk: one Parquet file per frame, each replaced atomically."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import polars as pl

from ntrader_pipeline.atomic_files import atomic_target
from ntrader_pipeline.backtest.benchmarks import BENCHMARKS_SCHEMA
from ntrader_pipeline.backtest.result import EQUITY_SCHEMA, FILLS_SCHEMA, TRADES_SCHEMA, BacktestResult

EQUITY_FILE = "equity.parquet"
FILLS_FILE = "fills.parquet"
TRADES_FILE = "trades.parquet"
BENCHMARKS_FILE = "benchmarks.parquet"
# Fixed writer settings: with the same frame, the same bytes (the reproducibility test hashes the files).
_PARQUET_OPTIONS: dict = {"compression": "zstd", "compression_level": 3, "statistics": True}


class BacktestFrames(NamedTuple):
    """The frames of a `BacktestResult` and its buy-and-hold benchmarks, as read back from disk."""

    equity: pl.DataFrame
    fills: pl.DataFrame
    trades: pl.DataFrame
    benchmarks: pl.DataFrame | None = None


def save_backtest_artifacts(
    result: BacktestResult, directory: Path, benchmarks: pl.DataFrame | None = None
) -> dict[str, Path]:
    """
    Write `equity.parquet`, `fills.parquet`, `trades.parquet` (and `benchmarks.parquet` when given) into
    `directory` (created if missing).

    Each file is written to a temporary name in the same directory and renamed over the target, so a
    reader never sees a half-written file and a rerun replaces the previous output.

    Returns
    -------
    dict[str, Path]
        {"equity": ..., "fills": ..., "trades": ...} paths of the written files.

    """
    directory.mkdir(parents=True, exist_ok=True)
    frames = {"equity": result.equity, "fills": result.fills, "trades": result.trades}
    names = {"equity": EQUITY_FILE, "fills": FILLS_FILE, "trades": TRADES_FILE}
    if benchmarks is not None:
        frames["benchmarks"], names["benchmarks"] = benchmarks, BENCHMARKS_FILE
    return {key: _write_parquet_atomically(frame, directory / names[key]) for key, frame in frames.items()}


def load_backtest_artifacts(directory: Path) -> BacktestFrames:
    """
    Read the frames written by `save_backtest_artifacts`; `benchmarks` is None when the run wrote none.

    Raises
    ------
    FileNotFoundError
        If a file is missing; the message names it and says to rerun the backtest.
    ValueError
        If a file's schema differs from the expected one.

    """
    return BacktestFrames(
        equity=_read_parquet(directory / EQUITY_FILE, EQUITY_SCHEMA),
        fills=_read_parquet(directory / FILLS_FILE, FILLS_SCHEMA),
        trades=_read_parquet(directory / TRADES_FILE, TRADES_SCHEMA),
        benchmarks=(
            _read_parquet(directory / BENCHMARKS_FILE, BENCHMARKS_SCHEMA)
            if (directory / BENCHMARKS_FILE).exists()
            else None
        ),
    )


def _write_parquet_atomically(frame: pl.DataFrame, path: Path) -> Path:
    with atomic_target(path) as temp:
        frame.write_parquet(temp, **_PARQUET_OPTIONS)
    return path


def _read_parquet(path: Path, schema: pl.Schema) -> pl.DataFrame:
    if not path.exists():
        raise FileNotFoundError(f"backtest artifact {path} is missing; rerun the backtest to write it")
    frame = pl.read_parquet(path)
    if frame.schema != schema:
        raise ValueError(f"backtest artifact {path} has schema {dict(frame.schema)}, expected {dict(schema)}")
    return frame
