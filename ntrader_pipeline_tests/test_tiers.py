"""The tier each test gets from what it reaches (ntrader_pipeline_tests/tiers.py)."""

from __future__ import annotations

import subprocess

import pytest

from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline_tests.tiers import TIERS, heaviest, tier_of_source, tiers_of_code


def _starts_a_gateway() -> None:
    with EmbeddedGateway():
        pass


def _calls_a_helper_that_starts_a_gateway() -> None:
    _starts_a_gateway()


def _starts_a_process() -> None:
    subprocess.run(["true"], check=True)


def _pure() -> int:
    return sum(range(3))


@pytest.mark.parametrize(
    ("source", "tier"),
    [
        ("with EmbeddedGateway() as gateway:", "integration"),
        ("result = dg.materialize(assets)", "integration"),
        ("job.execute_in_process(instance=instance)", "integration"),
        ("subprocess.run([DAGSTER, 'dev'])", "e2e"),
        ("with sync_playwright() as p:", "e2e"),
        ("materialize_cli(home, env)", "e2e"),
        ("assert sessions_between(a, b) == []", "unit"),
        ("frame.materialized_rows", "unit"),  # a word containing 'materialize' is not a Dagster run
    ],
)
def test_tier_of_source(source: str, tier: str) -> None:
    assert tier_of_source(source) == tier


@pytest.mark.unit  # it names helpers that start processes, but only reads them
def test_helpers_are_followed_through_the_test_package() -> None:
    assert tiers_of_code(_pure) == "unit"
    assert tiers_of_code(_starts_a_gateway) == "integration"
    assert tiers_of_code(_calls_a_helper_that_starts_a_gateway) == "integration"
    assert tiers_of_code(_starts_a_process) == "e2e"


def test_the_heaviest_tier_wins() -> None:
    assert TIERS == ("unit", "integration", "e2e")
    assert heaviest(["unit", "e2e", "integration"]) == "e2e"
    assert heaviest([]) == "unit"


@pytest.mark.integration
def test_an_explicit_marker_wins(request: pytest.FixtureRequest) -> None:
    tiers = [m.name for m in request.node.iter_markers() if m.name in TIERS]
    assert tiers == ["integration"]  # nothing here reaches a gateway; the marker says integration


def test_a_test_that_reaches_nothing_is_unit(request: pytest.FixtureRequest) -> None:
    tiers = [m.name for m in request.node.iter_markers() if m.name in TIERS]
    assert tiers == ["unit"]


@pytest.mark.parametrize("command", ["subprocess.run(['dagster', 'dev'])"])
def test_decorator_arguments_are_data_not_what_the_test_reaches(
    command: str, request: pytest.FixtureRequest
) -> None:
    tiers = [m.name for m in request.node.iter_markers() if m.name in TIERS]
    assert tier_of_source(command) == "e2e" and tiers == ["unit"]
