"""CI strictness: with CI=true a skipped test fails the run and is named; without CI it stays a skip."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ntrader_pipeline.settings import REPO_ROOT
from ntrader_pipeline_tests.ci_strict import ci_is_set
from ntrader_pipeline_tests.cli import tree_pythonpath

SAMPLE = """
import pytest

def test_runs():
    pass

@pytest.mark.skip(reason="needs a browser")
def test_browser():
    pass

@pytest.mark.xfail(reason="known")
def test_known_failure():
    assert False
"""


def _pytest(tmp_path: Path, ci: str | None, body: str = SAMPLE, *options: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_sample.py").write_text(body)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = tree_pythonpath(env.get("PYTHONPATH"))
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "ntrader_pipeline_tests.ci_strict",
        "-p",
        "no:cacheprovider",
    ]
    command += [
        "-q",
        "-c",
        os.devnull,
        "--rootdir",
        str(tmp_path),
        *options,
        str(tmp_path / "test_sample.py"),
    ]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


# `make test` and `.ci/run` run pytest-xdist workers: a worker's skip must fail the controller's run too.
@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_a_skip_fails_the_run_under_ci_and_is_named(tmp_path: Path, workers: tuple[str, ...]) -> None:
    done = _pytest(tmp_path, "true", SAMPLE, *workers)
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout
    assert "skipped under CI: the run fails" in done.stdout
    assert "test_sample.py::test_browser" in done.stdout and "needs a browser" in done.stdout
    assert "test_known_failure" not in done.stdout.split("skipped under CI")[1]  # xfail is not a skip


@pytest.mark.parametrize("ci", [None, "false", "0", ""])
def test_a_skip_is_a_skip_without_ci(tmp_path: Path, ci: str | None) -> None:
    done = _pytest(tmp_path, ci)
    assert done.returncode == pytest.ExitCode.OK, done.stdout
    assert "skipped under CI" not in done.stdout


def test_no_skips_under_ci_pass(tmp_path: Path) -> None:
    done = _pytest(tmp_path, "true", "def test_runs():\n    pass\n")
    assert done.returncode == pytest.ExitCode.OK, done.stdout


def test_ci_values() -> None:
    assert ci_is_set({"CI": "true"}) and ci_is_set({"CI": "1"}) and ci_is_set({"CI": "TRUE"})
    assert not ci_is_set({}) and not ci_is_set({"CI": "false"}) and not ci_is_set({"CI": " "})


def test_ci_script_installs_what_the_strict_tests_need() -> None:
    script = (REPO_ROOT / ".ci" / "run").read_text()
    assert "chromium" in script and "postgresql" in script and "redis-server" in script
    assert 'export CI="${CI:-true}"' in script
