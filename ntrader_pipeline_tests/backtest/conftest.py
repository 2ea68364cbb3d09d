from __future__ import annotations

import pytest
from nautilus_trader.model.instruments import Equity

from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity


@pytest.fixture
def spy() -> Equity:
    return ib_equity()
