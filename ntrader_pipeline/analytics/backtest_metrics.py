"""Metrics of one stored backtest, from its artefact directory: computed, saved beside the artefacts."""

from __future__ import annotations

from pathlib import Path

from ntrader_pipeline.analytics.drawdowns import drawdown_table
from ntrader_pipeline.analytics.metrics import PerformanceMetrics, compute_metrics
from ntrader_pipeline.analytics.storage import save_metrics
from ntrader_pipeline.backtest.artifacts import load_backtest_artifacts
from ntrader_pipeline.backtest.manifest import read_manifest


def write_backtest_metrics(directory: Path) -> tuple[PerformanceMetrics, dict[str, Path]]:
    """Metrics relative to the index benchmark the run wrote (if any); returns them and the files."""
    manifest = read_manifest(directory)
    frames = load_backtest_artifacts(directory)
    benchmark = frames.benchmarks["index_equity"] if frames.benchmarks is not None else None
    metrics = compute_metrics(
        frames.equity, frames.trades, frames.fills, manifest.starting_cash, benchmark=benchmark
    )
    paths = save_metrics(metrics, drawdown_table(frames.equity, manifest.starting_cash), directory)
    return metrics, paths
