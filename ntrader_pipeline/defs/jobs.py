"""Jobs: fetch-and-check bars, and the declared backtests → metrics → reports chain."""

import dagster as dg

from ntrader_pipeline.defs.backtests import BACKTEST_GROUP
from ntrader_pipeline.defs.bars import MARKET_DATA_GROUP
from ntrader_pipeline.defs.executors import executor_from_env
from ntrader_pipeline.defs.reports import COMPARISON_ASSET

market_data_job = dg.define_asset_job(
    "market_data_job",
    selection=dg.AssetSelection.groups(MARKET_DATA_GROUP),
    description="Fetch bars from IB into the catalog and run the blocking quality checks.",
    executor_def=executor_from_env(),
)
backtests_job = dg.define_asset_job(
    "backtests_job",
    selection=dg.AssetSelection.groups(BACKTEST_GROUP) - dg.AssetSelection.assets(COMPARISON_ASSET),
    description=(
        "For one instrument: its data version, then every declared backtest on it, its metrics and report."
    ),
    executor_def=executor_from_env(),
)
comparison_job = dg.define_asset_job(
    "comparison_job",
    selection=dg.AssetSelection.assets(COMPARISON_ASSET),
    description="Rank every backtest × instrument with metrics in one comparison report.",
    executor_def=executor_from_env(),
)
all_jobs = [market_data_job, backtests_job, comparison_job]
