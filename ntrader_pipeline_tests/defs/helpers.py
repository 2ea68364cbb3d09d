"""Running the code location's assets with test resources, for the committed universe or any other."""

from pathlib import Path

import dagster as dg

from ntrader_pipeline.backtest.declarations import BacktestDeclaration, load_declarations
from ntrader_pipeline.defs import build_assets, build_definitions
from ntrader_pipeline.defs.partitions import partition_range_tags
from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource
from ntrader_pipeline.markets.universe import Universe, load_universe
from ntrader_pipeline.settings import IBSettings, PipelineSettings, Settings

MINUTE_BARS = dg.AssetKey("bars_1_minute")
DAILY_BARS = dg.AssetKey("bars_1_day")
BAR_QUALITY = "bar_quality"


def code_location(
    universe_path: Path | None = None, backtests_path: Path | None = None, **pipeline: object
) -> tuple[Settings, Universe, list[BacktestDeclaration]]:
    """The committed defaults (whatever the test machine's environment says), or the given files."""
    defaults = PipelineSettings()
    values = {
        "universe": universe_path or defaults.universe,
        "backtests": backtests_path or defaults.backtests,
        **pipeline,
    }
    settings = Settings(ib=IBSettings(), ntrader=PipelineSettings(**values))
    universe = load_universe(settings.ntrader.universe)
    return settings, universe, load_declarations(settings.ntrader.backtests, universe)


def definitions(
    ib: IBGatewayResource, storage: StorageResource, universe_path: Path | None = None, **kwargs: object
) -> dg.Definitions:
    """The whole code location (jobs, schedules, sensors too) with the test's resources bound."""
    return build_definitions(
        *code_location(universe_path, **kwargs), resources={"ib": ib, "storage": storage}
    )


def all_assets(universe_path: Path | None = None, backtests_path: Path | None = None) -> list:
    """The code location's assets and checks before resources are bound, so tests can supply their own."""
    assets, checks = build_assets(*code_location(universe_path, backtests_path))
    return [*assets, *checks]


def materialize(
    selection: dg.AssetSelection,
    ib: IBGatewayResource,
    storage: StorageResource,
    *,
    partition_key: str | None = None,
    partition_range: tuple[str, str] | None = None,
    run_config: dict | None = None,
    instance: dg.DagsterInstance | None = None,
    assets: list | None = None,
) -> dg.ExecuteInProcessResult:
    """`partition_range`: (first, last) `date|instrument` keys of one instrument, as one run."""
    tags = {}
    if partition_range:
        (first, instrument), (last, _) = (key.split("|") for key in partition_range)
        tags = partition_range_tags(first, last, instrument)
    return dg.materialize(
        assets if assets is not None else all_assets(),
        selection=selection,
        resources={"ib": ib, "storage": storage},
        partition_key=partition_key,
        tags=tags,
        run_config=run_config,
        instance=instance,
        raise_on_error=False,
    )


def check_evaluations(result: dg.ExecuteInProcessResult) -> list:
    return [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
