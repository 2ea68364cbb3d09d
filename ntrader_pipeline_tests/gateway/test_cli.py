from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

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
