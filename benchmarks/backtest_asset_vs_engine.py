"""The `sma_backtest` Dagster asset against a raw BacktestEngine run on the same catalog bars.

Run: .venv/bin/python benchmarks/backtest_asset_vs_engine.py
Fetches the demo window of SPY 1-minute bars from the embedded gateway into a temporary catalog, then
times (best of N) the asset materialization — catalog read, quality gate, engine, artifacts — and a bare
engine run of the same strategy on the same bars. Prints times and the ratio; never asserts on timing.
"""

import tempfile
import time
from pathlib import Path

import dagster as dg
from backtest_engine_overhead import best_of, raw_engine_run
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from ntrader_pipeline.backtest.settings import BacktestSettings
from ntrader_pipeline.defs import backtests, bars, checks
from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource
from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.markets.sessions import sessions_between

INSTRUMENT = "SPY.ARCA"
START, END = "2024-01-02", "2024-03-28"
REPEATS = 3


def main() -> None:
    assets = [*bars.bars_assets, *checks.bar_quality_checks, backtests.sma_backtest]
    with tempfile.TemporaryDirectory() as tmp, EmbeddedGateway() as gateway:
        root = Path(tmp)
        resources = {
            "ib": IBGatewayResource(host=gateway.host, port=gateway.port),
            "storage": StorageResource(
                catalog_path=str(root / "catalog"),
                backtests_path=str(root / "backtests"),
                reports_path=str(root / "reports"),
            ),
        }
        started = time.perf_counter()
        fetched = dg.materialize(
            assets,
            selection=dg.AssetSelection.assets("bars_1_minute"),
            resources=resources,
            tags={
                ASSET_PARTITION_RANGE_START_TAG: f"{START}|{INSTRUMENT}",
                ASSET_PARTITION_RANGE_END_TAG: f"{END}|{INSTRUMENT}",
            },
        )
        fetch_s = time.perf_counter() - started
        bar_count = fetched.asset_materializations_for_node("bars_1_minute")[0].metadata["bars"].value
        rate = bar_count / fetch_s
        print(f"fetched {bar_count:,} bars of {INSTRUMENT} in {fetch_s:.1f} s ({rate:,.0f} bars/s)")

        run_config = {"ops": {"sma_backtest": {"config": {"start": START, "end": END}}}}

        def asset_run() -> None:
            result = dg.materialize(
                assets,
                selection=dg.AssetSelection.assets("sma_backtest"),
                resources=resources,
                partition_key=INSTRUMENT,
                run_config=run_config,
            )
            assert result.success

        store = resources["storage"].catalog()
        instrument = store.instrument(INSTRUMENT)
        catalog_bars = store.read_bars(f"{INSTRUMENT}-1-MINUTE-LAST-EXTERNAL", sessions_between(START, END))
        settings = BacktestSettings()
        raw = best_of(REPEATS, lambda: raw_engine_run(instrument, catalog_bars, settings))
        asset = best_of(REPEATS, asset_run)
        strategy = f"SmaCross {settings.fast_period}/{settings.slow_period}"
        print(f"{len(catalog_bars):,} bars, {strategy}, best of {REPEATS}")
        print(f"raw BacktestEngine            {raw:7.2f} s")
        print(f"sma_backtest asset (Dagster)  {asset:7.2f} s   ratio {asset / raw:.2f}")


if __name__ == "__main__":
    main()
