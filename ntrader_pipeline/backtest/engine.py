"""Run a strategy on one instrument's bars with Nautilus' low-level `BacktestEngine`.

Fill timing: the strategy decides on a bar's close, and its market order fills at that same bar's close
(same `ts`): with `bar_execution` the venue has already moved its simulated book through the bar's
open/high/low/close before the strategy sees the bar. If the order exceeds a quarter of the bar's volume
(the simulated top-of-book size), the rest fills one tick worse.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import polars as pl
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import Currency
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.enums import AccountType, OmsType, OrderStatus
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Money
from nautilus_trader.trading.strategy import Strategy

from ntrader_pipeline.backtest.costs import Costs, RiskCaps
from ntrader_pipeline.backtest.extract import bar_closes_frame, fills_frame
from ntrader_pipeline.backtest.result import BacktestResult
from ntrader_pipeline.backtest.result_frames import equity_frame, trades_frame

__all__ = ["BacktestResult", "run_backtest"]

TRADER_ID = "BACKTESTER-001"


def run_backtest(
    instrument: Instrument,
    bars: Sequence[Bar],
    build_strategy: Callable[[BarType], Strategy],
    starting_cash: float,
    costs: Costs | None = None,
    risk: RiskCaps | None = None,
) -> BacktestResult:
    """
    Backtest one strategy on `bars` of `instrument` in a CASH account.

    Parameters
    ----------
    instrument : Instrument
        The traded instrument; its venue becomes the simulated venue and its quote currency the account
        currency.
    bars : Sequence[Bar]
        Externally aggregated bars of a single bar type for `instrument` (e.g. IB 1-minute LAST bars).
    build_strategy : Callable[[BarType], Strategy]
        Makes the strategy for the bars' type (called once).
    starting_cash : float
        Opening cash, in the quote currency.
    costs, risk : Costs, RiskCaps, optional
        Commission/slippage and pre-trade caps; defaults: IBKR fixed, no slippage, no caps.

    Raises
    ------
    ValueError
        If `bars` is empty, mixes bar types, belongs to another instrument, or its precision differs
        from the instrument's.

    """
    costs = costs or Costs()
    risk = risk or RiskCaps()
    bar_type = _single_bar_type(instrument, bars)
    currency: Currency = instrument.quote_currency
    starting_balance = Money(starting_cash, currency)

    # The fill model draws from Python's global `random` during the run: seed it for this run only,
    # so a rerun makes the same draws whatever ran before, and the caller's generator is untouched.
    with _global_random_seeded(costs.random_seed):
        engine = BacktestEngine(_engine_config(risk, str(instrument.id)))
        try:
            engine.add_venue(
                venue=instrument.id.venue,
                oms_type=OmsType.NETTING,
                account_type=AccountType.CASH,
                starting_balances=[starting_balance],
                base_currency=currency,
                fill_model=costs.fill_model(),
                fee_model=costs.fee_model(),
                bar_execution=True,
            )
            engine.add_instrument(instrument)
            engine.add_data(list(bars))
            engine.add_strategy(build_strategy(bar_type))
            engine.run()

            orders = engine.cache.orders(instrument_id=instrument.id)
            fills = fills_frame(orders)
            denied = sum(1 for order in orders if order.status == OrderStatus.DENIED)
            account = engine.cache.account_for_venue(instrument.id.venue)
            # via Decimal: as_double() of 98896.10 USD is 98896.09999999999
            account_balance = float(account.balance_total(currency).as_decimal())
            engine_position = float(engine.portfolio.net_position(instrument.id))
        finally:
            engine.dispose()

    starting_cash = float(starting_balance.as_decimal())
    equity = equity_frame(bar_closes_frame(bars), fills, starting_cash, currency.precision)
    _check_matches_engine(equity, account_balance, engine_position, str(instrument.id))
    return BacktestResult(
        equity=equity,
        fills=fills,
        trades=trades_frame(fills, currency.precision),
        instrument_id=str(instrument.id),
        bar_type=str(bar_type),
        starting_cash=starting_cash,
        bar_count=len(bars),
        account_balance=account_balance,
        orders_denied=denied,
    )


def _engine_config(risk: RiskCaps, instrument_id: str) -> BacktestEngineConfig:
    return BacktestEngineConfig(
        trader_id=TraderId(TRADER_ID),
        risk_engine=risk.risk_engine_config(instrument_id),
        # Errors still reach stdout; the per-order INFO chatter would dominate the run log.
        logging=LoggingConfig(log_level="ERROR"),
        # PortfolioAnalyzer is quadratic in bars; metrics come from the equity frame instead.
        run_analysis=False,
    )


def _single_bar_type(instrument: Instrument, bars: Sequence[Bar]) -> BarType:
    """The one bar type of `bars`, after checking they can drive a backtest of `instrument`."""
    if len(bars) == 0:
        raise ValueError(f"no bars to backtest for {instrument.id}; load or fetch its bars first")
    bar_types = {bar.bar_type for bar in bars}
    if len(bar_types) > 1:
        names = ", ".join(sorted(str(bt) for bt in bar_types))
        raise ValueError(f"bars for {instrument.id} mix bar types ({names}); pass one bar type per run")
    (bar_type,) = bar_types
    if bar_type.instrument_id != instrument.id:
        raise ValueError(
            f"bars are for {bar_type.instrument_id}, not {instrument.id}; "
            f"pass the instrument the bars were fetched for"
        )
    first = bars[0]
    if first.close.precision != instrument.price_precision or (
        first.volume.precision != instrument.size_precision
    ):
        raise ValueError(
            f"bars for {instrument.id} have price/size precision "
            f"{first.close.precision}/{first.volume.precision}, the instrument "
            f"{instrument.price_precision}/{instrument.size_precision}; rebuild the bars from the instrument"
        )
    return bar_type


def _check_matches_engine(
    equity: pl.DataFrame, account_balance: float, engine_position: float, instrument_id: str
) -> None:
    """Guard the vectorized curve against the engine's own books (cheap; catches a misread fill)."""
    last = equity.row(-1, named=True)
    if last["cash"] != account_balance or abs(last["position_qty"] - engine_position) > 1e-9:
        raise RuntimeError(
            f"backtest of {instrument_id}: reconstructed cash/position {last['cash']}/{last['position_qty']} "
            f"differ from the engine's {account_balance}/{engine_position}; fill extraction is broken"
        )


@contextmanager
def _global_random_seeded(seed: int) -> Iterator[None]:
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)
