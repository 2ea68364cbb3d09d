"""Shared fixtures: one embedded gateway for the session (faults cleared after each test), tmp storage."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource
from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.settings import REPO_ROOT, IBSettings
from ntrader_pipeline_tests.ci_strict import (  # noqa: F401  (hooks: under CI=true a skip fails the run)
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_sessionstart,
    pytest_terminal_summary,
)
from ntrader_pipeline_tests.cli import tree_pythonpath
from ntrader_pipeline_tests.tiers import assign_tiers, order_for_workers

# Every child process a test starts (the `dagster` and `ntrader` commands, `dagster dev`, workers) imports
# this tree's code first, not whatever checkout the venv's editable install points at.
if os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] != str(REPO_ROOT):
    os.environ["PYTHONPATH"] = tree_pythonpath()

# Short bounds: a test that waits on the gateway fails in seconds, never hangs.
REQUEST_TIMEOUT_S = 4.0
CONNECT_TIMEOUT_S = 5.0


@pytest.hookimpl(tryfirst=True)  # before `-m unit` deselects by the markers assigned here
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    assign_tiers(items)
    order_for_workers(items)


@pytest.fixture(scope="session")
def shared_gateway() -> Iterator[EmbeddedGateway]:
    with EmbeddedGateway() as gateway:
        yield gateway


def cleared(gateway: EmbeddedGateway) -> Iterator[EmbeddedGateway]:
    """A shared gateway for one test: no faults, realities or logged requests from an earlier one."""
    gateway.faults.clear()
    gateway.realities.reset()
    gateway.requests.clear()
    yield gateway
    gateway.faults.clear()
    gateway.realities.reset()


@pytest.fixture
def ib_gateway(shared_gateway: EmbeddedGateway) -> Iterator[EmbeddedGateway]:
    yield from cleared(shared_gateway)


@pytest.fixture
def ib_settings(ib_gateway: EmbeddedGateway) -> IBSettings:
    return gateway_ib_settings(ib_gateway)


def gateway_ib_settings(gateway: EmbeddedGateway) -> IBSettings:
    """The tests' IB settings for an embedded gateway (also for module-scoped fixtures)."""
    return IBSettings(
        host=gateway.host,
        port=gateway.port,
        request_timeout_s=REQUEST_TIMEOUT_S,
        connect_timeout_s=CONNECT_TIMEOUT_S,
        # Tests re-request sessions within IB's 15 s identical-request window; the pacing limiter has its
        # own tests (ingest/test_pacing*.py), which turn it on against the gateway's pacing emulation.
        pacing=False,
    )


@pytest.fixture
def ib_resource(ib_settings: IBSettings) -> IBGatewayResource:
    return IBGatewayResource(**ib_settings.model_dump())


@pytest.fixture
def storage(tmp_path: Path) -> StorageResource:
    return StorageResource(
        catalog=str(tmp_path / "catalog"),
        artifacts=str(tmp_path / "backtests"),
        reports=str(tmp_path / "reports"),
    )
