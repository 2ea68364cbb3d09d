"""Per-instrument data versions of the catalog: what lets Dagster see that a backtest is out of date.

A backtest reads 60+ sessions; as a dependency on the session-partitioned bars that is more than the
100 upstream partitions Dagster tracks staleness for. So each bar spec gets an instrument-partitioned
asset whose data version is a hash of the instrument's stored files (bars of the spec and the instrument
definition). A re-fetch that changes a file changes the version on the next materialization, and every
backtest that read the instrument shows as unsynced. It materializes by itself after its bars are
updated when the automation sensor is on, and first in `backtests_job`.
"""

import dagster as dg

from ntrader_pipeline.backtest.versions import catalog_files, data_version
from ntrader_pipeline.defs.bars import bars_asset_name
from ntrader_pipeline.defs.partitions import INSTRUMENT_DIMENSION
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.markets.universe import BarSpec, Universe

INSTRUMENT_DATA_GROUP = "backtests"
# Not `eager()`: it waits while any upstream partition is missing, and most sessions never are fetched.
_AFTER_BARS_UPDATE = dg.AutomationCondition.any_deps_updated() & ~dg.AutomationCondition.in_progress()


def instrument_data_asset_name(spec: BarSpec) -> str:
    return f"{bars_asset_name(spec)}_version"


def instrument_data_dep(universe: Universe, spec: BarSpec, index_instrument: str) -> dg.AssetDep:
    """Dependency of a backtest partition on its own instrument's version and the benchmark index's."""
    mapping = {
        instrument_id: sorted(
            {instrument_id} | ({*universe.instrument_ids} if instrument_id == index_instrument else set())
        )
        for instrument_id in universe.instrument_ids
    }
    return dg.AssetDep(instrument_data_asset_name(spec), partition_mapping=dg.StaticPartitionMapping(mapping))


def build_instrument_data_asset(
    spec: BarSpec, instrument_partitions: dg.StaticPartitionsDefinition
) -> dg.AssetsDefinition:
    @dg.asset(
        name=instrument_data_asset_name(spec),
        group_name=INSTRUMENT_DATA_GROUP,
        partitions_def=instrument_partitions,
        deps=[
            dg.AssetDep(
                bars_asset_name(spec),
                partition_mapping=dg.MultiToSingleDimensionPartitionMapping(INSTRUMENT_DIMENSION),
            )
        ],
        automation_condition=_AFTER_BARS_UPDATE,
        kinds={"parquet"},
        description=f"Data version of each instrument's stored {spec} bars: a hash of its catalog files.",
    )
    def _instrument_data(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult:
        instrument_id = context.partition_key
        store = storage.catalog_store()
        paths = sorted(store.bar_directory(spec.bar_type(instrument_id)).glob("*.parquet"))
        paths += store.definition_files(instrument_id)
        files = catalog_files(store.path, paths)
        version = data_version(files)
        return dg.MaterializeResult(
            data_version=dg.DataVersion(version),
            metadata={"files": len(files), "bytes": sum(f.bytes for f in files), "data_version": version},
        )

    return _instrument_data


def build_instrument_data_assets(
    universe: Universe, instrument_partitions: dg.StaticPartitionsDefinition
) -> list[dg.AssetsDefinition]:
    return [build_instrument_data_asset(spec, instrument_partitions) for spec in universe.all_bar_specs]
