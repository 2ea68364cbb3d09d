"""Under CI a skipped test fails the run: a machine without Chromium or PostgreSQL must not hide the
browser or database tests' regressions by skipping them. Locally skips stay skips.

Hooks for pytest; `conftest.py` imports them (or run `pytest -p ntrader_pipeline_tests.ci_strict`).
`CI` is what CI services set (`CI=true`); `0`, `false`, `no` and empty count as unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import pytest

_skipped: list[str] = []  # "nodeid: reason" of every test skipped in this session


def ci_is_set(environ: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get("CI", "")
    return value.strip().lower() not in ("", "0", "false", "no")


def pytest_sessionstart(session: pytest.Session) -> None:
    _skipped.clear()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if ci_is_set() and _skipped and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    if ci_is_set() and _skipped:
        terminalreporter.section("skipped under CI: the run fails", sep="=", red=True, bold=True)
        for line in _skipped:
            terminalreporter.line(f"SKIPPED {line}", red=True)
        terminalreporter.line("Install what they need (.ci/run does) or fix why they skip.")
