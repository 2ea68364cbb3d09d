"""The interactive HTML report of each backtest."""

import datetime as dt
import json

import dagster as dg

from ntrader_pipeline.analytics import PerformanceMetrics
from ntrader_pipeline.backtest.artifacts import load_backtest_artifacts
from ntrader_pipeline.backtest.manifest import read_manifest
from ntrader_pipeline.defs.backtests import BACKTEST_GROUP, STRATEGY, artifact_dir
from ntrader_pipeline.defs.metrics import METRICS_FILE, backtest_metrics
from ntrader_pipeline.defs.partitions import instrument_partitions
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.reports import ReportInputs, write_report


@dg.asset(
    group_name=BACKTEST_GROUP,
    partitions_def=instrument_partitions,
    deps=[backtest_metrics],
    kinds={"plotly", "html"},
    description="Self-contained interactive HTML report: equity vs buy-and-hold, drawdown, trades, metrics.",
)
def backtest_report(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult:
    instrument_id = context.partition_key
    directory = artifact_dir(storage, instrument_id)
    manifest = read_manifest(directory)
    frames = load_backtest_artifacts(directory)
    metrics = PerformanceMetrics.from_dict(json.loads((directory / METRICS_FILE).read_text()))
    inputs = ReportInputs(
        title=f"{STRATEGY} on {instrument_id}",
        instrument_id=instrument_id,
        bar_type=manifest.bar_type,
        strategy=STRATEGY,
        parameters=manifest.parameters(),
        window_start=manifest.window_start,
        window_end=manifest.window_end,
        equity=frames.equity,
        fills=frames.fills,
        trades=frames.trades,
        metrics=metrics,
        starting_cash=manifest.settings.starting_cash,
    )
    path = write_report(inputs, storage.reports_dir / STRATEGY / f"{instrument_id}.html")
    context.log.info(f"report for {instrument_id}: {path}")
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(path)),
            "report_url": dg.MetadataValue.url(storage.report_url(path)),
            "size_bytes": path.stat().st_size,
            "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
    )
