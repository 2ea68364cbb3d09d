"""Split/dividend adjustment factors per instrument, from the daily bars already in the catalog.

Built only when the universe has an `adjusted: true` entry and 1-DAY-LAST bars. Partitioned by instrument;
an instrument without an adjusted twin materializes with nothing stored. A backtest declared with
`adjustment: splits | splits_and_dividends` depends on it.
"""

from collections.abc import Iterator

import dagster as dg

from ntrader_pipeline.adjustments.factors import corporate_actions
from ntrader_pipeline.adjustments.refresh import DAILY, refresh_adjustment_factors
from ntrader_pipeline.backtest.declarations import adjusted_twin
from ntrader_pipeline.defs.bars import bars_asset_name
from ntrader_pipeline.defs.instrument_data import INSTRUMENT_DATA_GROUP
from ntrader_pipeline.defs.partitions import INSTRUMENT_DIMENSION
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.markets.universe import Universe

ADJUSTMENT_FACTORS = "adjustment_factors"


def builds_adjustment_factors(universe: Universe) -> bool:
    return DAILY in universe.bar_specs and any(i.adjusted for i in universe.instruments)


def build_adjustment_factors_asset(
    universe: Universe, instrument_partitions: dg.StaticPartitionsDefinition
) -> dg.AssetsDefinition:
    @dg.asset(
        name=ADJUSTMENT_FACTORS,
        backfill_policy=dg.BackfillPolicy.single_run(),
        # beside the data versions: prepared from stored bars for the backtests (the market-data job's
        # assets are all session × instrument partitioned; this one is per instrument)
        group_name=INSTRUMENT_DATA_GROUP,
        partitions_def=instrument_partitions,
        deps=[
            dg.AssetDep(
                bars_asset_name(DAILY),
                partition_mapping=dg.MultiToSingleDimensionPartitionMapping(INSTRUMENT_DIMENSION),
            )
        ],
        kinds={"parquet"},
        description=(
            "Per-session split/dividend factors of each stock with an adjusted twin: IB's daily "
            "ADJUSTED_LAST close ÷ TRADES close, split steps apart from dividends. Stored beside the "
            "catalog's bars (adjustments/<instrument>.parquet); the bars stay as fetched."
        ),
    )
    def _adjustment_factors(
        context: dg.AssetExecutionContext, storage: StorageResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetMaterialization]:
        per_instrument = {
            instrument_id: adjustment_metadata(universe, storage, instrument_id)
            for instrument_id in context.partition_keys
        }
        if len(per_instrument) == 1:
            yield dg.MaterializeResult(metadata=next(iter(per_instrument.values())))
            return
        # A range (the nightly refresh): the output lets the backtests of the same run start; each
        # instrument's own metadata follows as its latest materialization.
        yield dg.MaterializeResult(metadata={"instruments": len(per_instrument)})
        for instrument_id, metadata in per_instrument.items():
            yield dg.AssetMaterialization(context.assets_def.key, partition=instrument_id, metadata=metadata)

    return _adjustment_factors


def adjustment_metadata(
    universe: Universe, storage: StorageResource, instrument_id: str
) -> dict[str, object]:
    """Refresh one instrument's factors (when it has an adjusted twin) and describe them."""
    twin = adjusted_twin(universe, instrument_id) if not universe.instrument(instrument_id).adjusted else None
    if twin is None:
        return {"sessions": 0, "note": f"{instrument_id} has no adjusted series in the universe"}
    factors = refresh_adjustment_factors(storage.catalog_store(), instrument_id, twin)
    actions = corporate_actions(factors)
    return {
        "sessions": factors.height,
        "adjusted_series": twin,
        "splits": sum(a.kind == "split" for a in actions),
        "dividends": sum(a.kind == "dividend" for a in actions),
        "corporate_actions": dg.MetadataValue.md("\n".join(f"- {a.describe()}" for a in actions) or "none"),
        "file": dg.MetadataValue.path(str(storage.catalog_store().adjustment_file(instrument_id))),
    }
