from __future__ import annotations

import pytest
from nautilus_trader.model.data import BarType

from ntrader_pipeline.strategies.sma_cross import SmaCross, SmaCrossConfig
from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity


def test_strategy_requires_fast_period_below_slow_period() -> None:
    # Arrange
    spy = ib_equity()
    config = SmaCrossConfig(
        instrument_id=spy.id,
        bar_type=BarType.from_str("SPY.ARCA-1-MINUTE-LAST-EXTERNAL"),
        fast_period=30,
        slow_period=10,
    )

    # Act / Assert
    with pytest.raises(ValueError, match="fast_period 30 must be less than slow_period 10"):
        SmaCross(config)
