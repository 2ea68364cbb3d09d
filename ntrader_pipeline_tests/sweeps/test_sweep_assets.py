"""A declared sweep in Dagster: every point an asset, results equal to bare engine runs, a walk-forward
that picks the in-sample best, a deterministic results hash, and points that go stale with their bars."""

import json
import shutil

import dagster as dg
import numpy as np
import polars as pl
import pytest
from dagster._core.definitions.data_version import StaleStatus
from dagster._utils.test.data_versions import get_stale_status_resolver
from nautilus_trader.model.data import Bar
from nautilus_trader.model.objects import Price

from ntrader_pipeline.analytics.metrics import compute_metrics
from ntrader_pipeline.analytics.session_metrics import curve_metrics
from ntrader_pipeline.backtest.engine import run_backtest
from ntrader_pipeline.catalog.file_cache import clear_identity_caches
from ntrader_pipeline.defs.sweeps import point_asset_key, results_asset_name, sweep_job_name
from ntrader_pipeline.markets.sessions import session_for, sessions_between
from ntrader_pipeline.results import ResultsNotFoundError, load_sweep
from ntrader_pipeline.sweeps.points import POINT_JSON, point_directory
from ntrader_pipeline.sweeps.results import RESULTS_PARQUET, SUMMARY_JSON, SweepResultsError, collect_results
from ntrader_pipeline.sweeps.walk_forward import FOLDS_PARQUET, OOS_EQUITY_PARQUET
from ntrader_pipeline_tests.sweeps.sweep_fixtures import (
    INSTRUMENT,
    SWEEP,
    SweepSetup,
    gateway_resource,
    sweep_setup,
)


@pytest.fixture(scope="module")
def setup(shared_gateway, tmp_path_factory) -> SweepSetup:
    ib = gateway_resource(shared_gateway)
    return sweep_setup(tmp_path_factory.mktemp("sweep"), ib)


def _cent_up(price: Price) -> Price:
    return Price(price.as_double() + 0.01, price.precision)


