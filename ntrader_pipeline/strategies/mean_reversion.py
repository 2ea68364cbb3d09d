"""Long-only Bollinger mean reversion on closes: buy a stretch below the mean, sell at the mean."""

from __future__ import annotations

import math
from collections import deque

from nautilus_trader.config import PositiveFloat, PositiveInt
from nautilus_trader.model.data import Bar

from ntrader_pipeline.strategies.long_only import LongOnlyConfig, LongOnlyStrategy, Signal


class MeanReversionConfig(LongOnlyConfig, frozen=True):
    """
    Configuration for ``MeanReversion`` instances (plus the `LongOnlyConfig` fields).

    Parameters
    ----------
    period : int, default 20
        Bars in the rolling window of closes (mean and population standard deviation); at least 2.
    entry_z : float, default 2.0
        Enter when the close is more than `entry_z` standard deviations below the mean (z < -entry_z).
    exit_z : float, default 0.0
        Exit when the close's z-score is at or above `exit_z` (0 = back at the mean).

    """

    period: PositiveInt = 20
    entry_z: PositiveFloat = 2.0
    exit_z: float = 0.0


class MeanReversion(LongOnlyStrategy):
    """
    z = (close - mean) / std over the last `period` closes, this bar's included.

    ENTER when z < -entry_z, EXIT when z >= exit_z. A window with zero deviation gives no signal.
    """

    def __init__(self, config: MeanReversionConfig) -> None:
        if config.period < 2:
            raise ValueError(f"period {config.period} must be at least 2 (a deviation needs two closes)")
        if config.exit_z <= -config.entry_z:
            raise ValueError(f"exit_z {config.exit_z} must be above -entry_z {-config.entry_z}")
        super().__init__(config)
        self._closes: deque[float] = deque(maxlen=config.period)

    def signal(self, bar: Bar) -> Signal | None:
        closes = self._closes
        closes.append(bar.close.as_double())
        if len(closes) < self.config.period:
            return None
        mean = math.fsum(closes) / len(closes)
        std = math.sqrt(math.fsum((c - mean) ** 2 for c in closes) / len(closes))
        if std == 0.0:
            return None
        z = (closes[-1] - mean) / std
        if z < -self.config.entry_z:
            return Signal.ENTER
        if z >= self.config.exit_z:
            return Signal.EXIT
        return None

    def on_reset(self) -> None:
        self._closes.clear()
