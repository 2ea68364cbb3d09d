"""The `ntrader` console script, run as a subprocess against the embedded gateway and a tmp catalog."""

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys

import pytest
from nautilus_trader.model.data import BarType

from ntrader_pipeline.adjustments.factors import adjustment_factors
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.results import ResultsNotFoundError, load_corporate_events
from ntrader_pipeline_tests.adjustments.histories import Event, daily_history
from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity, minute_bars
from ntrader_pipeline_tests.gateway.test_cli import wait_for_file

# `ntrader` is `ntrader_pipeline.cli.main:main`; `-m ntrader_pipeline.cli` runs the same entry point from
# this worktree whatever the venv's installed scripts point at.
NTRADER = [sys.executable, "-m", "ntrader_pipeline.cli"]
CLI_TIMEOUT_S = 60
BAR_TYPE = "SPY.ARCA-1-MINUTE-LAST-EXTERNAL"


def ntrader(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*NTRADER, *args], capture_output=True, text=True, timeout=CLI_TIMEOUT_S, env=dict(os.environ)
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_connect_reports_server_version_and_accounts(shared_gateway):
    result = ntrader(
        "connect", "--host", shared_gateway.host, "--port", str(shared_gateway.port), "--client-id", "7"
    )
    assert result.returncode == 0, result.stderr
    assert f"connected to {shared_gateway.host}:{shared_gateway.port} as client id 7" in result.stdout
    assert re.search(r"^server version: \d{3}$", result.stdout, re.MULTILINE)
    assert "accounts: DU" in result.stdout


def test_connect_with_nothing_listening_lists_what_to_check():
    port = _free_port()
    result = ntrader("connect", "--port", str(port), "--timeout", "2")
    assert result.returncode == 1
    assert f"nothing answers at 127.0.0.1:{port}" in result.stderr
    assert "1. Start IB Gateway or TWS" in result.stderr
    assert "4002" in result.stderr


def test_connect_to_a_silent_listener_names_client_id_and_api_settings():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        result = ntrader("connect", "--port", str(silent.getsockname()[1]), "--timeout", "2")
    assert result.returncode == 1
    assert "did not complete the API handshake" in result.stderr
    assert "client id" in result.stderr and "Enable the API" in result.stderr


def test_gateway_command_serves_until_stopped(tmp_path):
    port_file = tmp_path / "port"
    gateway = subprocess.Popen(
        [*NTRADER, "gateway", "--port", "0", "--port-file", str(port_file), "--pacing"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        port = wait_for_file(port_file, gateway, CLI_TIMEOUT_S).strip()
        result = ntrader("connect", "--port", port)
        assert result.returncode == 0, result.stderr
        assert "server version:" in result.stdout
    finally:
        gateway.send_signal(signal.SIGTERM)
        try:
            gateway.wait(timeout=10)
        except subprocess.TimeoutExpired:
            gateway.kill()
            gateway.wait()


@pytest.fixture
def small_catalog(tmp_path):
    store = CatalogStore(tmp_path / "catalog")
    store.write_instrument(ib_equity())
    bars = minute_bars(ib_equity(), [470 + (i % 7) * 0.1 for i in range(390)])
    store.write_session_bars(BarType.from_str(BAR_TYPE), session_for("2024-01-02"), bars)
    store.write_empty_session(
        BAR_TYPE, session_for("2024-01-04"), "HMDS query returned no data: SPY@ARCA Trades"
    )
    return store.path


def test_catalog_inventory_json(small_catalog):
    result = ntrader("catalog", "--path", str(small_catalog), "--end", "2024-01-08", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["instruments"] == ["SPY.ARCA"]
    (row,) = report["bar_types"]
    assert row == {
        "bar_type": BAR_TYPE,
        "present": ["2024-01-02"],
        "empty": ["2024-01-04"],
        "missing": ["2024-01-03", "2024-01-05", "2024-01-08"],
        "not_listed": [],  # no head timestamp stored: every session counts as listed
        "head_timestamp": None,
    }


def test_catalog_inventory_table(small_catalog):
    result = ntrader("catalog", "--path", str(small_catalog))
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith(BAR_TYPE))
    assert line.split()[1:4] == ["1", "1", "1"]  # present, empty, missing
    assert "missing 2024-01-03" in line


def test_catalog_with_a_bad_date_says_which(small_catalog):
    result = ntrader("catalog", "--path", str(small_catalog), "--start", "01/02/2024")
    assert result.returncode == 2
    assert "--start '01/02/2024' is not a date" in result.stdout


def test_catalog_lists_an_instruments_corporate_events(small_catalog):
    trades, adjusted = daily_history([Event(dt.date(2024, 2, 14), split=(7, 1))])
    CatalogStore(small_catalog).write_adjustment_factors("SPY.ARCA", *adjustment_factors(trades, adjusted))
    result = ntrader("catalog", "--path", str(small_catalog))
    assert result.returncode == 0, result.stderr
    assert "corporate events of SPY.ARCA: 2024-02-14 split 7:1" in result.stdout
    report = json.loads(ntrader("catalog", "--path", str(small_catalog), "--json").stdout)
    assert report["corporate_events"] == {"SPY.ARCA": ["2024-02-14 split 7:1"]}
    events = load_corporate_events("SPY.ARCA", catalog=str(small_catalog))
    assert events.select("ex_date", "kind", "split_ratio").rows() == [(dt.date(2024, 2, 14), "split", "7:1")]
    with pytest.raises(ResultsNotFoundError, match=r"no corporate events of QQQ\.NASDAQ"):
        load_corporate_events("QQQ.NASDAQ", catalog=str(small_catalog))
