"""Per-instrument data versions of the catalog: what lets Dagster see that a backtest is out of date.

A backtest reads years of sessions; as a dependency on the month-partitioned bars that is more than the
100 upstream partitions Dagster tracks staleness for. So each declared backtest gets an
instrument-partitioned `<name>_inputs` asset whose data version is a hash of the catalog files it reads
over its window (its instrument's and its benchmark index's bars, their definitions, its adjustment
factors): a re-fetched session inside the window changes it and the backtest shows as unsynced; one
outside the window does not. Each bar spec also gets `<bars>_version` over all of an instrument's files
(the sweeps depend on it). Unchanged files are not re-hashed (`catalog.hash_index`).
"""

from collections.abc import Sequence

import dagster as dg

from ntrader_pipeline.app.backtests import backtest_inputs_version, over_window
from ntrader_pipeline.app.data_versions import instrument_files_version
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.defs.bars import bars_asset_name
from ntrader_pipeline.defs.instrument_assets import ChainStep, Declared, instrument_chain
from ntrader_pipeline.defs.names import backtest_inputs_asset_name
from ntrader_pipeline.defs.partitions import INSTRUMENT_DIMENSION, BarPartitions, bar_partition_key
from ntrader_pipeline.markets.session_months import month_start, next_month
from ntrader_pipeline.markets.universe import BarSpec, Universe

INSTRUMENT_DATA_GROUP = "backtests"
# Not `eager()`: it waits while any upstream partition is missing, and most months never are fetched.
_AFTER_BARS_UPDATE = dg.AutomationCondition.any_deps_updated() & ~dg.AutomationCondition.in_progress()


def instrument_data_asset_name(spec: BarSpec) -> str:
    return f"{bars_asset_name(spec)}_version"


def _bars_dep(spec: BarSpec) -> dg.AssetDep:
    return dg.AssetDep(
        bars_asset_name(spec),
        partition_mapping=dg.MultiToSingleDimensionPartitionMapping(INSTRUMENT_DIMENSION),
    )


def window_months(first: str, last: str) -> list[str]:
    """Month keys from the month of `first` to the month of `last`."""
    months, month, end = [], month_start(first), month_start(last)
    while month <= end:
        months.append(month.isoformat())
        month = next_month(month)
    return months


def index_dep(universe: Universe, asset_name: str, index_instrument: str) -> dg.AssetDep:
    """Dependency of a backtest partition on its own instrument's partition of `asset_name` and the
    benchmark index's."""
    mapping = {
        instrument_id: sorted(
            {instrument_id} | ({*universe.instrument_ids} if instrument_id == index_instrument else set())
        )
        for instrument_id in universe.instrument_ids
    }
    return dg.AssetDep(asset_name, partition_mapping=dg.StaticPartitionMapping(mapping))


def _windowed(declaration: BacktestDeclaration, config: object) -> BacktestDeclaration:
    """The declaration over the run's window (the launchpad's `start`/`end`, when the run has them)."""
    return over_window(declaration, getattr(config, "start", None), getattr(config, "end", None))


def inputs_step(declaration: BacktestDeclaration) -> ChainStep:
    spec = declaration.spec
    bars = dg.AssetKey(bars_asset_name(spec))

    def inputs(instrument_id: str, config: object) -> dict[dg.AssetKey, Sequence[str]]:
        window = _windowed(declaration, config).window
        months = window_months(window.start.isoformat(), window.end.isoformat())
        needed = dict.fromkeys([instrument_id, declaration.index_instrument])
        return {bars: [str(bar_partition_key(m, i)) for i in needed for m in months]}

    asset_spec = dg.AssetSpec(
        backtest_inputs_asset_name(declaration.name),
        group_name=INSTRUMENT_DATA_GROUP,
        deps=[_bars_dep(spec)],
        kinds={"parquet"},
        skippable=True,
        description=(
            f"{declaration.name}: data version of the catalog files it reads over "
            f"{declaration.window.start}..{declaration.window.end} (bars of the instrument and "
            f"{declaration.index_instrument}, definitions, adjustment factors)."
        ),
    )
    return ChainStep(
        asset_spec,
        lambda locations, instrument_id, config: backtest_inputs_version(
            locations, _windowed(declaration, config), instrument_id
        ),
        inputs,
    )


def build_instrument_data_asset(
    spec: BarSpec, universe: Universe, partitions: BarPartitions
) -> dg.AssetsDefinition:
    """`<bars>_version` per instrument. A chain of one step (defs/instrument_assets.py), so a backfill of
    many instruments is one run and records each instrument's own data version (a plain asset would take
    one run per instrument, or give every instrument of a range the same version)."""
    bars = dg.AssetKey(bars_asset_name(spec))
    asset_spec = dg.AssetSpec(
        instrument_data_asset_name(spec),
        group_name=INSTRUMENT_DATA_GROUP,
        deps=[_bars_dep(spec)],
        automation_condition=_AFTER_BARS_UPDATE,
        kinds={"parquet"},
        skippable=True,
        description=f"Data version of each instrument's stored {spec} bars: a hash of its catalog files.",
    )

    def inputs(instrument_id: str, _: object) -> dict[dg.AssetKey, Sequence[str]]:
        return {
            bars: [str(bar_partition_key(m, instrument_id)) for m in partitions.months.get_partition_keys()]
        }

    step = ChainStep(
        asset_spec,
        lambda locations, instrument_id, _: instrument_files_version(locations.store, spec, instrument_id),
        inputs,
    )
    return instrument_chain(
        name=instrument_data_asset_name(spec),
        steps=[step],
        declared=Declared(universe.instrument_ids, f"{spec} bars", "the universe file"),
        partitions_def=partitions.instruments,
    )


def build_instrument_data_assets(universe: Universe, partitions: BarPartitions) -> list[dg.AssetsDefinition]:
    return [build_instrument_data_asset(spec, universe, partitions) for spec in universe.all_bar_specs]


def instrument_data_dep(universe: Universe, spec: BarSpec, index_instrument: str) -> dg.AssetDep:
    """Dependency of a sweep point on the data versions of its instrument and benchmark index."""
    return index_dep(universe, instrument_data_asset_name(spec), index_instrument)
