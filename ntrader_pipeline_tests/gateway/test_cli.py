from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ntrader_pipeline.gateway import Fault, GatewayFaults
from ntrader_pipeline.gateway.__main__ import build_parser, main
from ntrader_pipeline.gateway.faults import PACING_VIOLATION
from ntrader_pipeline_tests.gateway.ib_raw_client import RawIbClient, stock

STARTUP_SECONDS = 60  # imports and the exchange calendar take a few seconds on a cold machine


def wait_for_file(path: Path, process: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return path.read_text()
        if process.poll() is not None:
            raise AssertionError(f"gateway exited early: {process.communicate(timeout=5)}")
        time.sleep(0.05)
    raise TimeoutError(f"no port file after {timeout}s")


def test_cli_serves_on_a_free_port_with_faults_and_stops_on_sigterm(tmp_path: Path) -> None:
    port_file = tmp_path / "run" / "gateway.port"
    command = [
        sys.executable, "-m", "ntrader_pipeline.gateway",
        "--port", "0", "--port-file", str(port_file), "--fault", "SPY:short_bars=5", "--log-level", "WARNING",
        "--no-latency",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(wait_for_file(port_file, process, STARTUP_SECONDS))
        with RawIbClient("127.0.0.1", port) as raw:
            raw.start_api()
            wrapper = raw.historical_data(1, stock("SPY", "ARCA"), "20240105 21:00:00 UTC", "1 D", "1 min")
            assert len(wrapper.bars[1]) == 385
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=5)
    assert process.returncode == 0, stderr
    assert stdout.splitlines()[0] == f"embedded IB gateway listening on 127.0.0.1:{port}"
    assert not port_file.exists()  # removed on a clean stop so nobody connects to a stale port


def test_cli_rejects_a_bad_fault_spec() -> None:
    command = [sys.executable, "-m", "ntrader_pipeline.gateway", "--port", "0", "--fault", "SPY:explode=1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=STARTUP_SECONDS)
    assert result.returncode == 2
    assert "unknown setting 'explode'" in result.stderr


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("SPY:pacing,times=2", {"pacing": True, "times": 2}),
        ("SPY:no_data", {"no_data": True}),
        ("SPY:error=321", {"error": (321, "Error validating request")}),
        ("SPY:connectivity=1100", {"connectivity": 1100}),
        ("SPY:connectivity=1102,times=1", {"connectivity": 1102, "times": 1}),
        ("SPY:drop,times=1", {"drop": True, "times": 1}),
        ("SPY:delay=1.5", {"delay": 1.5}),
        ("SPY@2024-01-04:malformed", {"malformed": True}),
    ],
)
def test_cli_parses_each_fault_kind(spec: str, kind: dict[str, object]) -> None:
    args = build_parser().parse_args(["--fault", spec, "--fault", "QQQ:short_bars=1"])
    faults = GatewayFaults.from_specs(args.fault)
    [(_, fault)] = faults.for_symbol("SPY")
    assert fault == Fault(**kind)  # type: ignore[arg-type]
    assert faults.remaining("SPY") == [kind.get("times")]
    assert args.pacing is False
    assert build_parser().parse_args(["--pacing"]).pacing is True


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("SPY:connectivity=1200", "connectivity must be one of"),
        ("SPY:drop,times=0", "times must be >= 1"),
        ("SPY:delay=later", "delay value 'later' is not a number"),
    ],
)
def test_cli_rejects_bad_new_specs_with_usage_error(
    spec: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--port", "0", "--fault", spec])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_with_pacing_and_a_scripted_fault(tmp_path: Path) -> None:
    port_file = tmp_path / "gateway.port"
    command = [
        sys.executable, "-m", "ntrader_pipeline.gateway", "--port", "0", "--port-file", str(port_file),
        "--pacing", "--fault", "SPY:no_data,times=1", "--log-level", "WARNING", "--no-latency",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(wait_for_file(port_file, process, STARTUP_SECONDS))
        with RawIbClient("127.0.0.1", port) as raw:
            raw.start_api()
            end = "20240105 21:00:00 UTC"
            [no_data] = raw.historical_data(1, stock("SPY", "ARCA"), end, "1 D", "1 min").errors_for(1)
            assert no_data.code == 162 and no_data.text.endswith("no data: SPY@ARCA Trades")
            # the fault is spent; 1-minute bars have no hard pacing limits, so the same request is answered
            assert len(raw.historical_data(2, stock("SPY", "ARCA"), end, "1 D", "1 min").bars[2]) == 390
            # 30-second bars do: the same request within 15 s is a pacing violation
            [unserved] = raw.historical_data(3, stock("SPY", "ARCA"), end, "1800 S", "30 secs").errors_for(3)
            assert unserved.code == 321
            [paced] = raw.historical_data(4, stock("SPY", "ARCA"), end, "1800 S", "30 secs").errors_for(4)
            assert (paced.code, paced.text) == PACING_VIOLATION
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=5)
