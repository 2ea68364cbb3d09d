"""The SMA-crossover backtest per instrument over a window of sessions, on catalog data."""

import time
from pathlib import Path

import dagster as dg
from pydantic import Field

from ntrader_pipeline.backtest.artifacts import save_backtest_artifacts
from ntrader_pipeline.backtest.manifest import BacktestManifest, write_manifest
from ntrader_pipeline.backtest.runner import run_sma_backtest
from ntrader_pipeline.backtest.settings import BacktestSettings
from ntrader_pipeline.defs.bars import bars_asset_name, bars_assets
from ntrader_pipeline.defs.partitions import INSTRUMENT_DIMENSION, SETTINGS, UNIVERSE, instrument_partitions
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.defs.run_tags import tag_run
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.gate import SessionsNotReadyError, require_clean_sessions

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


def artifact_dir(storage: StorageResource, instrument_id: str) -> Path:
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
    tag_run(context, [instrument_id], [config.start, config.end])
    spec = BarSpec.parse(config.bar_spec)
    calendar = UNIVERSE.instrument(instrument_id).calendar
    sessions = sessions_between(config.start, config.end, calendar)
    if not sessions:
        raise dg.Failure(f"no {calendar.name} sessions from {config.start} to {config.end}; widen the window")
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
    directory = artifact_dir(storage, instrument_id)
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
