"""Running `python -m ntrader_pipeline.cli.ui` as a user does: free ports, tmp data and DAGSTER_HOME."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from ntrader_pipeline_tests.cli import dagster_home

WEBSERVER_START_TIMEOUT_S = 240  # dagster dev loads the code location twice (code server + daemon)
STOP_TIMEOUT_S = 60
_ADDRESS = {
    "ui": re.compile(r"^Dagster UI:\s+(http://\S+)$", re.M),
    "gateway": re.compile(r"^IB gateway:\s+127\.0\.0\.1:(\d+)", re.M),
    "reports": re.compile(r"^HTML reports:\s+(http://\S+?)/? ", re.M),
}


@dataclass
class RunningUi:
    process: subprocess.Popen
    log: Path
    ui_url: str
    gateway_port: int
    reports_url: str
    reports_dir: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _addresses(log: Path, process: subprocess.Popen) -> dict[str, str]:
    deadline = time.monotonic() + WEBSERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = {name: pattern.search(text) for name, pattern in _ADDRESS.items()}
        if all(found.values()):
            return {name: match.group(1) for name, match in found.items()}
        assert process.poll() is None, f"the UI launcher exited ({process.returncode}):\n{text[-4000:]}"
        time.sleep(0.2)
    raise AssertionError(f"the UI launcher printed no addresses:\n{log.read_text()[-4000:]}")


def _wait_for_webserver(ui: RunningUi) -> None:
    deadline = time.monotonic() + WEBSERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert ui.process.poll() is None, f"the UI launcher exited:\n{ui.output()[-4000:]}"
        try:
            if requests.get(f"{ui.ui_url}/server_info", timeout=5).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(1)
    raise AssertionError(f"no webserver at {ui.ui_url} after {WEBSERVER_START_TIMEOUT_S} s")


def start_ui(tmp_path: Path, settings: dict[str, str] | None = None) -> RunningUi:
    """The launcher on free ports with its storage in `tmp_path`; `settings`: more NTRADER_* variables."""
    home = dagster_home(tmp_path)
    reports = tmp_path / "reports"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "NTRADER_CATALOG": str(tmp_path / "catalog"),
        "NTRADER_ARTIFACTS": str(tmp_path / "backtests"),
        "NTRADER_REPORTS": str(reports),
        **(settings or {}),
    }
    log = tmp_path / "ui.log"
    command = [sys.executable, "-m", "ntrader_pipeline.cli.ui", "--ui-port", "0"]
    command += ["--gateway-port", "0", "--reports-port", "0"]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    found = _addresses(log, process)
    ui = RunningUi(process, log, found["ui"], int(found["gateway"]), found["reports"], reports)
    _wait_for_webserver(ui)
    return ui


def _listening(url_or_port: str | int) -> bool:
    port = int(url_or_port) if isinstance(url_or_port, int) else int(url_or_port.rsplit(":", 1)[1])
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def stop_ui(ui: RunningUi) -> int:
    """SIGTERM the launcher as a service manager would; it must stop everything it started."""
    ui.process.send_signal(signal.SIGTERM)
    try:
        return ui.process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        ui.process.kill()
        ui.process.wait()
        raise AssertionError(f"the UI launcher ignored SIGTERM:\n{ui.output()[-4000:]}") from None


def still_listening(ui: RunningUi) -> list[str]:
    """Which of the launcher's servers still accept connections (none, once it has stopped)."""
    servers = {"webserver": ui.ui_url, "gateway": ui.gateway_port, "reports": ui.reports_url}
    return [name for name, address in servers.items() if _listening(address)]
