"""Running the code location's assets with test resources, for the committed universe or any other."""

from pathlib import Path

import dagster as dg

from ntrader_pipeline.backtest.declarations import BacktestDeclaration, load_declarations
from ntrader_pipeline.defs import build_assets, build_definitions
from ntrader_pipeline.defs.partitions import bar_partition_key, partition_range_tags
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
    """Sessions as the tests name them: `partition_key="2024-01-03|SPY.ARCA"` is that session's month
    partition narrowed to the session, `partition_range` (first, last) `date|instrument` keys of one
    instrument the months of the range narrowed to its sessions, as one run. A `dg.MultiPartitionKey` (a
    month) and an instrument-partitioned key (`SPY.ARCA`) pass through."""
    assets = assets if assets is not None else all_assets()
    tags: dict[str, str] = {}
    first = last = None
    if partition_range:
        (first, instrument), (last, _) = (key.split("|") for key in partition_range)
        tags = partition_range_tags(first, last, instrument)
    elif partition_key and "|" in partition_key and not isinstance(partition_key, dg.MultiPartitionKey):
        first, instrument = partition_key.split("|")
        last, partition_key = first, str(bar_partition_key(first, instrument))
    if first is not None:
        run_config = {**(run_config or {}), **session_config(assets, selection, first, last)}
    return dg.materialize(
        assets,
        selection=selection,
        resources={"ib": ib, "storage": storage},
        partition_key=partition_key,
        tags=tags,
        run_config=run_config,
        instance=instance,
        raise_on_error=False,
    )


def session_config(assets: list, selection: dg.AssetSelection, first: str, last: str) -> dict:
    """Run config narrowing every selected bars asset to the sessions `first`..`last`."""
    selected = selection.resolve([a for a in assets if isinstance(a, dg.AssetsDefinition)])
    ops = {
        key.to_user_string(): {"config": {"first_session": first, "last_session": last}}
        for key in selected
        if key.to_user_string().startswith("bars_1_") and not key.to_user_string().endswith("_version")
    }
    return {"ops": ops} if ops else {}


def check_evaluations(result: dg.ExecuteInProcessResult) -> list:
    return [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]


def materializations_of(result: dg.ExecuteInProcessResult, asset: str) -> list[dg.AssetMaterialization]:
    """The run's materializations of one asset (a backtest chain's step records four assets)."""
    events = (e.materialization for e in result.get_asset_materialization_events())
    return [m for m in events if m.asset_key.to_user_string() == asset]
