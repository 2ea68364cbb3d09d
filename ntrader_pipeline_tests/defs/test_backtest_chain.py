"""Backtest → metrics → report, and the quality gate that keeps bad sessions out of backtests."""

import json

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.reports import plotly_js_name
from ntrader_pipeline_tests.defs.helpers import (
    MINUTE_BARS,
    check_evaluations,
    materializations_of,
    materialize,
)

BACKTEST_CHAIN = dg.AssetSelection.assets(
    "bars_1_minute_version", "sma_cross_backtest", "sma_cross_metrics", "sma_cross_report"
)
MINUTE_QUALITY = dg.AssetSelection.checks(dg.AssetCheckKey(MINUTE_BARS, "bar_quality"))  # the check alone
WINDOW = {"start": "2024-01-02", "end": "2024-01-05"}
RUN_CONFIG = {"ops": {"sma_cross": {"config": WINDOW}}}


@pytest.fixture
def spy_window(ib_resource, storage):
    result = materialize(
        dg.AssetSelection.assets(MINUTE_BARS),
        ib_resource,
        storage,
        partition_range=("2024-01-02|SPY.ARCA", "2024-01-05|SPY.ARCA"),
    )
    assert result.success
    return storage


def _swap_high_and_low(path, row: int) -> None:
    """Corrupt one stored bar the way a bad writer would: high and low exchanged."""
    table = pq.read_table(path)
    high, low = table["high"].to_pylist(), table["low"].to_pylist()
    high[row], low[row] = low[row], high[row]
    for name, values in (("high", high), ("low", low)):
        index = table.schema.get_field_index(name)
        table = table.set_column(
            index, table.schema.field(name), pa.array(values, table.schema.field(name).type)
        )
    pq.write_table(table, path)


def test_backtest_metrics_and_report(ib_resource, spy_window):
    storage = spy_window
    result = materialize(
        BACKTEST_CHAIN, ib_resource, storage, partition_key="SPY.ARCA", run_config=RUN_CONFIG
    )
    assert result.success
    backtest = materializations_of(result, "sma_cross_backtest")[0].metadata
    assert backtest["bars"].value == 4 * 390 and backtest["sessions"].value == 4
    assert backtest["fills"].value > 0
    directory = storage.backtests_dir / "sma_cross" / "SPY.ARCA"
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["config_hash"] == backtest["config_hash"].value
    assert manifest["data_version"] == backtest["data_version"].value
    assert len(manifest["catalog_files"]) == 1 + 1  # the sessions' month file and the definition
    assert manifest["quality"] == {
        "sessions_checked": 4,
        "sessions_failing": 0,
        "empty_sessions": 0,
        "sessions_with_gaps": 0,
        "missing_bars": 0,
    }
    assert (manifest["adjustment"], manifest["corporate_actions"]) == ("none", [])
    metrics = materializations_of(result, "sma_cross_metrics")[0].metadata
    saved = json.loads((directory / "metrics.json").read_text())
    assert metrics["total_return"].value == pytest.approx(saved["total_return"])
    assert saved["final_equity"] == pytest.approx(backtest["final_equity"].value)
    report = storage.reports_dir / "sma_cross" / "SPY.ARCA.html"
    html = report.read_text()
    assert "SPY.ARCA" in html and "Plotly.newPlot" in html
    # plotly.js is one shared file of the reports directory, loaded relatively
    assert f'src="../assets/{plotly_js_name()}"' in html
    assert (storage.reports_dir / "assets" / plotly_js_name()).is_file()
    report_metadata = materializations_of(result, "sma_cross_report")[0].metadata
    assert report_metadata["report_url"].value == report.resolve().as_uri()
    assert report_metadata["size_bytes"].value == report.stat().st_size < 1_000_000


def test_high_below_low_fails_the_blocking_check_and_no_backtest_runs(ib_resource, spy_window):
    storage = spy_window
    bad = session_for("2024-01-04")
    store = storage.catalog_store()
    month_file = store.month_file("SPY.ARCA-1-MINUTE-LAST-EXTERNAL", bad)
    first_row, _ = store.session_index(month_file)[bad.date]  # the session's rows inside its month file
    _swap_high_and_low(month_file, row=first_row + 100)

    check = materialize(
        MINUTE_QUALITY,
        ib_resource,
        storage,
        partition_range=("2024-01-02|SPY.ARCA", "2024-01-05|SPY.ARCA"),
    )
    [evaluation] = check_evaluations(check)
    assert not evaluation.passed
    assert evaluation.metadata["sessions_failed"].value == 1
    assert evaluation.metadata["failures_high_is_bar_maximum"].value == 1
    assert "session 2024-01-04 fails high_is_bar_maximum" in evaluation.metadata["failed_sessions"].value
    assert evaluation.metadata["sample_rows"].value[0]["row"] == 100

    backtest = materialize(
        BACKTEST_CHAIN, ib_resource, storage, partition_key="SPY.ARCA", run_config=RUN_CONFIG
    )
    assert not backtest.success
    message = backtest.failure_data_for_node("sma_cross").error.message
    assert "1 sessions fail the quality rules" in message
    assert "session 2024-01-04 fails high_is_bar_maximum" in message
    assert not (storage.backtests_dir / "sma_cross" / "SPY.ARCA").exists()
    assert materializations_of(backtest, "sma_cross_report") == []


def test_backtest_names_sessions_missing_from_the_catalog(ib_resource, spy_window):
    config = {"ops": {"sma_cross": {"config": {"start": "2024-01-02", "end": "2024-01-09"}}}}
    result = materialize(BACKTEST_CHAIN, ib_resource, spy_window, partition_key="SPY.ARCA", run_config=config)
    assert not result.success
    message = result.failure_data_for_node("sma_cross").error.message
    assert "2 sessions are not in the catalog: 2024-01-08, 2024-01-09" in message
    assert "Materialize bars_1_minute" in message


def test_a_run_on_an_undeclared_instrument_fails_saying_where_to_declare_it(ib_resource, storage):
    chain = dg.AssetSelection.assets("sma_cross_split_adjusted_inputs", "sma_cross_split_adjusted_backtest")
    result = materialize(chain, ib_resource, storage, partition_key="SPY.ARCA")
    assert not result.success
    message = result.failure_data_for_node("sma_cross_split_adjusted").error.message
    declared = "SPY.ARCA is not declared for backtest sma_cross_split_adjusted (ILLQ.NASDAQ); add it to"
    assert declared in message
    assert materializations_of(result, "sma_cross_split_adjusted_inputs") == []
