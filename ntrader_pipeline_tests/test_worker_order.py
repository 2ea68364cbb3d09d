"""`make test` starts the modules of several minutes first: the order `tiers.order_for_workers` gives the
files reaches the xdist workers with the Makefile's flags."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from ntrader_pipeline.settings import REPO_ROOT
from ntrader_pipeline_tests.cli import tree_pythonpath

CONFTEST = """
from ntrader_pipeline_tests.tiers import order_for_workers

def pytest_configure(config):
    for marker in ("unit", "e2e", "long_running(minutes)"):
        config.addinivalue_line("markers", marker)

def pytest_collection_modifyitems(items):
    order_for_workers(items)
"""
MANY_QUICK = "import pytest\n\npytestmark = pytest.mark.unit\n" + "".join(
    f"\ndef test_quick_{n}():\n    pass\n" for n in range(5)
)
ONE_LONG = """import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.long_running(minutes=4)]

def test_long():
    pass
"""


def make_xdist_flags() -> list[str]:
    """`XDIST` of the Makefile, with one worker (one worker shows the order the files are handed out)."""
    line = re.search(r"^XDIST := (.+)$", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert line, "the Makefile defines XDIST, the flags of every test target"
    return shlex.split(line.group(1).replace("$(PYTEST_WORKERS)", "1"))


def passed_in_order(tmp_path: Path, flags: list[str]) -> list[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_a_many_quick.py").write_text(MANY_QUICK)  # first by name and by number of tests
    (tmp_path / "test_z_one_long.py").write_text(ONE_LONG)
    env = {**os.environ, "PYTHONPATH": tree_pythonpath(os.environ.get("PYTHONPATH"))}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", os.devnull, "-v", *flags]
    done = subprocess.run(
        [*command, "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return re.findall(r"PASSED (\S+)", done.stdout)


def test_make_test_starts_a_long_running_module_first(tmp_path: Path) -> None:
    order = passed_in_order(tmp_path, make_xdist_flags())
    assert len(order) == 6 and order[0].endswith("test_z_one_long.py::test_long"), order


def test_without_the_flag_xdist_would_start_it_last(tmp_path: Path) -> None:
    """Why the Makefile turns xdist's reordering off: it hands out the files with the most tests first."""
    flags = [flag for flag in make_xdist_flags() if flag != "--no-loadscope-reorder"]
    order = passed_in_order(tmp_path, flags)
    assert order[-1].endswith("test_z_one_long.py::test_long"), order
