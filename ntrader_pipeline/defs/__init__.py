"""The Dagster layer: `build_definitions` turns settings, a universe and declared backtests into the
code location's assets, checks, jobs, schedules, sensors and resources. Nothing here reads the
environment or files while being imported, so a test (or a script) can build the code location for any
universe in its own process."""

import dagster as dg

from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.defs.adjustments import (
    build_adjustment_factors_asset,
    build_fresh_anchor_check,
    builds_adjustment_factors,
)
from ntrader_pipeline.defs.backtests import build_backtest_assets
from ntrader_pipeline.defs.bars import build_bars_assets
from ntrader_pipeline.defs.dagster_warnings import filter_chosen_warnings
from ntrader_pipeline.defs.executors import executor_named
from ntrader_pipeline.defs.freshness import build_freshness_definitions
from ntrader_pipeline.defs.instrument_data import build_instrument_data_assets
from ntrader_pipeline.defs.jobs import build_jobs
from ntrader_pipeline.defs.partitions import build_partitions
from ntrader_pipeline.defs.reports import build_comparison_asset
from ntrader_pipeline.defs.resources import build_resources
from ntrader_pipeline.defs.schedules import build_nightly_schedule
from ntrader_pipeline.defs.sensors import build_sensors
from ntrader_pipeline.defs.sweeps import build_sweep_assets, build_sweep_jobs
from ntrader_pipeline.markets.universe import Universe
from ntrader_pipeline.runtime.guarded_executor import guarded_executor
from ntrader_pipeline.settings import Settings
from ntrader_pipeline.sweeps.declarations import SweepDeclaration

filter_chosen_warnings()  # before any asset is built: the Beta/Preview APIs used on purpose stay quiet


def build_assets(
    settings: Settings,
    universe: Universe,
    declarations: list[BacktestDeclaration],
    sweeps: list[SweepDeclaration] | None = None,
) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """Every asset and asset check, before resources are bound (tests bind their own)."""
    partitions = build_partitions(universe, settings.ntrader.first_session)
    bars = build_bars_assets(universe, partitions)
    path = settings.ntrader.backtests
    assets = [
        *bars,
        *build_instrument_data_assets(universe, partitions),
        *build_backtest_assets(declarations, universe, path, partitions.instruments),
        build_comparison_asset(declarations),
        *build_sweep_assets(sweeps or [], universe, partitions.instruments),
    ]
    # The bars' `bar_quality` checks run in the bars' own steps (defs/bars.py).
    if not builds_adjustment_factors(universe):
        return assets, []
    factors = build_adjustment_factors_asset(universe, partitions.instruments)
    return [*assets, factors], [build_fresh_anchor_check(universe, factors)]


def build_definitions(
    settings: Settings,
    universe: Universe,
    declarations: list[BacktestDeclaration],
    resources: dict[str, dg.ConfigurableResource] | None = None,
    sweeps: list[SweepDeclaration] | None = None,
) -> dg.Definitions:
    """The code location; `resources` replaces the ones built from `settings` (tests pass their own)."""
    assets, checks = build_assets(settings, universe, declarations, sweeps)
    executor = executor_named(settings.ntrader)
    jobs = build_jobs(executor)
    definitions = dg.Definitions(
        assets=assets,
        # Dagster's default executor, which first fails runs whose process died and frees their slots
        # (runtime/dead_runs.py); Celery deployments rely on the daemon's run monitoring instead.
        executor=executor or guarded_executor,
        asset_checks=checks,
        jobs=[*jobs.all(), *build_sweep_jobs(sweeps or [], executor)],
        schedules=[build_nightly_schedule(universe, jobs.market_data)],
        sensors=build_sensors(universe, declarations, jobs),
        resources=resources if resources is not None else build_resources(settings),
    )
    return dg.Definitions.merge(
        definitions, build_freshness_definitions(universe, settings.ntrader.first_session)
    )
