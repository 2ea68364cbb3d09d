"""The frame every packaged strategy shares: long only, one decision per bar close, sized entries.

A subclass only says what a bar means (`signal`): ENTER, EXIT or nothing. The base class subscribes,
sizes the entry from the account's cash and equity, and buys or closes at market.
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import Bar, BarType, TradeTick
from nautilus_trader.model.enums import AggressorSide, OrderSide, TimeInForce
from nautilus_trader.model.identifiers import InstrumentId, TradeId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.trading.strategy import Strategy

from ntrader_pipeline.strategies.sizing import Sizing, entry_quantity


class Signal(Enum):
    ENTER = "enter"
    EXIT = "exit"


class LongOnlyConfig(StrategyConfig, frozen=True):
    """
    Fields every long-only strategy config has.

    Parameters
    ----------
    instrument_id : InstrumentId
        The instrument to trade.
    bar_type : BarType
        The bars that drive the decisions.
    sizing : str, default "fixed_shares"
        "fixed_shares", "fixed_notional" or "percent_of_equity" (see `strategies.sizing`).
    trade_size : Decimal, default 100
        Shares, quote-currency notional, or percent of equity, as `sizing` says.
    max_gross_exposure : Decimal, optional
        Position value cap as a multiple of equity (1 = fully invested); None = only cash limits it.
    trade_from : int, optional
        UNIX nanoseconds: bars before it only warm the strategy up (indicators, windows, signal state)
        and place no order; None = trade from the first bar. Walk-forward's out-of-sample runs set it.

    """

    instrument_id: InstrumentId
    bar_type: BarType
    sizing: str = Sizing.FIXED_SHARES.value
    trade_size: Decimal = Decimal(100)
    max_gross_exposure: Decimal | None = None
    trade_from: int | None = None


class LongOnlyStrategy(Strategy):
    """Subscribe to `config.bar_type`; on each bar buy when flat and `signal` says ENTER, sell all when
    long and it says EXIT. A position still open at the end stays open: the equity curve marks it."""

    def __init__(self, config: LongOnlyConfig) -> None:
        Sizing(config.sizing)  # an unknown sizing fails at construction, not at the first entry
        super().__init__(config)
        self.instrument: Instrument | None = None

    def indicators(self) -> list:
        """Nautilus indicators to register for the bars (updated before `on_bar`)."""
        return []

    def signal(self, bar: Bar) -> Signal | None:
        """The decision at this bar's close; called on every bar so state can update."""
        raise NotImplementedError

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.config.instrument_id)
        if self.instrument is None:
            self.log.error(f"Could not find instrument for {self.config.instrument_id}")
            self.stop()
            return
        for indicator in self.indicators():
            self.register_indicator_for_bars(self.config.bar_type, indicator)
        self.subscribe_bars(self.config.bar_type)

    def on_bar(self, bar: Bar) -> None:
        signal = self.signal(bar)  # every bar, so a warm-up bar still updates the signal's state
        if signal is None or not self.trading_at(bar.ts_init):
            return
        instrument_id = self.config.instrument_id
        if signal is Signal.ENTER and self.portfolio.is_flat(instrument_id):
            self._publish_close_as_trade(bar)
            self._enter(bar)
        elif signal is Signal.EXIT and self.portfolio.is_net_long(instrument_id):
            self.close_all_positions(instrument_id)

    def trading_at(self, ts: int) -> bool:
        """Whether a decision at `ts` (ns) may place orders: not during the `trade_from` warm-up."""
        return self.config.trade_from is None or ts >= self.config.trade_from

    def on_stop(self) -> None:
        self.unsubscribe_bars(self.config.bar_type)

    def _publish_close_as_trade(self, bar: Bar) -> None:
        # The risk engine prices a MARKET order from the cached last quote or trade and skips its
        # notional checks (per-order cap, cash balance) when there is none, as on bar-only data. The bar
        # close is the price this decision was made at, so it goes into the cache as the last trade.
        tick = TradeTick(
            instrument_id=self.config.instrument_id,
            price=bar.close,
            size=bar.volume if bar.volume.as_double() > 0 else self.instrument.make_qty(1),
            aggressor_side=AggressorSide.NO_AGGRESSOR,
            trade_id=TradeId(f"bar-close-{bar.ts_init}"),
            ts_event=bar.ts_init,
            ts_init=bar.ts_init,
        )
        self.cache.add_trade_tick(tick)

    def _enter(self, bar: Bar) -> None:
        assert self.instrument is not None  # set in on_start before any bar arrives
        account = self.portfolio.account(self.config.instrument_id.venue)
        currency = self.instrument.quote_currency
        free = account.balance_free(currency) if account is not None else None
        cash = free.as_decimal() if free is not None else Decimal(0)
        # Flat when entering, so equity is the cash balance.
        quantity = entry_quantity(
            self.config.sizing,
            Decimal(self.config.trade_size),
            bar.close.as_decimal(),
            cash,
            cash,
            None if self.config.max_gross_exposure is None else Decimal(self.config.max_gross_exposure),
        )
        if quantity <= 0:
            return
        order = self.order_factory.market(
            instrument_id=self.config.instrument_id,
            order_side=OrderSide.BUY,
            quantity=self.instrument.make_qty(quantity),
            time_in_force=TimeInForce.GTC,
        )
        self.submit_order(order)
