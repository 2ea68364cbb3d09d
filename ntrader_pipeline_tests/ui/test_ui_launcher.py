"""The launcher stops everything it started when one of its children dies (here: the gateway)."""

import os
import signal
from pathlib import Path

from ntrader_pipeline_tests.ui.launcher import STOP_TIMEOUT_S, start_ui, still_listening, stop_ui


def _child_pids(parent: int, marker: str) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        if ppid == parent and marker in cmdline:
            pids.append(int(stat.parent.name))
    return pids


def test_gateway_death_stops_the_ui(tmp_path: Path) -> None:
    ui = start_ui(tmp_path)
    try:
        gateways = _child_pids(ui.process.pid, "ntrader_pipeline.gateway")
        assert len(gateways) == 1, f"expected one gateway child of the launcher, found {gateways}"
        os.kill(gateways[0], signal.SIGKILL)
        code = ui.process.wait(timeout=STOP_TIMEOUT_S)
    finally:
        if ui.process.poll() is None:
            stop_ui(ui)
    assert code != 0, "the launcher should report the gateway's death with a failing exit code"
    assert "the embedded gateway exited" in ui.output()
    assert still_listening(ui) == [], "servers outlived the launcher"
