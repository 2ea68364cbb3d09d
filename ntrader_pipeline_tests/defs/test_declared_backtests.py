"""Declared backtests in Dagster: reproducible artefacts, launchpad overrides, staleness after a re-fetch."""

import hashlib
import random

import dagster as dg
import pytest
from dagster._core.definitions.data_version import StaleStatus
from dagster._utils.test.data_versions import get_stale_status_resolver
from nautilus_trader.model.data import Bar
from nautilus_trader.model.objects import Price

from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline_tests.defs.helpers import MINUTE_BARS, all_assets, materializations_of, materialize

WINDOW = {"start": "2024-01-02", "end": "2024-01-03"}
INPUTS = dg.AssetKey("sma_cross_inputs")


def _chain(name: str) -> dg.AssetSelection:
    return dg.AssetSelection.assets(f"{name}_inputs", f"{name}_backtest", f"{name}_metrics")


def _config(name: str, **overrides) -> dict:
    return {"ops": {name: {"config": {**WINDOW, **overrides}}}}


@pytest.fixture
def spy_window(ib_resource, storage):
    result = materialize(
        dg.AssetSelection.assets(MINUTE_BARS),
        ib_resource,
        storage,
        partition_range=("2024-01-02|SPY.ARCA", "2024-01-03|SPY.ARCA"),
    )
    assert result.success
    return storage


def _cent_up(price: Price) -> Price:
    return Price(price.as_double() + 0.01, price.precision)


def _file_hashes(directory) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_rerun_writes_byte_identical_artefacts(ib_resource, spy_window):
    # mean_reversion declares slippage, so the fill model draws random numbers during the run.
    directory = spy_window.backtests_dir / "mean_reversion" / "SPY.ARCA"
    runs = []
    for seed in (1, 2):
        random.seed(seed)  # whatever the process's global generator holds must not matter
        result = materialize(
            _chain("mean_reversion"), ib_resource, spy_window, partition_key="SPY.ARCA",
            run_config=_config("mean_reversion"),
        )  # fmt: skip
        assert result.success
        event = materializations_of(result, "mean_reversion_backtest")[0]
        runs.append((_file_hashes(directory), event.metadata, event.tags))
    (first, meta1, tags1), (second, meta2, tags2) = runs
    assert set(first) >= {
        "equity.parquet", "fills.parquet", "trades.parquet", "benchmarks.parquet", "manifest.json",
        "metrics.json", "metrics.parquet",
    }  # fmt: skip
    assert first == second
    assert meta1["config_hash"] == meta2["config_hash"] and meta1["fills"].value > 0
    assert tags1["dagster/data_version"] == tags2["dagster/data_version"]


def test_launchpad_override_changes_the_config_hash(ib_resource, spy_window):
    hashes = []
    for fast in (5, 10):
        result = materialize(
            _chain("sma_cross"), ib_resource, spy_window, partition_key="SPY.ARCA",
            run_config=_config("sma_cross", fast_period=fast),
        )  # fmt: skip
        assert result.success
        hashes.append(materializations_of(result, "sma_cross_backtest")[0].metadata["config_hash"])
    assert hashes[0] != hashes[1]


def test_bad_launchpad_override_names_backtest_and_field(ib_resource, spy_window):
    result = materialize(
        _chain("momentum"), ib_resource, spy_window, partition_key="SPY.ARCA",
        run_config=_config("momentum", sizing="all_in"),
    )  # fmt: skip
    assert not result.success
    message = result.failure_data_for_node("momentum").error.message
    assert "backtest 'momentum'" in message and "field sizing.method" in message


def test_refetched_session_marks_the_backtest_stale(ib_resource, spy_window):
    instance = dg.DagsterInstance.ephemeral()
    selection = dg.AssetSelection.assets(INPUTS, "sma_cross_backtest")
    run = materialize(
        selection, ib_resource, spy_window, partition_key="SPY.ARCA",
        run_config=_config("sma_cross"), instance=instance,
    )  # fmt: skip
    assert run.success
    backtest = dg.AssetKey("sma_cross_backtest")
    resolver = get_stale_status_resolver(instance, all_assets())
    assert resolver.get_status(backtest, "SPY.ARCA") == StaleStatus.FRESH

    # A re-fetch that brings the same bars rewrites the files but keeps the data version: still fresh.
    refetch = materialize(
        dg.AssetSelection.assets(MINUTE_BARS), ib_resource, spy_window,
        partition_key="2024-01-03|SPY.ARCA", instance=instance,
    )  # fmt: skip
    version = materialize(
        dg.AssetSelection.assets(INPUTS),
        ib_resource,
        spy_window,
        partition_key="SPY.ARCA",
        run_config=_config("sma_cross"),
        instance=instance,
    )
    assert refetch.success and version.success
    resolver = get_stale_status_resolver(instance, all_assets())
    assert resolver.get_status(backtest, "SPY.ARCA") == StaleStatus.FRESH

    # The session comes back with other prices (a corrected print): rewrite it one cent higher.
    store = spy_window.catalog_store()
    bar_type = "SPY.ARCA-1-MINUTE-LAST-EXTERNAL"
    session = session_for("2024-01-03")
    bars = store.read_session_bars(bar_type, session)
    shifted = [Bar(b.bar_type, *(_cent_up(p) for p in (b.open, b.high, b.low, b.close)),
                   b.volume, b.ts_event, b.ts_init) for b in bars]  # fmt: skip
    store.write_session_bars(bars[0].bar_type, session, shifted)
    refresh = materialize(
        dg.AssetSelection.assets(INPUTS),
        ib_resource,
        spy_window,
        partition_key="SPY.ARCA",
        run_config=_config("sma_cross"),
        instance=instance,
    )
    assert refresh.success

    resolver = get_stale_status_resolver(instance, all_assets())
    assert resolver.get_status(backtest, "SPY.ARCA") == StaleStatus.STALE
    causes = resolver.get_stale_causes(backtest, "SPY.ARCA")
    assert any(cause.dependency and cause.dependency.asset_key == INPUTS for cause in causes)


def test_a_session_outside_the_window_does_not_make_the_backtest_stale(ib_resource, spy_window):
    instance = dg.DagsterInstance.ephemeral()
    run = materialize(
        dg.AssetSelection.assets(INPUTS, "sma_cross_backtest"), ib_resource, spy_window,
        partition_key="SPY.ARCA", run_config=_config("sma_cross"), instance=instance,
    )  # fmt: skip
    assert run.success
    # A later month is fetched (the nightly): the window's files and data version do not change.
    later = materialize(
        dg.AssetSelection.assets(MINUTE_BARS), ib_resource, spy_window,
        partition_key="2024-02-05|SPY.ARCA", instance=instance,
    )  # fmt: skip
    refresh = materialize(
        dg.AssetSelection.assets(INPUTS), ib_resource, spy_window,
        partition_key="SPY.ARCA", run_config=_config("sma_cross"), instance=instance,
    )  # fmt: skip
    assert later.success and refresh.success
    before, after = (
        m.metadata["data_version"].value for m in (*materializations_of(run, "sma_cross_inputs"),
                                                    *materializations_of(refresh, "sma_cross_inputs"))
    )  # fmt: skip
    assert before == after
    resolver = get_stale_status_resolver(instance, all_assets())
    assert resolver.get_status(dg.AssetKey("sma_cross_backtest"), "SPY.ARCA") == StaleStatus.FRESH
