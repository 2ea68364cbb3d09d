"""Long-only simple-moving-average crossover, decided on each bar's close."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.config import PositiveInt, StrategyConfig
from nautilus_trader.core.correctness import PyCondition
from nautilus_trader.indicators import SimpleMovingAverage
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.enums import OrderSide, TimeInForce
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.trading.strategy import Strategy


class SmaCrossConfig(StrategyConfig, frozen=True):
    """
    Configuration for ``SmaCross`` instances.

    Parameters
    ----------
    instrument_id : InstrumentId
        The instrument to trade.
    bar_type : BarType
        The bars that feed the averages and drive the decisions.
    fast_period : int, default 10
        The fast SMA period in bars; must be less than `slow_period`.
    slow_period : int, default 30
        The slow SMA period in bars.
    trade_size : Decimal, default 100
        The number of shares bought on each entry.

    """

    instrument_id: InstrumentId
    bar_type: BarType
    fast_period: PositiveInt = 10
    slow_period: PositiveInt = 30
    trade_size: Decimal = Decimal(100)


class SmaCross(Strategy):
    """
    Long-only SMA crossover.

    On each bar close: when flat and the fast SMA crosses above the slow SMA, buy `trade_size` at market;
    when long and the fast SMA crosses below the slow SMA, sell the position at market. A cross needs the
    previous bar's averages too, so the first signal can come one bar after both averages are warm.

    A position still open when the backtest ends is left open: closing it in `on_stop` would trade at a
    price no bar close decided, and the runner's equity curve already marks it to market.

    Parameters
    ----------
    config : SmaCrossConfig
        The configuration for the instance.

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
        self.instrument: Instrument | None = None
        self.fast_sma = SimpleMovingAverage(config.fast_period)
        self.slow_sma = SimpleMovingAverage(config.slow_period)
        # fast - slow on the previous warm bar; None until there is one
        self._previous_spread: float | None = None

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.config.instrument_id)
        if self.instrument is None:
            self.log.error(f"Could not find instrument for {self.config.instrument_id}")
            self.stop()
            return
        self.register_indicator_for_bars(self.config.bar_type, self.fast_sma)
        self.register_indicator_for_bars(self.config.bar_type, self.slow_sma)
        self.subscribe_bars(self.config.bar_type)

    def on_bar(self, bar: Bar) -> None:
        if not self.indicators_initialized():
            return
        spread = self.fast_sma.value - self.slow_sma.value
        previous = self._previous_spread
        self._previous_spread = spread
        if previous is None:
            return
        instrument_id = self.config.instrument_id
        if previous <= 0.0 < spread and self.portfolio.is_flat(instrument_id):
            self._submit_market(OrderSide.BUY)
        elif previous >= 0.0 > spread and self.portfolio.is_net_long(instrument_id):
            self.close_all_positions(instrument_id)

    def on_stop(self) -> None:
        # Positions stay open on purpose (see class docstring); only unsubscribe.
        self.unsubscribe_bars(self.config.bar_type)

    def on_reset(self) -> None:
        self.fast_sma.reset()
        self.slow_sma.reset()
        self._previous_spread = None

    def _submit_market(self, side: OrderSide) -> None:
        assert self.instrument is not None  # set in on_start before any bar arrives
        order = self.order_factory.market(
            instrument_id=self.config.instrument_id,
            order_side=side,
            quantity=self.instrument.make_qty(self.config.trade_size),
            time_in_force=TimeInForce.GTC,
        )
        self.submit_order(order)