def _run_job(setup: SweepSetup, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    job = setup.definitions().resolve_job_def(sweep_job_name(SWEEP))
    return job.execute_in_process(
        partition_key=INSTRUMENT, instance=instance or dg.DagsterInstance.ephemeral()
    )


def test_sweep_job_runs_every_point_on_one_read_of_the_bars(setup):
    clear_identity_caches()
    result = _run_job(setup)
    assert result.success
    points = setup.sweep.points()
    events = {
        tuple(e.asset_key.path): e.metadata
        for e in result.get_asset_materialization_events()
        for e in [e.event_specific_data.materialization]
    }
    point_meta = [events[tuple(point_asset_key(SWEEP, p).path)] for p in points]
    assert [m["bars_reused"].value for m in point_meta].count(False) == 1  # the first point reads
    assert all(m["bars"].value == point_meta[0]["bars"].value > 5000 for m in point_meta)
    summary = json.loads(
        (setup.storage.backtests_dir / "sweeps" / SWEEP / INSTRUMENT / SUMMARY_JSON).read_text()
    )
    assert events[(results_asset_name(SWEEP),)]["results_hash"].value == summary["results_hash"]
    report = setup.storage.reports_dir / "sweeps" / SWEEP / f"{INSTRUMENT}.html"
    assert report.exists() and SWEEP in report.read_text()


def test_each_point_equals_a_bare_engine_run_on_the_same_bars(setup):
    store = setup.storage.catalog_store()
    sweep = setup.sweep
    sessions = sessions_between(sweep.window.start, sweep.window.end)
    bars = store.read_bars(sweep.spec.bar_type(INSTRUMENT), sessions)
    instrument = store.instrument(INSTRUMENT)
    table = pl.read_parquet(setup.storage.backtests_dir / "sweeps" / SWEEP / INSTRUMENT / RESULTS_PARQUET)
    assert table["point"].to_list() == [p.key for p in sweep.points()]
    for point in sweep.points():
        declaration = sweep.point_declaration(point)
        classes = declaration.strategy_classes()
        values = declaration.strategy_values(classes, INSTRUMENT)
        strategy = classes.build(values)
        bare = run_backtest(instrument, bars, lambda _t, strategy=strategy: strategy, 100_000.0)
        metrics = compute_metrics(bare.equity, bare.trades, bare.fills, bare.starting_cash)
        row = table.filter(pl.col("point") == point.key).row(0, named=True)
        assert row["final_equity"] == metrics.final_equity
        assert row["trade_count"] == metrics.trade_count
        assert row["sharpe"] == pytest.approx(metrics.sharpe, rel=1e-12)
        assert {k: row[k] for k in point.parameters} == point.parameters


def test_walk_forward_picks_the_in_sample_best_and_stitches_its_out_of_sample_runs(setup):
    sweep = setup.sweep
    directory = setup.storage.backtests_dir / "sweeps" / SWEEP / INSTRUMENT
    folds = pl.read_parquet(directory / FOLDS_PARQUET)
    assert folds.height == 2
    dailies = {
        p.key: pl.read_parquet(
            point_directory(setup.storage.backtests_dir, SWEEP, INSTRUMENT, p.key) / "daily.parquet"
        )
        for p in sweep.points()
    }
    for fold in folds.iter_rows(named=True):
        scores = {}
        for key, daily in dailies.items():
            dates = daily["ts"].dt.convert_time_zone("America/New_York").dt.date()
            inside = daily.filter((dates >= fold["is_start"]) & (dates <= fold["is_end"]))
            before = daily.filter(dates < fold["is_start"])
            start = before["equity"][-1] if before.height else 100_000.0
            scores[key] = curve_metrics(inside["equity"].to_numpy(), start)["sharpe"]
        assert fold["point"] == max(scores, key=lambda k: scores[k])
        assert fold["is_metric"] == pytest.approx(scores[fold["point"]], rel=1e-12)
        assert fold["degradation"] == pytest.approx(fold["oos_metric"] - fold["is_metric"])
        assert fold["oos_start"] > fold["is_end"]
    equity = pl.read_parquet(directory / OOS_EQUITY_PARQUET)
    assert equity["fold"].unique().sort().to_list() == [0, 1]
    # Stitched: the total return is the product of the folds' own returns.
    expected = np.prod([1 + r for r in folds["oos_return"]]) * 100_000.0
    assert equity["equity"][-1] == pytest.approx(expected, rel=1e-12)


def test_the_same_sweep_twice_gives_the_same_results_hash(setup):
    hashes = []
    for _ in range(2):
        clear_identity_caches()
        result = _run_job(setup)
        assert result.success
        hashes.append(
            result.asset_materializations_for_node(results_asset_name(SWEEP))[0].metadata["results_hash"]
        )
    assert hashes[0] == hashes[1]


def test_a_point_goes_stale_when_its_bars_change(setup):
    instance = dg.DagsterInstance.ephemeral()
    definitions = setup.definitions()

    def refresh_version() -> None:
        assert dg.materialize(
            [*definitions.assets, *definitions.asset_checks],
            selection=dg.AssetSelection.assets("bars_1_minute_version"),
            resources={"ib": setup.ib, "storage": setup.storage},
            partition_key=INSTRUMENT,
            instance=instance,
        ).success

    def status() -> StaleStatus:
        resolver = get_stale_status_resolver(instance, definitions.assets)
        return resolver.get_status(point_asset_key(SWEEP, setup.sweep.points()[0]), INSTRUMENT)

    refresh_version()
    assert _run_job(setup, instance).success
    assert status() == StaleStatus.FRESH
    store = setup.storage.catalog_store()
    session = session_for("2024-01-10")
    bars = store.read_session_bars(f"{INSTRUMENT}-1-MINUTE-LAST-EXTERNAL", session)
    up = [
        Bar(
            b.bar_type,
            *(_cent_up(p) for p in (b.open, b.high, b.low, b.close)),
            b.volume,
            b.ts_event,
            b.ts_init,
        )
        for b in bars
    ]
    store.write_session_bars(bars[0].bar_type, session, up)
    try:
        refresh_version()
        assert status() == StaleStatus.STALE
    finally:
        store.write_session_bars(bars[0].bar_type, session, bars)


def test_load_sweep_reads_what_the_job_stored(setup):
    sweep = load_sweep(SWEEP, INSTRUMENT, artifacts=setup.storage.backtests_dir)
    assert sweep.points["point"].to_list() == [p.key for p in setup.sweep.points()]
    assert sweep.summary["best"]["point"] in sweep.points["point"].to_list()
    assert sweep.folds is not None and sweep.folds.height == 2
    assert sweep.out_of_sample_equity is not None and sweep.out_of_sample_equity.height > 0
    with pytest.raises(ResultsNotFoundError, match="group:sweep_nope"):
        load_sweep("nope", INSTRUMENT, artifacts=setup.storage.backtests_dir)


def test_results_name_points_that_are_missing_or_ran_on_other_data(setup, tmp_path):
    artifacts = tmp_path / "artifacts"
    shutil.copytree(setup.storage.backtests_dir / "sweeps", artifacts / "sweeps")
    points = artifacts / "sweeps" / SWEEP / INSTRUMENT / "points"
    document = points / "p001" / POINT_JSON
    stored = json.loads(document.read_text())
    document.write_text(json.dumps({**stored, "data_version": "0123456789abcdef"}))
    with pytest.raises(SweepResultsError, match=r"points p001 ran on other catalog data .* rematerialize"):
        collect_results(setup.sweep, INSTRUMENT, artifacts, "mini_sweep_job")
    shutil.rmtree(points / "p002")
    with pytest.raises(SweepResultsError, match=r"points p002 have not run; materialize mini_sweep_job"):
        collect_results(setup.sweep, INSTRUMENT, artifacts, "mini_sweep_job")


def test_an_undeclared_instrument_fails_the_run_naming_it(setup):
    result = (
        setup.definitions()
        .resolve_job_def(sweep_job_name(SWEEP))
        .execute_in_process(
            partition_key="QQQ.NASDAQ", instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
        )
    )
    assert not result.success
    failure = result.failure_data_for_node(f"{SWEEP}_sweep__p000").error.message
    assert f"QQQ.NASDAQ is not declared for sweep {SWEEP} (SPY.ARCA)" in failure
