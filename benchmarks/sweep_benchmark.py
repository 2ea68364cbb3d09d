"""Sweep throughput: the pipeline's sweep job against a bare loop, and two Celery workers against one.

Run: PYTHONPATH=$PWD:$PWD/benchmarks .venv/bin/python benchmarks/sweep_benchmark.py [--points 25]
     [--start 2024-01-02 --end 2024-12-31] [--repeats 2] [--no-celery]

Fetches SPY 1-minute bars for the window from the embedded gateway into a temporary catalog, declares a
sweep of `--points` sma_cross points (a square number gives a fast × slow grid, else fast periods only),
then prints, side by side in one run:
- the bare loop: read the bars from the catalog once, then a raw `BacktestEngine` run per point
  (`backtest_raw_engine.raw_engine_run`: no checks, no frames, nothing written);
- the pipeline: the sweep job's point assets in one in-process Dagster run (catalog read and quality gate
  once per process, engine, metrics, the point's files and its materialization per point);
- their ratio, from runs alternated bare, pipeline, pipeline, bare... (`--repeats` pairs, best of each);
- the whole sweep job (points, results, walk-forward, report) once, for scale;
- with redis-server installed: the same job on one Celery worker and on two (each `--pool solo`, on this
  machine's cores), run in the order 1, 2, 2, 1 (best of each), and the speed-up from the runs' own start
  and end times (excluding the CLI's start-up).
Never asserts on timing.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import yaml
from backtest_raw_engine import raw_engine_run

from ntrader_pipeline.backtest.declarations import load_declarations
from ntrader_pipeline.catalog.file_cache import clear_identity_caches
from ntrader_pipeline.defs import build_definitions
from ntrader_pipeline.defs.partitions import partition_range_tags
from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource
from ntrader_pipeline.defs.sweeps import point_asset_key, sweep_group, sweep_job_name
from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.markets.universe import load_universe
from ntrader_pipeline.settings import IBSettings, PipelineSettings, Settings
from ntrader_pipeline.sweeps.declarations import load_sweeps

SWEEP = "bench"
INSTRUMENT = "SPY.ARCA"
DAGSTER = str(Path(sys.executable).parent / "dagster")


def sweep_grid(points: int) -> dict[str, list[int]]:
    side = math.isqrt(points)
    if side * side == points:
        return {
            "fast_period": [5 * (i + 1) for i in range(side)],
            "slow_period": [30 * (i + 1) for i in range(side)],
        }
    return {"fast_period": [5 + 2 * i for i in range(points)], "slow_period": [300]}


def write_backtests(path: Path, points: int, start: str, end: str) -> Path:
    committed = yaml.safe_load(PipelineSettings().backtests.read_text())
    sweep = {
        "strategy": "sma_cross",
        "grid": sweep_grid(points),
        "walk_forward": {"mode": "rolling", "folds": 3},
        "instruments": [INSTRUMENT],
        "window": {"start": start, "end": end},
        "sizing": {"method": "fixed_shares", "size": 100},
        "index_instrument": INSTRUMENT,
    }
    path.write_text(yaml.safe_dump({"backtests": committed["backtests"], "sweeps": {SWEEP: sweep}}))
    return path


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def celery_run(root: Path, variables: dict[str, str], workers: int) -> float:
    """The whole sweep job on `workers` Celery workers; seconds between the run's start and end."""
    from ntrader_pipeline_tests.scale.celery_cluster import celery_cluster, cluster_home, code_env

    home = cluster_home(root / f"celery-{workers}-{time.monotonic_ns()}")
    run_env = code_env(home, **variables)
    with celery_cluster(home, run_env, workers=workers) as cluster:
        command = [DAGSTER, "asset", "materialize", "-m", "ntrader_pipeline.definitions",
                   "--select", f"group:{sweep_group(SWEEP)}", "--partition", INSTRUMENT]  # fmt: skip
        cluster.run(command, run_env, timeout_s=3600)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            (record,) = instance.get_run_records()
            return record.end_time - record.start_time


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=25)
    parser.add_argument("--start", default="2024-01-02")
    parser.add_argument("--end", default="2024-12-31")
    parser.add_argument("--repeats", type=int, default=2, help="bare/pipeline pairs, alternated")
    parser.add_argument("--no-celery", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, EmbeddedGateway() as gateway:
        root = Path(tmp)
        backtests = write_backtests(root / "backtests.yaml", args.points, args.start, args.end)
        settings = Settings(ib=IBSettings(), ntrader=PipelineSettings(backtests=backtests))
        universe = load_universe(settings.ntrader.universe)
        declarations = load_declarations(backtests, universe)
        (sweep,) = load_sweeps(backtests, universe, {d.name for d in declarations})
        storage = StorageResource(
            catalog=str(root / "catalog"), artifacts=str(root / "backtests"), reports=str(root / "reports")
        )
        ib = IBGatewayResource(host=gateway.host, port=gateway.port, pacing=False)
        defs = build_definitions(
            settings, universe, declarations, {"ib": ib, "storage": storage}, sweeps=[sweep]
        )
        started = time.perf_counter()
        fetched = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            asset_selection=[dg.AssetKey("bars_1_minute")],
            tags=partition_range_tags(args.start, args.end, INSTRUMENT),
        )
        assert fetched.success
        print(f"fetched {args.start}..{args.end} of {INSTRUMENT} in {time.perf_counter() - started:.0f} s")

        store = storage.catalog_store()
        sessions = sessions_between(sweep.window.start, sweep.window.end)
        points = sweep.points()

        def bare_loop() -> None:
            instrument = store.instrument(INSTRUMENT)
            bars = store.read_bars(sweep.spec.bar_type(INSTRUMENT), sessions)
            for point in points:
                raw_engine_run(sweep.point_declaration(point), instrument, bars, INSTRUMENT)

        job = defs.resolve_job_def(sweep_job_name(SWEEP))
        point_keys = [point_asset_key(SWEEP, p) for p in points]

        def pipeline(selection: list[dg.AssetKey] | None) -> None:
            clear_identity_caches()  # cold like the bare loop: the first point reads and gates the catalog
            result = job.execute_in_process(partition_key=INSTRUMENT, asset_selection=selection)
            assert result.success

        bare_s, pipeline_s = [], []
        for repeat in range(args.repeats):
            order = [("bare", bare_loop), ("pipeline", lambda: pipeline(point_keys))]
            for name, work in order if repeat % 2 == 0 else reversed(order):
                (bare_s if name == "bare" else pipeline_s).append(timed(work))
        whole_s = timed(lambda: pipeline(None))
        n = len(points)
        bars = len(store.read_bars(sweep.spec.bar_type(INSTRUMENT), sessions))
        print(f"{n} points of sma_cross on {bars:,} bars ({len(sessions)} sessions); best of {args.repeats}")
        for label, seconds in (
            ("bare loop (read once + BacktestEngine per point)", min(bare_s)),
            ("pipeline (point assets, in process)", min(pipeline_s)),
        ):
            print(f"{label:48s} {seconds:7.1f} s  {60 * n / seconds:6.1f} points/min")
        print(f"ratio pipeline / bare                           {min(pipeline_s) / min(bare_s):7.2f}")
        print(f"whole sweep job (+ results, walk-forward, report) {whole_s:5.1f} s")
        if args.no_celery:
            return
        variables = {
            "NTRADER_BACKTESTS": str(backtests),
            "NTRADER_CATALOG": storage.catalog,
            "NTRADER_ARTIFACTS": str(root / "celery_backtests"),
            "NTRADER_REPORTS": str(root / "celery_reports"),
            "NTRADER_LOGS": str(root / "logs"),
        }
        try:
            runs: dict[int, list[float]] = {1: [], 2: []}
            for workers in (1, 2, 2, 1):
                runs[workers].append(celery_run(root, variables, workers))
        except BaseException as exc:  # pytest.skip's exception when redis-server is missing
            print(f"celery: not measured ({exc})")
            return
        one, two = min(runs[1]), min(runs[2])
        for label, seconds in (("celery, 1 worker (whole job)", one), ("celery, 2 workers (whole job)", two)):
            print(f"{label:48s} {seconds:7.1f} s  {60 * n / seconds:6.1f} points/min")
        print(f"speed-up 2 workers / 1 ({os.cpu_count()} cores)                {one / two:7.2f}")


if __name__ == "__main__":
    main()
