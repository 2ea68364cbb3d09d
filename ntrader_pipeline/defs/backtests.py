"""Backtests per instrument over a window of sessions, then their metrics and HTML reports."""

import datetime as dt
import json
import math
import time

import dagster as dg
from pydantic import Field

from ntrader_pipeline.analytics import compute_metrics
from ntrader_pipeline.backtest.artifacts import load_backtest_artifacts, save_backtest_artifacts
from ntrader_pipeline.backtest.manifest import BacktestManifest, read_manifest, write_manifest
from ntrader_pipeline.backtest.runner import run_sma_backtest
from ntrader_pipeline.backtest.settings import BacktestSettings
from ntrader_pipeline.defs.bars import bars_asset_name, bars_assets
from ntrader_pipeline.defs.partitions import INSTRUMENT_DIMENSION, SETTINGS, instrument_partitions
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.gate import SessionsNotReadyError, require_clean_sessions
from ntrader_pipeline.reports import ReportInputs, write_report

BACKTEST_GROUP = "backtests"
STRATEGY = "sma_cross"


class SmaBacktestConfig(dg.Config):
    """Launchpad-overridable parameters of the SMA-crossover backtest."""

    start: str = Field(default=SETTINGS.demo_start.isoformat(), description="first session (YYYY-MM-DD)")
    end: str = Field(default=SETTINGS.demo_end.isoformat(), description="last session (YYYY-MM-DD)")
    bar_spec: str = Field(default="1-MINUTE-LAST", description="bar spec of the universe to trade on")
    fast_period: int = 10
    slow_period: int = 30
    trade_size: int = 100
    starting_cash: float = 100_000.0

    def settings(self) -> BacktestSettings:
        return BacktestSettings(
            starting_cash=self.starting_cash,
            fast_period=self.fast_period,
            slow_period=self.slow_period,
            trade_size=self.trade_size,
        )


def _artifact_dir(storage: StorageResource, instrument_id: str):
    return storage.backtests_dir / STRATEGY / instrument_id


@dg.asset(
    group_name=BACKTEST_GROUP,
    partitions_def=instrument_partitions,
    deps=[
        dg.AssetDep(asset, partition_mapping=dg.MultiToSingleDimensionPartitionMapping(INSTRUMENT_DIMENSION))
        for asset in bars_assets
    ],
    kinds={"nautilus", "parquet"},
    description="SMA-crossover long-only backtest: Nautilus BacktestEngine, IBKR fixed commissions, cash.",
)
def sma_backtest(
    context: dg.AssetExecutionContext, config: SmaBacktestConfig, storage: StorageResource
) -> dg.MaterializeResult:
    instrument_id = context.partition_key
    spec = BarSpec.parse(config.bar_spec)
    sessions = sessions_between(config.start, config.end)
    if not sessions:
        raise dg.Failure(f"no NYSE sessions between {config.start} and {config.end}; widen the window")
    store = storage.catalog()
    try:
        require_clean_sessions(store, instrument_id, spec, sessions, asset_hint=bars_asset_name(spec))
    except SessionsNotReadyError as exc:
        raise dg.Failure(description=str(exc)) from exc
    instrument = store.instrument(instrument_id)
    if instrument is None:
        raise dg.Failure(
            f"instrument {instrument_id} is not in the catalog; materialize {bars_asset_name(spec)}"
        )
    bars = store.read_bars(spec.bar_type(instrument_id), sessions)
    started = time.monotonic()
    result = run_sma_backtest(instrument, bars, config.settings())
    elapsed = time.monotonic() - started
    directory = _artifact_dir(storage, instrument_id)
    paths = save_backtest_artifacts(result, directory)
    manifest = BacktestManifest(
        strategy=STRATEGY,
        instrument_id=instrument_id,
        bar_type=spec.bar_type(instrument_id),
        window_start=sessions[0].date,
        window_end=sessions[-1].date,
        sessions=len(sessions),
        bars=len(bars),
        settings=config.settings(),
    )
    write_manifest(manifest, directory)
    return dg.MaterializeResult(
        metadata={
            "bars": len(bars),
            "sessions": len(sessions),
            "fills": result.fills.height,
            "trades": result.trades.height,
            "final_equity": float(result.equity["equity"][-1]),
            "backtest_seconds": round(elapsed, 3),
            "artifacts": dg.MetadataValue.path(str(directory)),
            **{f"{name}_file": dg.MetadataValue.path(str(path)) for name, path in paths.items()},
        }
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dg.asset(
    group_name=BACKTEST_GROUP,
    partitions_def=instrument_partitions,
    deps=[sma_backtest],
    kinds={"polars"},
    description="Performance metrics from the equity curve and fills (vectorized), also as numeric metadata.",
)
def backtest_metrics(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult:
    directory = _artifact_dir(storage, context.partition_key)
    manifest = read_manifest(directory)
    frames = load_backtest_artifacts(directory)
    metrics = compute_metrics(frames.equity, frames.trades, frames.fills, manifest.settings.starting_cash)
    values = metrics.as_dict()
    path = directory / "metrics.json"
    path.write_text(json.dumps(values, default=str, indent=2, sort_keys=True))
    numeric = {k: v for k, v in values.items() if isinstance(v, int | float)}
    # Dagster metadata cannot carry NaN/inf; an undefined metric is shown as text instead.
    metadata: dict[str, object] = {
        k: (v if _finite(float(v)) is not None else dg.MetadataValue.text(str(v))) for k, v in numeric.items()
    }
    metadata["metrics_file"] = dg.MetadataValue.path(str(path))
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    group_name=BACKTEST_GROUP,
    partitions_def=instrument_partitions,
    deps=[backtest_metrics],
    kinds={"plotly", "html"},
    description="Self-contained interactive HTML report: equity vs buy-and-hold, drawdown, trades, metrics.",
)
def backtest_report(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult:
    instrument_id = context.partition_key
    directory = _artifact_dir(storage, instrument_id)
    manifest = read_manifest(directory)
    frames = load_backtest_artifacts(directory)
    starting_cash = manifest.settings.starting_cash
    metrics = compute_metrics(frames.equity, frames.trades, frames.fills, starting_cash)
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
        starting_cash=starting_cash,
    )
    path = write_report(inputs, storage.reports_dir / STRATEGY / f"{instrument_id}.html")
    context.log.info(f"report for {instrument_id}: {path}")
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(path)),
            "report_url": dg.MetadataValue.url(path.resolve().as_uri()),
            "size_bytes": path.stat().st_size,
            "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
    )
