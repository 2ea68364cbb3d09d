"""The Dagster UI in one command: embedded gateway + reports over HTTP + `dagster dev`, on 127.0.0.1.

`python -m ntrader_pipeline.cli.ui [--ui-port 3000] [--gateway-port 4002] [--reports-port 3001]` (`make ui`).
Port 0 picks a free port. Ctrl-C or SIGTERM stops everything; so does any child exiting on its own.
Each child runs in its own process group, which is signalled as a whole, so nothing is left behind
(dagster dev's webserver, daemon, code server and run workers belong to its group).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ntrader_pipeline.cli.reports_server import LOOPBACK, ReportsServer
from ntrader_pipeline.settings import REPO_ROOT, PipelineSettings, SettingsError, load_settings

GATEWAY_START_TIMEOUT_S = 30.0
GRACEFUL_STOP_S = 20.0  # dagster dev stops its webserver, daemon and code server on SIGINT


@dataclass(frozen=True)
class UiPorts:
    ui: int
    gateway: int
    reports: int


def free_port() -> int:
    """A port free right now on loopback (dagster dev cannot report the port it bound for -p 0)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def build_parser(settings: PipelineSettings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ntrader_pipeline.cli.ui",
        description="Start the embedded IB gateway, the reports HTTP server and `dagster dev` on 127.0.0.1.",
    )
    parser.add_argument(
        "--ui-port", type=int, default=settings.ui_port, help="Dagster webserver port (NTRADER_UI_PORT)"
    )
    parser.add_argument(
        "--gateway-port",
        type=int,
        default=settings.gateway_port,
        help="embedded IB gateway port (NTRADER_GATEWAY_PORT)",
    )
    parser.add_argument(
        "--reports-port",
        type=int,
        default=settings.reports_port,
        help="HTTP port serving the reports directory (NTRADER_REPORTS_PORT)",
    )
    return parser


def _stop_group(process: subprocess.Popen, name: str) -> None:
    """SIGINT the child's process group (its graceful stop), then SIGKILL whatever is left of it."""
    pgid = process.pid  # start_new_session: the child leads its own group
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGINT)
    try:
        process.wait(timeout=GRACEFUL_STOP_S)
    except subprocess.TimeoutExpired:
        print(f"{name} did not stop within {GRACEFUL_STOP_S:.0f} s; killing it", file=sys.stderr, flush=True)
    # Grandchildren (e.g. a run worker) may outlive their parent: the group goes as a whole.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def _child(command: list[str], name: str, **popen: object) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(command, start_new_session=True, **popen)
    try:
        yield process
    finally:
        _stop_group(process, name)


def _wait_for_port_file(path: Path, gateway: subprocess.Popen) -> int:
    deadline = time.monotonic() + GATEWAY_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if gateway.poll() is not None:
            sys.exit(f"the embedded gateway exited with code {gateway.returncode}; see its message above")
        if path.exists():
            return int(path.read_text())
        time.sleep(0.05)
    sys.exit(f"the embedded gateway did not listen within {GATEWAY_START_TIMEOUT_S:.0f} s")


def run(ports: UiPorts, settings: PipelineSettings) -> int:
    """Run until a signal or a child's exit; returns the exit code."""
    dagster_home = Path(os.environ.get("DAGSTER_HOME", REPO_ROOT)).resolve()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with contextlib.ExitStack() as stack:
        port_file = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "gateway.port"
        gateway_command = [sys.executable, "-m", "ntrader_pipeline.gateway", "--port", str(ports.gateway)]
        gateway_command += ["--port-file", str(port_file)]
        gateway = stack.enter_context(_child(gateway_command, "the embedded gateway"))
        gateway_port = _wait_for_port_file(port_file, gateway)
        reports = stack.enter_context(ReportsServer(settings.reports, ports.reports))
        ui_port = ports.ui or free_port()
        env = {
            **os.environ,
            "DAGSTER_HOME": str(dagster_home),
            "IB_HOST": LOOPBACK,
            "IB_PORT": str(gateway_port),
            "NTRADER_REPORTS": str(reports.directory),
            "NTRADER_REPORTS_URL": reports.url,
        }
        # cwd = DAGSTER_HOME: dagster.yaml's relative storage paths resolve against the instance directory.
        dagster = [sys.executable, "-m", "dagster", "dev", "-h", LOOPBACK, "-p", str(ui_port)]
        dagster += ["-w", str(REPO_ROOT / "workspace.yaml")]
        webserver = stack.enter_context(_child(dagster, "dagster dev", env=env, cwd=dagster_home))
        print(
            f"Dagster UI:      http://{LOOPBACK}:{ui_port}\n"
            f"IB gateway:      {LOOPBACK}:{gateway_port} (embedded, synthetic bars)\n"
            f"HTML reports:    {reports.url}/ (serving {reports.directory})\n"
            f"DAGSTER_HOME:    {dagster_home}\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        children = {"dagster dev": webserver, "the embedded gateway": gateway}
        while not stop.wait(0.5):
            for name, process in children.items():
                if process.poll() is not None:
                    print(f"{name} exited with code {process.returncode}; stopping", file=sys.stderr)
                    return process.returncode if process.returncode > 0 else 1  # killed: negative
        print("stopping the Dagster UI, the reports server and the gateway", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        settings = load_settings().ntrader
    except SettingsError as exc:
        sys.exit(str(exc))
    args = build_parser(settings).parse_args(argv)
    return run(UiPorts(ui=args.ui_port, gateway=args.gateway_port, reports=args.reports_port), settings)


if __name__ == "__main__":
    sys.exit(main())
