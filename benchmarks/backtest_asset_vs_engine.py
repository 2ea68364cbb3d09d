"""A declared backtest's Dagster asset against a raw BacktestEngine run of the same strategy on the same bars.

Run: PYTHONPATH=$PWD /work/venv/bin/python benchmarks/backtest_asset_vs_engine.py [START END]
Fetches SPY 1-minute bars for the window from the embedded gateway into a temporary catalog, then times
(best of N): the `sma_cross_backtest` asset (catalog read, quality gate, engine, frames, benchmarks,
manifest, artifacts); the same work called directly, without Dagster; and a bare engine run with the
same engine, venue, costs, caps and strategy config on the same bars already in memory. Prints times and
ratios; never asserts on timing.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from backtest_raw_engine import raw_engine_run

from ntrader_pipeline.backtest.declarations import load_declarations
from ntrader_pipeline.backtest.run import run_declared_backtest
from ntrader_pipeline.defs import backtests, build_assets
from ntrader_pipeline.defs.partitions import partition_range_tags
from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource
from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.markets.universe import load_universe
from ntrader_pipeline.settings import load_settings

BACKTEST = "sma_cross"
INSTRUMENT = "SPY.ARCA"
START, END = "2024-01-02", "2024-12-31"
REPEATS = 3


def best_of(repeats: int, work: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def asset_vs_engine(start: str = START, end: str = END, repeats: int = REPEATS) -> dict[str, float]:
    """Fetch, then time both; returns {"bars", "raw_s", "asset_s", "ratio"} and prints them."""
    settings = load_settings()
    universe = load_universe(settings.ntrader.universe)
    declarations = load_declarations(settings.ntrader.backtests, universe)
    assets, checks = build_assets(settings, universe, declarations)
    assets = [*assets, *checks]
    declaration = next(d for d in declarations if d.name == BACKTEST)
    backtest_asset = backtests.backtest_asset_name(BACKTEST)
    with tempfile.TemporaryDirectory() as tmp, EmbeddedGateway() as gateway:
        root = Path(tmp)
        resources = {
            "ib": IBGatewayResource(host=gateway.host, port=gateway.port),
            "storage": StorageResource(
                catalog=str(root / "catalog"),
                artifacts=str(root / "backtests"),
                reports=str(root / "reports"),
            ),
        }
        started = time.perf_counter()
        fetched = dg.materialize(
            assets,
            selection=dg.AssetSelection.assets("bars_1_minute"),
            resources=resources,
            tags=partition_range_tags(start, end, INSTRUMENT),
        )
        fetch_s = time.perf_counter() - started
        bar_count = fetched.asset_materializations_for_node("bars_1_minute")[-1].metadata["bars"].value
        rate = bar_count / fetch_s
        print(f"fetched {bar_count:,} bars of {INSTRUMENT} in {fetch_s:.1f} s ({rate:,.0f} bars/s)")

        run_config = {"ops": {backtest_asset: {"config": {"start": start, "end": end}}}}

        def asset_run() -> None:
            result = dg.materialize(
                assets,
                selection=dg.AssetSelection.assets(backtest_asset),
                resources=resources,
                partition_key=INSTRUMENT,
                run_config=run_config,
            )
            assert result.success

        store = resources["storage"].catalog_store()
        instrument = store.instrument(INSTRUMENT)
        catalog_bars = store.read_bars(declaration.spec.bar_type(INSTRUMENT), sessions_between(start, end))
        path = settings.ntrader.backtests
        config = backtests.build_config_class(declaration, path)(start=start, end=end)
        windowed = backtests.effective_declaration(declaration, config, path, universe)
        backtests_dir = resources["storage"].backtests_dir

        def domain_run() -> None:
            run_declared_backtest(windowed, INSTRUMENT, store, backtests_dir, "bars_1_minute")

        raw = best_of(repeats, lambda: raw_engine_run(declaration, instrument, catalog_bars, INSTRUMENT))
        domain = best_of(repeats, domain_run)
        asset = best_of(repeats, asset_run)
    print(f"{len(catalog_bars):,} bars, {BACKTEST} ({declaration.strategy}), best of {repeats}")
    print(f"raw BacktestEngine               {raw:7.2f} s")
    print(f"run_declared_backtest (no Dagster) {domain:5.2f} s   ratio {domain / raw:.2f}")
    print(f"{backtest_asset} asset (Dagster) {asset:7.2f} s   ratio {asset / raw:.2f}  (goal <= 1.10)")
    return {
        "bars": float(len(catalog_bars)),
        "raw_s": raw,
        "domain_s": domain,
        "asset_s": asset,
        "ratio": asset / raw,
    }


if __name__ == "__main__":
    import sys

    asset_vs_engine(*sys.argv[1:3])
