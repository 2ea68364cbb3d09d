"""Reliability table, configuration rows: a bad value, in the environment or in `.env`, stops every entry
point at load with one line naming the variable, the value and the form it needs; `.env` is read the
same way by the `dagster` CLI, the webserver and `ntrader`.

Rows (fault: expected outcome):
- C1 bad value, `dagster asset materialize`: exits non-zero; stderr ends with the one line; nothing is
  written to the catalog.
- C2 bad value, the webserver's code-location panel (`dagster dev` runs the same webserver): GraphQL's
  `workspaceOrError` entry carries the load error whose chain holds the one line.
- C3 bad value, `ntrader connect | catalog` (exit 2), the UI launcher and the demo (non-zero): stderr is
  exactly the one line, no traceback.
- C4 `.env` in the working directory: a bad value there fails the dagster CLI and `ntrader` with the same
  line; good values there are used by both (IB_PORT reaches the gateway, NTRADER_CATALOG gets the file).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline_tests.cli import DAGSTER, IN_PROCESS, dagster_home, sessions_config

WAIT_BOUND_S = 120  # a CLI load or a webserver start ends within this
WEBSERVER = str(Path(sys.executable).parent / "dagster-webserver")
# variable, bad value, the line's tail: the expected form as pydantic states it
BAD = {
    "IB_REQUEST_TIMEOUT_S": ("abc", "Input should be a valid number, unable to parse string as a number"),
    "IB_PORT": ("abc", "Input should be a valid integer, unable to parse string as an integer"),
    "NTRADER_CATALOG": ("s3://", "expected a directory or an object-store URL such as s3://bucket/prefix"),
}


def expected_line(variable: str) -> str:
    value, form = BAD[variable]
    return f"{variable}={value!r} is invalid: {form}"


def clean_env(**values: str) -> dict[str, str]:
    """The test's environment without any IB_*/NTRADER_* variable, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IB_", "NTRADER_"))}
    return {**env, **values}


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=WAIT_BOUND_S)
    assert time.monotonic() - started < WAIT_BOUND_S
    return done


def dagster_materialize(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    home = dagster_home(cwd)
    command = [DAGSTER, "asset", "materialize", "-m", "ntrader_pipeline.definitions", *args]
    return _timed(command, cwd, {**env, "DAGSTER_HOME": str(home)})


def ntrader(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return _timed([sys.executable, "-m", "ntrader_pipeline.cli", *args], cwd, env)


def _stderr_line(done: subprocess.CompletedProcess, line: str) -> None:
    """The one line is in stderr, whole, on a line of its own (possibly after the exception's name)."""
    matching = [text for text in done.stderr.splitlines() if line in text]
    assert matching, done.stderr[-3000:]
    assert all(text.endswith("docs/reference/configuration.md lists each)") for text in matching)


@pytest.mark.parametrize("variable", sorted(BAD))
def test_C1_bad_value_fails_dagster_asset_materialize_in_one_line(variable: str, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    env = clean_env(**{variable: BAD[variable][0]})
    if variable != "NTRADER_CATALOG":
        env["NTRADER_CATALOG"] = str(catalog)
    done = dagster_materialize(
        tmp_path,
        env,
        "--select",
        "bars_1_day",
        "--partition",
        "2024-01-03|SPY.ARCA",
        "--config-json",
        IN_PROCESS,
    )
    assert done.returncode != 0
    _stderr_line(done, expected_line(variable))
    assert done.stderr.rstrip().splitlines()[-1].endswith(expected_line(variable) + ext_tail())
    assert not catalog.exists()  # nothing written


def ext_tail() -> str:
    return " (fix it in the environment or .env; docs/reference/configuration.md lists each)"


LOCATION_ENTRIES = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus
    locationOrLoadError { __typename ... on PythonError { message errorChain { error { message } } } }
} } } }
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_C2_bad_value_shows_in_the_code_location_panel(tmp_path: Path) -> None:
    port = _free_port()
    env = clean_env(IB_PORT="abc", DAGSTER_HOME=str(dagster_home(tmp_path)))
    log = tmp_path / "webserver.log"
    command = [WEBSERVER, "-m", "ntrader_pipeline.definitions", "-h", "127.0.0.1", "-p", str(port)]
    with log.open("wb") as sink:
        server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + WAIT_BOUND_S
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, (
                f"no webserver after {WAIT_BOUND_S} s:\n{log.read_text()[-3000:]}"
            )
            try:
                if requests.get(f"http://127.0.0.1:{port}/server_info", timeout=5).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        response = requests.post(
            f"http://127.0.0.1:{port}/graphql", json={"query": LOCATION_ENTRIES}, timeout=60
        ).json()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    [entry] = response["data"]["workspaceOrError"]["locationEntries"]
    error = entry["locationOrLoadError"]
    assert error["__typename"] == "PythonError", entry
    messages = [error["message"], *(link["error"]["message"] for link in error["errorChain"])]
    line = expected_line("IB_PORT")
    assert any(line in message and "\n" not in message.strip() for message in messages), messages


