"""A declared backtest's Dagster asset against a raw BacktestEngine run of the same strategy on the same bars.

Run: PYTHONPATH=$PWD .venv/bin/python benchmarks/backtest_asset_vs_engine.py [START END]
Fetches SPY 1-minute bars for the window from the embedded gateway into a temporary catalog, then times,
in one process and alternating the order each round (best of N):

- raw engine: a bare `BacktestEngine` run with the same engine, venue, costs, caps and strategy config on
  the same bars already in memory (no catalog read, no gate, no frames, nothing written);
- run_declared_backtest (no Dagster): the quality gate over every session file of the window, the bars
  read from the catalog, the sha256 of every file read, the engine run, the equity/fills/trades frames,
  the buy-and-hold benchmarks, the manifest and the artefact files;
- asset: the same through `dg.materialize` of `sma_cross_backtest` (ephemeral instance, config
  validation, the launchpad-effective declaration, metadata).

Within a process, the gate's outcome, each file's sha256 and the decoded bars are reused while the files'
identities (path, size, mtime_ns, inode) are unchanged (`catalog.file_cache`): the best-of-N rows are
such repeat runs, as in a sweep; the "cold" rows clear those caches first, as a fresh process starts.
Prints times and ratios to the raw engine; never asserts on timing.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from backtest_raw_engine import raw_engine_run

from ntrader_pipeline.app.backtests import over_window
from ntrader_pipeline.backtest.declarations import load_declarations
from ntrader_pipeline.backtest.run import run_declared_backtest
from ntrader_pipeline.catalog.file_cache import clear_identity_caches
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


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def asset_vs_engine(start: str = START, end: str = END, repeats: int = REPEATS) -> dict[str, float]:
    """Fetch, then time the three sides; returns {"bars", "raw_s", "domain_s", "asset_s", "domain_cold_s",
    "asset_cold_s", "ratio" (asset/raw), "domain_ratio"} and prints them."""
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
        windowed = over_window(declaration, start, end)
        backtests_dir = resources["storage"].backtests_dir

        def domain_run() -> None:
            run_declared_backtest(windowed, INSTRUMENT, store, backtests_dir, "bars_1_minute")

        sides: dict[str, Callable[[], object]] = {
            "raw": lambda: raw_engine_run(declaration, instrument, catalog_bars, INSTRUMENT),
            "domain": domain_run,
            "asset": asset_run,
        }
        timings: dict[str, list[float]] = {name: [] for name in sides}
        cold: dict[str, float] = {}
        for name in ("domain", "asset"):  # a fresh process: nothing cached
            clear_identity_caches()
            cold[name] = timed(sides[name])
        for round_ in range(repeats):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            for name in order:
                timings[name].append(timed(sides[name]))
    raw, domain, asset = (min(timings[name]) for name in ("raw", "domain", "asset"))
    print(f"{len(catalog_bars):,} bars, {BACKTEST} ({declaration.strategy}), best of {repeats}, alternating")
    print(f"{'':36s}{'best s':>8s}{'ratio':>8s}{'cold s':>8s}{'ratio':>8s}")
    print(f"{'raw BacktestEngine (bars in memory)':36s}{raw:8.2f}{1:8.2f}")
    for label, name in (
        ("run_declared_backtest (no Dagster)", "domain"),
        (f"{backtest_asset} asset (Dagster)", "asset"),
    ):
        best = min(timings[name])
        print(f"{label:36s}{best:8.2f}{best / raw:8.2f}{cold[name]:8.2f}{cold[name] / raw:8.2f}")
    print("goal: asset best / raw <= 1.05")
    return {
        "bars": float(len(catalog_bars)),
        "raw_s": raw,
        "domain_s": domain,
        "asset_s": asset,
        "domain_cold_s": cold["domain"],
        "asset_cold_s": cold["asset"],
        "ratio": asset / raw,
        "domain_ratio": domain / raw,
    }


if __name__ == "__main__":
    import sys

    asset_vs_engine(*sys.argv[1:3])
