from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from ntrader_pipeline.gateway import EmbeddedGateway

# A fixed "now" well after the sessions the tests ask for, so results never depend on the wall clock.
FIXED_NOW = dt.datetime(2025, 1, 10, 12, 0, tzinfo=dt.UTC)


def fixed_clock() -> dt.datetime:
    return FIXED_NOW


@pytest.fixture(scope="module")
def gateway() -> Iterator[EmbeddedGateway]:
    """A shared gateway negotiating the highest version the client allows; stopped at module end."""
    with EmbeddedGateway(clock=fixed_clock) as running:
        yield running
