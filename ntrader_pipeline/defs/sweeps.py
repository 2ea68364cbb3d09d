"""Declared sweeps as assets: one asset per point, then the results table, walk-forward and the report.

Every asset of a sweep is partitioned by instrument like the backtests, and sits in its own group
(`sweep_<name>`). Points are separate assets (keys `<name>_sweep/p000`, ...), so the UI shows and reruns
them one by one, each goes stale when its bars change, and an executor spreads them over workers. The
sweep's job runs in one process by default, where the points share one read of the bars
(`sweeps.inputs_cache`); with NTRADER_EXECUTOR=celery each worker process keeps its own.
"""

from collections.abc import Callable, Sequence

import dagster as dg

from ntrader_pipeline.app.locations import Locations
from ntrader_pipeline.app.outcomes import StepOutcome
from ntrader_pipeline.app.sweeps import (
    SweepRun,
    run_sweep_point,
    sweep_job_name,
    write_sweep_report,
    write_sweep_results,
    write_sweep_walk_forward,
)
from ntrader_pipeline.defs.instrument_data import instrument_data_dep
from ntrader_pipeline.defs.jobs import AssetJob
from ntrader_pipeline.defs.outcomes import materialize_result, step_errors_as_failures
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.defs.run_tags import tag_run
from ntrader_pipeline.markets.universe import Universe
from ntrader_pipeline.sweeps.declarations import SweepDeclaration, SweepPoint


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


def build_point_asset(
    setup: SweepRun, point: SweepPoint, instrument_partitions: dg.StaticPartitionsDefinition
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
        tag_run(
            context, [context.partition_key], [sweep.window.start.isoformat(), sweep.window.end.isoformat()]
        )
        with step_errors_as_failures():
            return materialize_result(
                run_sweep_point(setup, point, storage.locations(), context.partition_key)
            )

    return _point


# (the sweep, where the run reads and writes, the instrument) → the asset's outcome
SweepStep = Callable[[SweepRun, Locations, str], StepOutcome]


def _sweep_asset(
    setup: SweepRun,
    instrument_partitions: dg.StaticPartitionsDefinition,
    *,
    name: str,
    deps: Sequence[str | dg.AssetKey],
    kinds: set[str],
    description: str,
    step: SweepStep,
) -> dg.AssetsDefinition:
    """A sweep-level asset of one instrument (results table, walk-forward, report)."""

    @dg.asset(
        name=name,
        group_name=sweep_group(setup.sweep.name),
        partitions_def=instrument_partitions,
        deps=deps,
        kinds=kinds,
        description=description,
    )
    def _sweep_step(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult:
        with step_errors_as_failures():
            return materialize_result(step(setup, storage.locations(), context.partition_key))

    return _sweep_step


def build_results_asset(
    setup: SweepRun, instrument_partitions: dg.StaticPartitionsDefinition
) -> dg.AssetsDefinition:
    sweep = setup.sweep
    return _sweep_asset(
        setup,
        instrument_partitions,
        name=results_asset_name(sweep.name),
        deps=[point_asset_key(sweep.name, p) for p in sweep.points()],
        kinds={"parquet"},
        description=(
            f"Sweep {sweep.name}: every point's metrics in one table (results.parquet), ranked by "
            f"{sweep.metric.value}, with the deflated Sharpe ratio and the probability of backtest "
            "overfitting over the points' daily returns."
        ),
        step=write_sweep_results,
    )


def build_walk_forward_asset(
    setup: SweepRun, instrument_partitions: dg.StaticPartitionsDefinition
) -> dg.AssetsDefinition:
    sweep, wf = setup.sweep, setup.sweep.walk_forward
    assert wf is not None
    return _sweep_asset(
        setup,
        instrument_partitions,
        name=walk_forward_asset_name(sweep.name),
        deps=[results_asset_name(sweep.name)],
        kinds={"nautilus", "parquet"},
        description=(
            f"Sweep {sweep.name}: {wf.mode.value} walk-forward over {wf.folds} folds — the best in-sample "
            f"point by {sweep.metric.value} per fold, run out of sample; the stitched out-of-sample curve "
            "and the degradation per fold."
        ),
        step=write_sweep_walk_forward,
    )


def build_sweep_report_asset(
    setup: SweepRun, instrument_partitions: dg.StaticPartitionsDefinition
) -> dg.AssetsDefinition:
    sweep = setup.sweep
    upstream = [results_asset_name(sweep.name)]
    if sweep.walk_forward is not None:
        upstream.append(walk_forward_asset_name(sweep.name))
    return _sweep_asset(
        setup,
        instrument_partitions,
        name=sweep_report_asset_name(sweep.name),
        deps=upstream,
        kinds={"plotly", "html"},
        description=(
            f"Sweep {sweep.name}: offline HTML report — sortable points table, heatmaps over parameter "
            "pairs, robustness around the best point"
            + (", walk-forward folds and overfitting statistics." if sweep.walk_forward else ".")
        ),
        step=write_sweep_report,
    )


def build_sweep_assets(
    sweeps: list[SweepDeclaration], universe: Universe, instrument_partitions: dg.StaticPartitionsDefinition
) -> list[dg.AssetsDefinition]:
    assets = []
    for sweep in sweeps:
        setup = SweepRun(sweep, universe)
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
