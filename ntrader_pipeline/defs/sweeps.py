"""Declared sweeps as assets: one asset per point, then the results table, walk-forward and the report.

Every asset of a sweep is partitioned by instrument like the backtests, and sits in its own group
(`sweep_<name>`). Points are separate assets (keys `<name>_sweep/p000`, ...), so the UI shows and reruns
them one by one, each goes stale when its bars change, and an executor spreads them over workers. The
sweep's job runs in one process by default, where the points share one read of the bars
(`sweeps.inputs_cache`); with NTRADER_EXECUTOR=celery each worker process keeps its own.
"""

import functools
import hashlib
import os
import socket
import time
from dataclasses import dataclass

import dagster as dg
import polars as pl

from ntrader_pipeline.backtest.run import BacktestInputError, BacktestInputs, declared_code_version
from ntrader_pipeline.defs.bars import bars_asset_name
from ntrader_pipeline.defs.instrument_data import instrument_data_dep
from ntrader_pipeline.defs.jobs import AssetJob
from ntrader_pipeline.defs.reports import reports_assets_dir
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.defs.run_tags import tag_run
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


def sweep_group(sweep: str) -> str:
    return f"sweep_{sweep}"


def point_asset_key(sweep: str, point: SweepPoint) -> dg.AssetKey:
    return dg.AssetKey([f"{sweep}_sweep", point.key])


def results_asset_name(sweep: str) -> str:
    return f"{sweep}_sweep_results"


def walk_forward_asset_name(sweep: str) -> str:
    return f"{sweep}_walk_forward"


def sweep_report_asset_name(sweep: str) -> str:
    return f"{sweep}_sweep_report"


def sweep_job_name(sweep: str) -> str:
    return f"{sweep}_sweep_job"


@dataclass(frozen=True)
class SweepContext:
    sweep: SweepDeclaration
    universe: Universe

    @functools.cached_property
    def code_version(self) -> str:
        """The points' Dagster code version: every point runs the sweep's strategy (one hash per sweep)."""
        return declared_code_version(self.sweep)

    def declared_instrument(self, context: dg.AssetExecutionContext) -> str:
        """The run's instrument partition, which must be one the sweep declares."""
        instrument_id = context.partition_key
        if instrument_id not in self.sweep.instruments:
            raise dg.Failure(
                f"{instrument_id} is not declared for sweep {self.sweep.name} "
                f"({', '.join(self.sweep.instruments)}); add it to the sweep's instruments"
            )
        return instrument_id

    def inputs(self, instrument_id: str, storage: StorageResource) -> tuple[BacktestInputs, bool]:
        """The instrument's gated bars, read once per process while the catalog files are unchanged."""
        try:
            return cached_backtest_inputs(
                self.sweep,
                instrument_id,
                storage.catalog_store(),
                bars_asset_name(self.sweep.spec),
                max_missing_fraction={
                    i.instrument_id: i.max_missing_fraction for i in self.universe.instruments
                },
            )
        except BacktestInputError as exc:
            raise dg.Failure(description=f"sweep {self.sweep.name}: {exc}") from exc

    def results(self, instrument_id: str, storage: StorageResource) -> tuple[SweepResults, PointCurves]:
        """Every point's stored results; a missing or stale point fails the step naming it."""
        try:
            return collect_results(
                self.sweep, instrument_id, storage.backtests_dir, sweep_job_name(self.sweep.name)
            )
        except SweepResultsError as exc:
            raise dg.Failure(description=str(exc)) from exc


def build_point_asset(
    setup: SweepContext, point: SweepPoint, instrument_partitions: dg.StaticPartitionsDefinition
) -> dg.AssetsDefinition:
    sweep = setup.sweep

    @dg.asset(
        key=point_asset_key(sweep.name, point),
        group_name=sweep_group(sweep.name),
        partitions_def=instrument_partitions,
        deps=[instrument_data_dep(setup.universe, sweep.spec, sweep.index_instrument)],
        code_version=setup.code_version,
        kinds={"nautilus"},
        description=f"Sweep {sweep.name}, point {point.key}: {sweep.strategy} with {point.label}.",
    )
    def _point(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult:
        instrument_id = setup.declared_instrument(context)
        tag_run(context, [instrument_id], [sweep.window.start.isoformat(), sweep.window.end.isoformat()])
        started = time.monotonic()
        inputs, reused = setup.inputs(instrument_id, storage)
        run = run_point(sweep, point, inputs, storage.backtests_dir)
        version = hashlib.sha256(f"{run.config_hash}|{run.code_version}|{run.data_version}".encode())
        metrics = run.metrics
        return dg.MaterializeResult(
            data_version=dg.DataVersion(version.hexdigest()[:16]),
            metadata={
                **{name: dg.MetadataValue.text(str(value)) for name, value in point.parameters.items()},
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

    return _point


def build_results_asset(
    setup: SweepContext, instrument_partitions: dg.StaticPartitionsDefinition
) -> dg.AssetsDefinition:
    sweep = setup.sweep

    @dg.asset(
        name=results_asset_name(sweep.name),
        group_name=sweep_group(sweep.name),
        partitions_def=instrument_partitions,
        deps=[point_asset_key(sweep.name, p) for p in sweep.points()],
        kinds={"parquet"},
        description=(
            f"Sweep {sweep.name}: every point's metrics in one table (results.parquet), ranked by "
            f"{sweep.metric.value}, with the deflated Sharpe ratio and the probability of backtest "
            "overfitting over the points' daily returns."
        ),
    )
    def _results(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult:
        instrument_id = setup.declared_instrument(context)
        results, _ = setup.results(instrument_id, storage)
        directory = results_directory(storage.backtests_dir, sweep.name, instrument_id)
        paths = write_results(results, sweep, instrument_id, directory)
        metric = sweep.metric.value
        preview = results.table.sort(metric, descending=True, nulls_last=True).head(10)
        return dg.MaterializeResult(
            data_version=dg.DataVersion(results.results_hash[:16]),
            metadata={
                "points": results.table.height,
                "best_point": str(results.best["point"]),
                f"best_{metric}": float(results.best[metric] or float("nan")),
                "results_hash": results.results_hash,
                "sweep_hash": sweep.sweep_hash(instrument_id),
                "data_version": results.data_version,
                **{k: v for k, v in results.overfitting.items() if v is not None},
                "top_points": dg.MetadataValue.md(markdown_table(preview)),
                "results": dg.MetadataValue.path(str(paths["results"])),
            },
        )

    return _results


def build_walk_forward_asset(
    setup: SweepContext, instrument_partitions: dg.StaticPartitionsDefinition
) -> dg.AssetsDefinition:
    sweep = setup.sweep
    wf = sweep.walk_forward
    assert wf is not None

    @dg.asset(
        name=walk_forward_asset_name(sweep.name),
        group_name=sweep_group(sweep.name),
        partitions_def=instrument_partitions,
        deps=[results_asset_name(sweep.name)],
        kinds={"nautilus", "parquet"},
        description=(
            f"Sweep {sweep.name}: {wf.mode.value} walk-forward over {wf.folds} folds — the best in-sample "
            f"point by {sweep.metric.value} per fold, run out of sample; the stitched out-of-sample curve "
            "and the degradation per fold."
        ),
    )
    def _walk_forward(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult:
        instrument_id = setup.declared_instrument(context)
        _, curves = setup.results(instrument_id, storage)
        inputs, _ = setup.inputs(instrument_id, storage)
        result = run_walk_forward(sweep, inputs, curves)
        paths = write_walk_forward(
            result, results_directory(storage.backtests_dir, sweep.name, instrument_id), sweep
        )
        folds = result.folds
        return dg.MaterializeResult(
            metadata={
                "folds": folds.height,
                "chosen_points": ", ".join(folds["point"].to_list()),
                "mean_degradation": result.mean_degradation,
                "degradation_metric": result.degradation_metric,
                **{f"oos_{k}": v for k, v in result.oos_metrics.items()},
                "fold_table": dg.MetadataValue.md(markdown_table(folds)),
                "walk_forward": dg.MetadataValue.path(str(paths["folds"])),
            },
        )

    return _walk_forward


def build_sweep_report_asset(
    setup: SweepContext, instrument_partitions: dg.StaticPartitionsDefinition
) -> dg.AssetsDefinition:
    sweep = setup.sweep
    upstream = [results_asset_name(sweep.name)]
    if sweep.walk_forward is not None:
        upstream.append(walk_forward_asset_name(sweep.name))

    @dg.asset(
        name=sweep_report_asset_name(sweep.name),
        group_name=sweep_group(sweep.name),
        partitions_def=instrument_partitions,
        deps=upstream,
        kinds={"plotly", "html"},
        description=(
            f"Sweep {sweep.name}: offline HTML report — sortable points table, heatmaps over parameter "
            "pairs, robustness around the best point"
            + (", walk-forward folds and overfitting statistics." if sweep.walk_forward else ".")
        ),
    )
    def _report(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult:
        instrument_id = setup.declared_instrument(context)
        path = write_sweep_report_for(
            sweep,
            instrument_id,
            storage.backtests_dir,
            storage.reports_dir / "sweeps" / sweep.name / f"{instrument_id}.html",
            reports_assets_dir(storage),
        )
        return dg.MaterializeResult(metadata={"report": dg.MetadataValue.path(str(path))})

    return _report


def markdown_table(frame: pl.DataFrame) -> str:
    """A small frame as a Markdown table for the UI's metadata panel (floats to 4 significant digits)."""

    def cell(value: object) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + " --- |" * frame.width]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)


def build_sweep_assets(
    sweeps: list[SweepDeclaration], universe: Universe, instrument_partitions: dg.StaticPartitionsDefinition
) -> list[dg.AssetsDefinition]:
    assets = []
    for sweep in sweeps:
        setup = SweepContext(sweep, universe)
        assets += [build_point_asset(setup, p, instrument_partitions) for p in sweep.points()]
        assets.append(build_results_asset(setup, instrument_partitions))
        if sweep.walk_forward is not None:
            assets.append(build_walk_forward_asset(setup, instrument_partitions))
        assets.append(build_sweep_report_asset(setup, instrument_partitions))
    return assets


def build_sweep_jobs(
    sweeps: list[SweepDeclaration], executor: dg.ExecutorDefinition | None
) -> list[AssetJob]:
    """One job per sweep; in one process unless an executor (Celery) is configured, so points share bars."""
    return [
        dg.define_asset_job(
            sweep_job_name(sweep.name),
            selection=dg.AssetSelection.groups(sweep_group(sweep.name)),
            description=f"Sweep {sweep.name}: every point, the results table, walk-forward and report.",
            executor_def=executor or dg.in_process_executor,
        )
        for sweep in sweeps
    ]