@pytest.mark.parametrize(
    ("command", "status"),
    [
        (["-m", "ntrader_pipeline.cli", "connect"], 2),
        (["-m", "ntrader_pipeline.cli", "catalog"], 2),
        (["-m", "ntrader_pipeline.cli.ui"], 1),
        (["-m", "ntrader_pipeline.cli.demo"], 1),
    ],
    ids=["ntrader-connect", "ntrader-catalog", "ui-launcher", "demo"],
)
def test_C3_bad_value_fails_the_ntrader_commands_in_one_line(
    command: list[str], status: int, tmp_path: Path
) -> None:
    env = clean_env(IB_REQUEST_TIMEOUT_S="abc", DAGSTER_HOME=str(tmp_path))
    done = _timed([sys.executable, *command], tmp_path, env)
    assert done.returncode == status
    assert done.stderr.strip() == expected_line("IB_REQUEST_TIMEOUT_S") + ext_tail()
    assert "Traceback" not in done.stderr + done.stdout


def test_C4_a_bad_value_in_dot_env_fails_every_path_alike(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("IB_MAX_ATTEMPTS=3\nIB_PORT=abc\n")
    env = clean_env(NTRADER_CATALOG=str(tmp_path / "catalog"))
    through_dagster = dagster_materialize(
        tmp_path,
        env,
        "--select",
        "bars_1_day",
        "--partition",
        "2024-01-03|SPY.ARCA",
        "--config-json",
        IN_PROCESS,
    )
    through_ntrader = ntrader(tmp_path, env, "connect")
    assert through_dagster.returncode != 0 and through_ntrader.returncode == 2
    _stderr_line(through_dagster, expected_line("IB_PORT"))
    assert through_ntrader.stderr.strip() == expected_line("IB_PORT") + ext_tail()


def test_C4_good_values_in_dot_env_are_used_by_every_path(tmp_path: Path, ib_gateway) -> None:
    catalog = tmp_path / "catalog_from_dot_env"
    (tmp_path / ".env").write_text(
        f"IB_HOST={ib_gateway.host}\nIB_PORT={ib_gateway.port}\nIB_MAX_ATTEMPTS=2\n"
        f"IB_PACING=false\nNTRADER_CATALOG={catalog}\n"
    )
    env = clean_env()
    done = dagster_materialize(
        tmp_path,
        env,
        "--select",
        "bars_1_day",
        "--partition",
        "2024-01-01|SPY.ARCA",
        "--config-json",
        sessions_config("2024-01-03", "2024-01-03", "bars_1_day"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert CatalogStore(catalog).has_session("SPY.ARCA-1-DAY-LAST-EXTERNAL", session_for("2024-01-03"))

    connected = ntrader(tmp_path, env, "connect")  # no --port: IB_PORT from .env
    assert connected.returncode == 0, connected.stdout + connected.stderr
    assert str(ib_gateway.port) in connected.stdout
    listed = ntrader(tmp_path, env, "catalog", "--json")
    assert listed.returncode == 0, listed.stderr
    assert f'"catalog": "{catalog}"' in listed.stdout
