"""The example CI workflow: its commands are the README's, and they work as written."""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import yaml

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.settings import REPO_ROOT
from ntrader_pipeline_tests.cli import CLI_TIMEOUT_S, tree_pythonpath

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "materialize.yml"
README = REPO_ROOT / "README.md"


def workflow_job() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]["materialize"]


def commands(job: dict) -> list[str]:
    """The `run:` scripts after the install step, in order."""
    steps = [s for s in job["steps"] if "run" in s]
    after_install = [s for s in steps[[s.get("id") for s in steps].index("install") + 1 :]]
    return [s["run"].strip() for s in after_install]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_readme_shows_the_workflow_commands_verbatim() -> None:
    readme = README.read_text()
    for command in commands(workflow_job()):
        assert command in readme, f"README's CI section lacks:\n{command}"


def test_workflow_commands_materialize_a_partition_and_a_range(tmp_path: Path) -> None:
    job = workflow_job()
    shutil.copy(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")  # as in a checkout
    workspace = str(tmp_path)
    env = {
        key: re.sub(r"\$\{\{\s*github\.workspace\s*\}\}", workspace, str(v)) for key, v in job["env"].items()
    }
    env["IB_PORT"] = str(free_port())
    env = {
        **os.environ,
        **env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": tree_pythonpath(),  # the code under test, not the venv's installed copy
    }
    finished = False
    try:
        for command in commands(job):
            # GitHub runs each step as `bash --noprofile --norc -eo pipefail {0}`.
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=CLI_TIMEOUT_S,
            )
            assert done.returncode == 0, f"{command}\n{done.stderr[-3000:]}"
        finished = True  # the workflow's last step stopped the gateway
    finally:
        pid_file = tmp_path / "gateway.pid"
        if not finished and pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
    catalog = tmp_path / "data" / "catalog"
    files = list(catalog.rglob("SPY.ARCA-1-MINUTE-LAST-EXTERNAL/*.parquet"))
    sessions = sessions_between("2024-01-02", "2024-01-05")
    assert len(files) == 1  # the four sessions' month file
    stored = CatalogStore(catalog).stored_sessions("SPY.ARCA-1-MINUTE-LAST-EXTERNAL", sessions)
    assert stored == sessions and len(sessions) == 4
    assert (tmp_path / "data" / "dagster" / "storage").is_dir()  # DAGSTER_HOME = the workspace
