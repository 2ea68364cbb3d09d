"""Jobs: fetch-and-check bars, and the backtest → metrics → report chain."""

import dagster as dg

from ntrader_pipeline.defs.backtests import BACKTEST_GROUP
from ntrader_pipeline.defs.bars import MARKET_DATA_GROUP
from ntrader_pipeline.defs.executors import executor_from_env

market_data_job = dg.define_asset_job(
    "market_data_job",
    selection=dg.AssetSelection.groups(MARKET_DATA_GROUP),
    description="Fetch bars from IB into the catalog and run the blocking quality checks.",
    executor_def=executor_from_env(),
)
backtests_job = dg.define_asset_job(
    "backtests_job",
    selection=dg.AssetSelection.groups(BACKTEST_GROUP),
    description="Backtest each instrument over the configured window, then its metrics and report.",
    executor_def=executor_from_env(),
)
all_jobs = [market_data_job, backtests_job]
