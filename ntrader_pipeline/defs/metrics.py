"""Performance metrics of each backtest: saved as JSON and emitted as numeric metadata."""

import json

import dagster as dg

from ntrader_pipeline.analytics import compute_metrics
from ntrader_pipeline.backtest.artifacts import load_backtest_artifacts
from ntrader_pipeline.backtest.manifest import read_manifest
from ntrader_pipeline.defs.backtests import BACKTEST_GROUP, artifact_dir, sma_backtest
from ntrader_pipeline.defs.partitions import instrument_partitions
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.files import write_text_atomically

METRICS_FILE = "metrics.json"


@dg.asset(
    group_name=BACKTEST_GROUP,
    partitions_def=instrument_partitions,
    deps=[sma_backtest],
    kinds={"polars"},
    description="Performance metrics from the equity curve and fills (vectorized), also as numeric metadata.",
)
def backtest_metrics(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult:
    directory = artifact_dir(storage, context.partition_key)
    manifest = read_manifest(directory)
    frames = load_backtest_artifacts(directory)
    metrics = compute_metrics(frames.equity, frames.trades, frames.fills, manifest.settings.starting_cash)
    values = metrics.as_dict()
    # NaN marks an undefined ratio (e.g. no losing trade); Python's json and Dagster both keep it.
    path = write_text_atomically(directory / METRICS_FILE, json.dumps(values, indent=2, sort_keys=True))
    numeric: dict[str, object] = {k: v for k, v in values.items() if isinstance(v, int | float)}
    return dg.MaterializeResult(metadata={**numeric, "metrics_file": dg.MetadataValue.path(str(path))})
