"""Long-only simple-moving-average crossover, decided on each bar's close."""

from __future__ import annotations

from nautilus_trader.config import PositiveInt
from nautilus_trader.core.correctness import PyCondition
from nautilus_trader.indicators import SimpleMovingAverage
from nautilus_trader.model.data import Bar

from ntrader_pipeline.strategies.long_only import LongOnlyConfig, LongOnlyStrategy, Signal


class SmaCrossConfig(LongOnlyConfig, frozen=True):
    """
    Configuration for ``SmaCross`` instances (plus the `LongOnlyConfig` fields).

    Parameters
    ----------
    fast_period : int, default 10
        The fast SMA period in bars; must be less than `slow_period`.
    slow_period : int, default 30
        The slow SMA period in bars.

    """

    fast_period: PositiveInt = 10
    slow_period: PositiveInt = 30


class SmaCross(LongOnlyStrategy):
    """
    Long-only SMA crossover.

    ENTER when the fast SMA crosses above the slow SMA, EXIT when it crosses below. A cross needs the
    previous bar's averages too, so the first signal can come one bar after both averages are warm.

    Raises
    ------
    ValueError
        If `config.fast_period` is not less than `config.slow_period`.

    """

    def __init__(self, config: SmaCrossConfig) -> None:
        PyCondition.is_true(
            config.fast_period < config.slow_period,
            f"fast_period {config.fast_period} must be less than slow_period {config.slow_period}",
        )
        super().__init__(config)
        self.fast_sma = SimpleMovingAverage(config.fast_period)
        self.slow_sma = SimpleMovingAverage(config.slow_period)
        # fast - slow on the previous warm bar; None until there is one
        self._previous_spread: float | None = None

    def indicators(self) -> list:
        return [self.fast_sma, self.slow_sma]

    def signal(self, bar: Bar) -> Signal | None:
        if not self.slow_sma.initialized:
            return None
        spread = self.fast_sma.value - self.slow_sma.value
        previous = self._previous_spread
        self._previous_spread = spread
        if previous is None:
            return None
        if previous <= 0.0 < spread:
            return Signal.ENTER
        if previous >= 0.0 > spread:
            return Signal.EXIT
        return None

    def on_reset(self) -> None:
        self.fast_sma.reset()
        self.slow_sma.reset()
        self._previous_spread = None
