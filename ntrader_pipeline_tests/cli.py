"""Running the `dagster` command line against the code location, as users and CI do."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ntrader_pipeline.settings import REPO_ROOT

DAGSTER = str(Path(sys.executable).parent / "dagster")
CLI_TIMEOUT_S = 240
IN_PROCESS = '{"execution": {"config": {"in_process": {}}}}'


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
        **variables,
    }


def materialize_cli(home: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    command = [DAGSTER, "asset", "materialize", "-m", "ntrader_pipeline.definitions", *args]
    return subprocess.run(
        command,
        env={**os.environ, "DAGSTER_HOME": str(home), **env},
        cwd=home,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )
