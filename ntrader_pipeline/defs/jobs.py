"""Jobs: fetch-and-check bars, and the declared backtests → metrics → reports chain."""

from dataclasses import dataclass
from typing import Any

import dagster as dg

from ntrader_pipeline.defs.bars import MARKET_DATA_GROUP
from ntrader_pipeline.defs.names import BACKTEST_GROUP, COMPARISON_ASSET

# What `define_asset_job` returns; Dagster does not export its type.
AssetJob = Any

# The daemon's run monitoring fails a run of a job that talks to IB after this long, freeing its `ibkr`
# slot. Such a run is the nightly one session per instrument (about 30 s; at worst ~20 min: a 900 s pacing
# wait plus three attempts with backoff) or a range of one instrument launched from the job's page (a
# year of 1-minute bars is 252 requests, minutes at IB's pace). Two hours bounds a stall to one evening;
# longer histories go as asset backfills or in chunks, or the tag is raised at launch.
IB_JOB_MAX_RUNTIME_S = 2 * 3600
MAX_RUNTIME_TAG = "dagster/max_runtime"


@dataclass(frozen=True)
class Jobs:
    market_data: AssetJob
    backtests: AssetJob
    comparison: AssetJob

    def all(self) -> list[AssetJob]:
        return [self.market_data, self.backtests, self.comparison]


def build_jobs(executor: dg.ExecutorDefinition | None) -> Jobs:
    return Jobs(
        market_data=dg.define_asset_job(
            "market_data_job",
            selection=dg.AssetSelection.groups(MARKET_DATA_GROUP),
            description="Fetch bars from IB into the catalog and run the blocking quality checks.",
            executor_def=executor,
            tags={MAX_RUNTIME_TAG: str(IB_JOB_MAX_RUNTIME_S)},
        ),
        backtests=dg.define_asset_job(
            "backtests_job",
            selection=dg.AssetSelection.groups(BACKTEST_GROUP) - dg.AssetSelection.assets(COMPARISON_ASSET),
            description=(
                "For one instrument: its data version, then every declared backtest on it, its metrics and "
                "report."
            ),
            executor_def=executor,
        ),
        comparison=dg.define_asset_job(
            "comparison_job",
            selection=dg.AssetSelection.assets(COMPARISON_ASSET),
            description="Rank every backtest × instrument with metrics in one comparison report.",
            executor_def=executor,
        ),
    )
