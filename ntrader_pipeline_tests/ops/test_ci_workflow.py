"""The example CI workflow: its commands are those of docs/how-to/run-in-ci.md, and they work as written."""

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
HOW_TO = REPO_ROOT / "docs" / "how-to" / "run-in-ci.md"
DAGSTER_LIFECYCLE_WARNINGS = ("BetaWarning", "PreviewWarning", "SupersessionWarning", "DeprecationWarning")


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


def test_how_to_page_shows_the_workflow_commands_verbatim() -> None:
    page = HOW_TO.read_text()
    for command in commands(workflow_job()):
        assert command in page, f"{HOW_TO.relative_to(REPO_ROOT)} lacks:\n{command}"


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
            lifecycle = [w for w in DAGSTER_LIFECYCLE_WARNINGS if w in done.stderr + done.stdout]
            assert lifecycle == [], f"{command} printed Dagster's {lifecycle}:\n{done.stderr[-3000:]}"
        finished = True  # the workflow's last step stopped the gateway
    finally:
        pid_file = tmp_path / "gateway.pid"
        if not finished and pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
    catalog = tmp_path / "data" / "catalog"
    files = sorted(p.name for p in catalog.rglob("SPY.ARCA-1-MINUTE-LAST-EXTERNAL/*.parquet"))
    assert files == [  # one file per month (Nautilus' `<start>_<end>` names)
        "2024-01-01T00-00-00-000000000Z_2024-01-31T23-59-59-999999999Z.parquet",
        "2024-02-01T00-00-00-000000000Z_2024-02-29T23-59-59-999999999Z.parquet",
    ]
    # The session of the first command, then the range's: Jan 30 (Tue), 31, Feb 1, 2 (Fri); nothing else of
    # the two months (the config narrowed both runs).
    every_session = sessions_between("2024-01-01", "2024-02-29")
    stored = CatalogStore(catalog).stored_sessions("SPY.ARCA-1-MINUTE-LAST-EXTERNAL", every_session)
    expected = ["2024-01-03", "2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02"]
    assert [s.key for s in stored] == expected
    assert (tmp_path / "data" / "dagster" / "storage").is_dir()  # DAGSTER_HOME = the workspace
