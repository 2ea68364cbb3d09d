"""The results API reads what the assets wrote: backtests by name and instrument, bars by range; and the
notebook under notebooks/ runs against the same outputs."""

import os
from pathlib import Path

import nbformat
import polars as pl
import pytest
from nbclient import NotebookClient

from ntrader_pipeline.markets.session_months import fetch_command
from ntrader_pipeline.results import ResultsNotFoundError, list_backtests, load_backtest, load_bars
from ntrader_pipeline.settings import REPO_ROOT
from ntrader_pipeline_tests.cli import tree_pythonpath
from ntrader_pipeline_tests.results_fixture import BACKTESTS, WINDOW, materialize_results

NOTEBOOK = REPO_ROOT / "notebooks" / "backtest_results.ipynb"


@pytest.fixture(scope="module")
def outputs(shared_gateway, tmp_path_factory) -> tuple[Path, Path]:
    from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource
    from ntrader_pipeline_tests.conftest import CONNECT_TIMEOUT_S, REQUEST_TIMEOUT_S

    root = tmp_path_factory.mktemp("results")
    storage = StorageResource(
        catalog=str(root / "catalog"), artifacts=str(root / "backtests"), reports=str(root / "reports")
    )
    ib = IBGatewayResource(
        host=shared_gateway.host,
        port=shared_gateway.port,
        request_timeout_s=REQUEST_TIMEOUT_S,
        connect_timeout_s=CONNECT_TIMEOUT_S,
        pacing=False,
    )
    materialize_results(ib, storage)
    return root / "catalog", root / "backtests"


def test_list_backtests_has_one_row_per_backtest_and_instrument(outputs) -> None:
    _, artifacts = outputs
    table = list_backtests(artifacts=artifacts)
    assert table.select("backtest", "instrument_id").rows() == sorted((b, "SPY.ARCA") for b in BACKTESTS)
    assert table.schema["sharpe"] == pl.Float64 and table.schema["trade_count"] == pl.Int64
    assert [str(d) for d in table["window_start"]] == [WINDOW["start"]] * 2
    assert [str(d) for d in table["window_end"]] == [WINDOW["end"]] * 2


def test_load_backtest_returns_the_frames_metrics_and_manifest(outputs) -> None:
    _, artifacts = outputs
    run = load_backtest("sma_cross", "SPY.ARCA", artifacts=artifacts)
    assert run.equity.height > 0 and {"ts", "equity"} <= set(run.equity.columns)
    assert run.metrics is not None
    final = run.equity["equity"][-1]
    assert run.metrics.total_return == pytest.approx(final / run.manifest.starting_cash - 1.0)
    assert run.manifest.instrument_id == "SPY.ARCA"
    assert run.metrics.trade_count == run.trades.height
    assert set(run.fills["side"].unique()) <= {"BUY", "SELL"}


def test_a_missing_backtest_says_what_to_materialize(outputs) -> None:
    _, artifacts = outputs
    with pytest.raises(ResultsNotFoundError, match=r"materialize `momentum_backtest` .partition QQQ\.NASDAQ"):
        load_backtest("momentum", "QQQ.NASDAQ", artifacts=artifacts)


def test_load_bars_reads_a_range_and_names_missing_sessions(outputs) -> None:
    catalog, _ = outputs
    bars = load_bars("SPY.ARCA", WINDOW["start"], WINDOW["end"], catalog=str(catalog))
    assert bars.height == 4 * 390
    assert bars["ts_init"].is_sorted()
    with pytest.raises(ResultsNotFoundError) as missing:
        load_bars("SPY.ARCA", "2024-01-02", "2024-01-09", catalog=str(catalog))
    # the remedy names the missing sessions and the command that fetches exactly them
    assert "2024-01-08, 2024-01-09" in str(missing.value)
    assert fetch_command("bars_1_minute", "SPY.ARCA", "2024-01-08", "2024-01-09") in str(missing.value)
    assert "--partition-range '2024-01-01|SPY.ARCA...2024-01-01|SPY.ARCA'" in str(missing.value)


def test_notebook_runs_against_the_outputs(outputs, monkeypatch, tmp_path) -> None:
    catalog, artifacts = outputs
    monkeypatch.setenv("NTRADER_CATALOG", str(catalog))
    monkeypatch.setenv("NTRADER_ARTIFACTS", str(artifacts))
    # the kernel is a child process: it imports this tree's package, not the one the venv installed
    monkeypatch.setenv("PYTHONPATH", tree_pythonpath(os.environ.get("PYTHONPATH")))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    outputs_text = "\n".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )
    assert "sma_cross" in outputs_text and "mean_reversion" in outputs_text
    assert not [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
