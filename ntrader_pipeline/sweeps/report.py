"""A sweep's stored results → the engine-free sweep report (`reports.sweep`)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from ntrader_pipeline.reports.sweep import SweepReportInputs, WalkForwardSummary, write_sweep_report
from ntrader_pipeline.sweeps.declarations import SweepDeclaration
from ntrader_pipeline.sweeps.results import RESULTS_PARQUET, SUMMARY_JSON, results_directory
from ntrader_pipeline.sweeps.walk_forward import FOLDS_PARQUET, OOS_EQUITY_PARQUET, WALK_FORWARD_JSON


def write_sweep_report_for(
    sweep: SweepDeclaration, instrument_id: str, artifacts: Path, path: Path, assets_dir: Path
) -> Path:
    """Write the report of `sweep` on `instrument_id` from its results (and walk-forward) files."""
    directory = results_directory(artifacts, sweep.name, instrument_id)
    if not (directory / SUMMARY_JSON).exists():
        raise FileNotFoundError(
            f"sweep {sweep.name} on {instrument_id} has no results at {directory}; "
            "materialize its results first"
        )
    summary = json.loads((directory / SUMMARY_JSON).read_text())
    walk_forward = None
    if sweep.walk_forward is not None:
        document = json.loads((directory / WALK_FORWARD_JSON).read_text())
        walk_forward = WalkForwardSummary(
            mode=document["mode"],
            metric=document["metric"],
            folds=pl.read_parquet(directory / FOLDS_PARQUET),
            oos_equity=pl.read_parquet(directory / OOS_EQUITY_PARQUET),
            oos_metrics=document["oos_metrics"],
            overfitting=summary["overfitting"],
        )
    inputs = SweepReportInputs(
        sweep=sweep.name,
        instrument_id=instrument_id,
        strategy=sweep.strategy,
        metric=sweep.metric.value,
        parameters=tuple(sweep.grid),
        results=pl.read_parquet(directory / RESULTS_PARQUET),
        walk_forward=walk_forward,
        provenance={
            "sweep_hash": summary["sweep_hash"],
            "results_hash": summary["results_hash"],
            "data_version": summary["data_version"],
            "window": f"{sweep.window.start}..{sweep.window.end}",
            "bar_spec": sweep.bar_spec,
            "grid": {name: list(values) for name, values in sweep.grid_values.items()},
            "sample": sweep.sample.model_dump() if sweep.sample else None,
            "points": len(sweep.points()),
        },
    )
    return write_sweep_report(inputs, path, assets_dir)
