"""The code location: every asset, check and resource from `defs/` (workspace.yaml and `-m` point here)."""

import dagster as dg

from ntrader_pipeline.defs import (
    backtests,
    bars,
    checks,
    instrument_data,
    jobs,
    metrics,
    reports,
    schedules,
    sensors,
)
from ntrader_pipeline.defs.resources import resource_defs
from ntrader_pipeline.logs import configure_logging

configure_logging()

defs = dg.Definitions(
    assets=[
        *bars.bars_assets,
        *instrument_data.instrument_data_assets,
        *backtests.backtest_assets.values(),
        *metrics.metrics_assets.values(),
        *reports.report_assets.values(),
        reports.backtest_comparison,
    ],
    asset_checks=checks.bar_quality_checks,
    jobs=jobs.all_jobs,
    schedules=schedules.all_schedules,
    sensors=sensors.all_sensors,
    resources=resource_defs(),
)
