"""Running the `dagster` command line against the code location, as users and CI do."""

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import dagster as dg

from ntrader_pipeline.settings import REPO_ROOT

DAGSTER = str(Path(sys.executable).parent / "dagster")
CLI_TIMEOUT_S = 240
IN_PROCESS = '{"execution": {"config": {"in_process": {}}}}'


def sessions_config(first: str, last: str, *assets: str, in_process: bool = True) -> str:
    """`--config-json` narrowing the bars assets' month partitions to the sessions `first`..`last`, as the
    README documents it (in process by default, as the tests run)."""
    config: dict = {"ops": {a: {"config": {"first_session": first, "last_session": last}} for a in assets}}
    if in_process:
        config["execution"] = {"config": {"in_process": {}}}
    return json.dumps(config)


def tree_pythonpath(existing: str | None = None) -> str:
    """PYTHONPATH with this tree first, so a child process imports the code under test (and its tests)."""
    current = existing if existing is not None else os.environ.get("PYTHONPATH")
    return os.pathsep.join(filter(None, [str(REPO_ROOT), current]))


def dagster_home(tmp_path: Path) -> Path:
    """A DAGSTER_HOME with the repo's dagster.yaml (its storage paths are relative to the cwd)."""
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def run_env(home: Path, gateway, catalog: Path, **variables: str) -> dict[str, str]:
    """The environment of a CLI run against the embedded gateway: this process's, plus the instance, the
    gateway (pacing off: tests re-request sessions within IB's windows) and the catalog."""
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "IB_HOST": gateway.host,
        "IB_PORT": str(gateway.port),
        "IB_PACING": "false",
        "IB_REQUEST_TIMEOUT_S": "10",
        "NTRADER_CATALOG": str(catalog),
        "PYTHONPATH": tree_pythonpath(),  # the code under test, not the venv's installed copy
        **variables,
    }


def materialize_cli(home: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    command = [DAGSTER, "asset", "materialize", "-m", "ntrader_pipeline.definitions", *args]
    return subprocess.run(
        command,
        env={**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": tree_pythonpath(), **env},
        cwd=home,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )


class LoggedProcesses:
    """Commands against one instance, each in its own process group (its children go with it) and logging
    to `<logs>/<name>.log`; whatever a test started is stopped by `stop_all`, also when it fails."""

    def __init__(self, home: Path, env: dict[str, str], logs: Path) -> None:
        self.home = home
        self.env = env
        self.logs = logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self._started: list[subprocess.Popen] = []

    def popen(self, name: str, command: list[str]) -> subprocess.Popen:
        with (self.logs / f"{name}.log").open("w") as log:
            process = subprocess.Popen(
                command,
                env=self.env,
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._started.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop_all(self, first: signal.Signals = signal.SIGKILL, grace_s: float = 20.0) -> None:
        """`first` to each process group, newest first; SIGKILL after `grace_s` if it is still there."""
        for process in reversed(self._started):
            with suppress(ProcessLookupError):
                os.killpg(process.pid, first)
            if first != signal.SIGKILL:
                with suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=grace_s)
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    @contextmanager
    def instance(self) -> Iterator[dg.DagsterInstance]:
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            yield instance
