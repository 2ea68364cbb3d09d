"""Long-only momentum: N-bar rate of change of the close, in above a threshold, out when it turns."""

from __future__ import annotations

from collections import deque

from nautilus_trader.config import NonNegativeFloat, PositiveInt
from nautilus_trader.model.data import Bar

from ntrader_pipeline.strategies.long_only import LongOnlyConfig, LongOnlyStrategy, Signal


class MomentumConfig(LongOnlyConfig, frozen=True):
    """
    Configuration for ``Momentum`` instances (plus the `LongOnlyConfig` fields).

    Parameters
    ----------
    lookback : int, default 30
        N: the rate of change compares this close with the close N bars earlier.
    entry_roc : float, default 0.002
        Enter when the rate of change is above this fraction (0.002 = +0.2%).
    exit_roc : float, default 0.0
        Exit when the rate of change is at or below minus this fraction (0 = momentum gone).

    """

    lookback: PositiveInt = 30
    entry_roc: NonNegativeFloat = 0.002
    exit_roc: NonNegativeFloat = 0.0


class Momentum(LongOnlyStrategy):
    """roc = close / close[N bars ago] - 1. ENTER when roc > entry_roc, EXIT when roc <= -exit_roc."""

    def __init__(self, config: MomentumConfig) -> None:
        super().__init__(config)
        self._closes: deque[float] = deque(maxlen=config.lookback + 1)

    def signal(self, bar: Bar) -> Signal | None:
        closes = self._closes
        closes.append(bar.close.as_double())
        if len(closes) <= self.config.lookback:
            return None
        roc = closes[-1] / closes[0] - 1.0
        if roc > self.config.entry_roc:
            return Signal.ENTER
        if roc <= -self.config.exit_roc:
            return Signal.EXIT
        return None

    def on_reset(self) -> None:
        self._closes.clear()
