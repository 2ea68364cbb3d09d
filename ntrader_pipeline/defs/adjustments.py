"""Corporate events and split/dividend factors per instrument: the stored daily TRADES bars plus one
ADJUSTED_LAST request ending now; a check compares the stored events with a fresh anchor.

Built only when the universe has an `adjusted: true` entry and 1-DAY-LAST bars. Partitioned by instrument;
an instrument without an adjusted twin materializes with nothing stored. A backtest declared with
`adjustment: splits | splits_and_dividends` depends on it.
"""

from collections.abc import Iterator

import dagster as dg

from ntrader_pipeline.adjustments.refresh import DAILY, FetchAdjusted
from ntrader_pipeline.app.adjustments import AdjustedSource, check_adjustments, refresh_adjustments
from ntrader_pipeline.defs.bars import bars_asset_name
from ntrader_pipeline.defs.instrument_data import INSTRUMENT_DATA_GROUP
from ntrader_pipeline.defs.outcomes import check_result, dagster_metadata
from ntrader_pipeline.defs.partitions import INSTRUMENT_DIMENSION
from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource
from ntrader_pipeline.markets.universe import Universe

ADJUSTMENT_FACTORS = "adjustment_factors"
FRESH_ANCHOR_CHECK = "matches_fresh_adjusted_last"


def builds_adjustment_factors(universe: Universe) -> bool:
    return DAILY in universe.bar_specs and any(i.adjusted for i in universe.instruments)


def _adjusted_source(ib: IBGatewayResource, universe: Universe) -> AdjustedSource:
    def source(twin: str) -> FetchAdjusted:
        def fetch(duration: str) -> tuple[list, list]:
            with ib.connection() as connection:
                return connection.fetch_adjusted_bars(universe.instrument(twin), DAILY, duration)

        return fetch

    return source


def build_adjustment_factors_asset(
    universe: Universe, instrument_partitions: dg.StaticPartitionsDefinition
) -> dg.AssetsDefinition:
    @dg.asset(
        name=ADJUSTMENT_FACTORS,
        # beside the data versions: prepared from stored bars for the backtests (the market-data job's
        # assets are all session × instrument partitioned; this one is per instrument)
        group_name=INSTRUMENT_DATA_GROUP,
        partitions_def=instrument_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),  # the nightly refreshes many instruments in one run
        pool="ibkr",  # one ADJUSTED_LAST request: through the IB pool like the bars assets
        deps=[
            dg.AssetDep(
                bars_asset_name(DAILY),
                partition_mapping=dg.MultiToSingleDimensionPartitionMapping(INSTRUMENT_DIMENSION),
            )
        ],
        kinds={"parquet"},
        description=(
            "Corporate events (ex-date, split p:q, cash dividend) of each stock with an adjusted twin, "
            "detected from its daily TRADES bars and one ADJUSTED_LAST request ending now, and the "
            "per-session factors built from them (adjustments/<instrument>.parquet, events in "
            "adjustments/events/); the bars stay as fetched."
        ),
    )
    def _adjustment_factors(
        context: dg.AssetExecutionContext, storage: StorageResource, ib: IBGatewayResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetMaterialization]:
        source, store = _adjusted_source(ib, universe), storage.catalog_store()
        per_instrument = {
            instrument_id: dagster_metadata(
                refresh_adjustments(store, universe, source, instrument_id).metadata
            )
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


def _check_partitions(context: dg.AssetCheckExecutionContext) -> list[str]:
    """The run's instruments; a run of the check alone carries its one partition as a tag."""
    try:
        return list(context.op_execution_context.partition_keys)
    except dg.DagsterInvariantViolationError:
        return [context.op_execution_context.partition_key]


def build_fresh_anchor_check(universe: Universe, asset: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name=FRESH_ANCHOR_CHECK,
        partitions_def=asset.partitions_def,
        pool="ibkr",
        description=(
            "The stored events and factors against a fresh ADJUSTED_LAST request: fails naming each event "
            "that is new (a dividend or split since the last refresh) or gone, or a newest factor not 1."
        ),
    )
    def _check(
        context: dg.AssetCheckExecutionContext, storage: StorageResource, ib: IBGatewayResource
    ) -> dg.AssetCheckResult:
        source, store = _adjusted_source(ib, universe), storage.catalog_store()
        return check_result(check_adjustments(store, universe, source, _check_partitions(context)))

    return _check
