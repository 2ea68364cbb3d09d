"""Running the real code location's assets with test resources."""

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from ntrader_pipeline.defs import backtests, bars, checks, instrument_data, metrics, reports
from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource

MINUTE_BARS = dg.AssetKey("bars_1_minute")
DAILY_BARS = dg.AssetKey("bars_1_day")
BAR_QUALITY = "bar_quality"


def all_assets() -> list:
    """The code location's definitions before resources are bound, so tests can supply their own."""
    return [
        *bars.bars_assets,
        *checks.bar_quality_checks,
        *instrument_data.instrument_data_assets,
        *backtests.backtest_assets.values(),
        *metrics.metrics_assets.values(),
        *reports.report_assets.values(),
        reports.backtest_comparison,
    ]


def materialize(
    selection: dg.AssetSelection,
    ib: IBGatewayResource,
    storage: StorageResource,
    *,
    partition_key: str | None = None,
    partition_range: tuple[str, str] | None = None,
    run_config: dict | None = None,
    instance: dg.DagsterInstance | None = None,
) -> dg.ExecuteInProcessResult:
    tags = {}
    if partition_range:
        tags = {
            ASSET_PARTITION_RANGE_START_TAG: partition_range[0],
            ASSET_PARTITION_RANGE_END_TAG: partition_range[1],
        }
    return dg.materialize(
        all_assets(),
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
