"""A declared sweep for one instrument: each point's backtest, the results table with its overfitting
statistics, the walk-forward, and the HTML report."""

import functools
import hashlib
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ntrader_pipeline.app.locations import Locations
from ntrader_pipeline.app.outcomes import Markdown, StepError, StepOutcome
from ntrader_pipeline.backtest.run import BacktestInputError, BacktestInputs, declared_code_version
from ntrader_pipeline.markets.bar_specs import bars_asset_name
from ntrader_pipeline.markets.universe import Universe
from ntrader_pipeline.sweeps.declarations import SweepDeclaration, SweepPoint
from ntrader_pipeline.sweeps.inputs_cache import cached_backtest_inputs
from ntrader_pipeline.sweeps.points import run_point
from ntrader_pipeline.sweeps.report import write_sweep_report_for
from ntrader_pipeline.sweeps.results import (
    PointCurves,
    SweepResults,
    SweepResultsError,
    collect_results,
    results_directory,
    write_results,
)
from ntrader_pipeline.sweeps.walk_forward import run_walk_forward, write_walk_forward


def sweep_job_name(sweep: str) -> str:
    return f"{sweep}_sweep_job"


@dataclass(frozen=True)
class SweepRun:
    """One declared sweep over the universe; each function below runs it for one instrument."""

    sweep: SweepDeclaration
    universe: Universe

    @functools.cached_property
    def code_version(self) -> str:
        """Every point runs the sweep's strategy: one code version per sweep."""
        return declared_code_version(self.sweep)

    def declared(self, instrument_id: str) -> str:
        if instrument_id not in self.sweep.instruments:
            raise StepError(
                f"{instrument_id} is not declared for sweep {self.sweep.name} "
                f"({', '.join(self.sweep.instruments)}); add it to the sweep's instruments"
            )
        return instrument_id

    def inputs(self, locations: Locations, instrument_id: str) -> tuple[BacktestInputs, bool]:
        """The instrument's gated bars, read once per process while the catalog files are unchanged."""
        try:
            return cached_backtest_inputs(
                self.sweep,
                self.declared(instrument_id),
                locations.store,
                bars_asset_name(self.sweep.spec),
                max_missing_fraction=self.universe.max_missing_fractions,
            )
        except BacktestInputError as exc:
            raise StepError(f"sweep {self.sweep.name}: {exc}") from exc

    def results(self, locations: Locations, instrument_id: str) -> tuple[SweepResults, PointCurves]:
        """Every point's stored results; a missing or stale point fails naming it."""
        try:
            return collect_results(
                self.sweep,
                self.declared(instrument_id),
                locations.backtests_dir,
                sweep_job_name(self.sweep.name),
            )
        except SweepResultsError as exc:
            raise StepError(str(exc)) from exc

    def directory(self, locations: Locations, instrument_id: str) -> Path:
        return results_directory(locations.backtests_dir, self.sweep.name, instrument_id)


def run_sweep_point(
    setup: SweepRun, point: SweepPoint, locations: Locations, instrument_id: str
) -> StepOutcome:
    """One point's backtest; its metrics, parameters and which worker ran it as metadata."""
    sweep = setup.sweep
    started = time.monotonic()
    inputs, reused = setup.inputs(locations, instrument_id)
    run = run_point(sweep, point, inputs, locations.backtests_dir)
    metrics = run.metrics
    return StepOutcome(
        data_version=hashlib.sha256(
            f"{run.config_hash}|{run.code_version}|{run.data_version}".encode()
        ).hexdigest()[:16],
        metadata={
            **{name: str(value) for name, value in point.parameters.items()},
            sweep.metric.value: float(getattr(metrics, sweep.metric.value)),
            "total_return": float(metrics.total_return),
            "max_drawdown": float(metrics.max_drawdown),
            "trades": metrics.trade_count,
            "bars": len(inputs.bars),
            "bars_reused": reused,
            "seconds": round(time.monotonic() - started, 3),
            "worker": f"{socket.gethostname()}:{os.getpid()}",
            "config_hash": run.config_hash,
            "data_version": run.data_version,
        },
    )


def write_sweep_results(setup: SweepRun, locations: Locations, instrument_id: str) -> StepOutcome:
    """Every point's metrics in one table, ranked, with the deflated Sharpe ratio and the PBO."""
    sweep, metric = setup.sweep, setup.sweep.metric.value
    results, _ = setup.results(locations, instrument_id)
    paths = write_results(results, sweep, instrument_id, setup.directory(locations, instrument_id))
    preview = results.table.sort(metric, descending=True, nulls_last=True).head(10)
    return StepOutcome(
        data_version=results.results_hash[:16],
        metadata={
            "points": results.table.height,
            "best_point": str(results.best["point"]),
            f"best_{metric}": float(results.best[metric] or float("nan")),
            "results_hash": results.results_hash,
            "sweep_hash": sweep.sweep_hash(instrument_id),
            "data_version": results.data_version,
            **{k: v for k, v in results.overfitting.items() if v is not None},
            "top_points": Markdown(markdown_table(preview)),
            "results": paths["results"],
        },
    )


def write_sweep_walk_forward(setup: SweepRun, locations: Locations, instrument_id: str) -> StepOutcome:
    """The best in-sample point per fold, run out of sample; the stitched curve and the degradation."""
    _, curves = setup.results(locations, instrument_id)
    inputs, _ = setup.inputs(locations, instrument_id)
    result = run_walk_forward(setup.sweep, inputs, curves)
    paths = write_walk_forward(result, setup.directory(locations, instrument_id), setup.sweep)
    folds = result.folds
    return StepOutcome(
        metadata={
            "folds": folds.height,
            "chosen_points": ", ".join(folds["point"].to_list()),
            "mean_degradation": result.mean_degradation,
            "degradation_metric": result.degradation_metric,
            **{f"oos_{k}": v for k, v in result.oos_metrics.items()},
            "fold_table": Markdown(markdown_table(folds)),
            "walk_forward": paths["folds"],
        },
    )


def write_sweep_report(setup: SweepRun, locations: Locations, instrument_id: str) -> StepOutcome:
    sweep = setup.sweep
    path = write_sweep_report_for(
        sweep,
        setup.declared(instrument_id),
        locations.backtests_dir,
        locations.reports_dir / "sweeps" / sweep.name / f"{instrument_id}.html",
        locations.reports_assets_dir,
    )
    return StepOutcome(metadata={"report": path})


def markdown_table(frame: pl.DataFrame) -> str:
    """A small frame as a Markdown table for the UI's metadata panel (floats to 4 significant digits)."""

    def cell(value: object) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + " --- |" * frame.width]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)
