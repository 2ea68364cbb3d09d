"""`SmaCross` through `backtest.engine.run_backtest`: fixed shares, IBKR fixed commissions (the defaults)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.trading.strategy import Strategy

from ntrader_pipeline.backtest.engine import run_backtest
from ntrader_pipeline.backtest.result import BacktestResult
from ntrader_pipeline.strategies.sma_cross import SmaCross, SmaCrossConfig


def run_sma_cross(
    instrument: Instrument,
    bars: Sequence[Bar],
    *,
    fast_period: int = 2,
    slow_period: int = 4,
    trade_size: int = 100,
    starting_cash: float = 100_000.0,
) -> BacktestResult:
    def build(bar_type: BarType) -> Strategy:
        return SmaCross(
            SmaCrossConfig(
                instrument_id=instrument.id,
                bar_type=bar_type,
                fast_period=fast_period,
                slow_period=slow_period,
                trade_size=Decimal(trade_size),
            )
        )

    return run_backtest(instrument, bars, build, starting_cash)
