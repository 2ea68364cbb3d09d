"""A bare BacktestEngine run of a declared backtest: the engine setup of `backtest.engine.run_backtest`
without its checks and frames. The baseline the benchmarks divide by (no Dagster import here, so a child
process measuring memory loads only what a backtest needs)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.data import Bar
from nautilus_trader.model.enums import AccountType, OmsType
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Money

from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.backtest.engine import TRADER_ID


def raw_engine_run(
    declaration: BacktestDeclaration, instrument: Instrument, bars: Sequence[Bar], instrument_id: str
) -> None:
    """The engine setup of `backtest.engine.run_backtest` for this declaration: no checks, no frames."""
    classes = declaration.strategy_classes()
    values = declaration.strategy_values(classes, instrument_id)
    costs, risk = declaration.costs, declaration.risk
    random.seed(costs.random_seed)
    engine = BacktestEngine(
        BacktestEngineConfig(
            trader_id=TraderId(TRADER_ID),
            risk_engine=risk.risk_engine_config(instrument_id),
            logging=LoggingConfig(log_level="ERROR"),
            run_analysis=False,
        )
    )
    engine.add_venue(
        venue=instrument.id.venue,
        oms_type=OmsType.NETTING,
        account_type=AccountType.CASH,
        starting_balances=[Money(declaration.starting_cash, instrument.quote_currency)],
        base_currency=instrument.quote_currency,
        fill_model=costs.fill_model(),
        fee_model=costs.fee_model(),
        bar_execution=True,
    )
    engine.add_instrument(instrument)
    engine.add_data(list(bars))
    engine.add_strategy(classes.build(values))
    engine.run()
    engine.dispose()
