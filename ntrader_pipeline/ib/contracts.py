"""Universe entries as IB contracts, and IB's instruments under the universe's ids.

Kept apart from the connection so that the request builders (`ib/requests.py`) and benchmarks can name a
contract without a connection.
"""

from __future__ import annotations

from typing import Any

from nautilus_trader.adapters.interactive_brokers.common import IBContract
from nautilus_trader.model.instruments import Instrument

from ntrader_pipeline.markets.universe import InstrumentSpec


def contract_for(spec: InstrumentSpec) -> IBContract:
    """The IB contract of a universe entry: STK SMART + primary exchange; CASH on IDEALPRO; FUT with its
    contract month (and multiplier when given); CONTFUT by root symbol and exchange."""
    fields: dict[str, Any] = {
        "secType": spec.sec_type,
        "symbol": spec.symbol,
        "exchange": spec.exchange,
        "currency": spec.currency,
    }
    if spec.sec_type == "STK":
        fields["primaryExchange"] = spec.primary_exchange
    if spec.last_trade_date_or_contract_month:
        fields["lastTradeDateOrContractMonth"] = spec.last_trade_date_or_contract_month
    if spec.sec_type == "FUT":
        # Nautilus names a future's bars from its localSymbol (ESH4); without it request_bars raises.
        fields["localSymbol"] = spec.ib_instrument_id.rpartition(".")[0]
    if spec.multiplier:
        fields["multiplier"] = spec.multiplier
    return IBContract(**fields)


def as_universe_instrument(spec: InstrumentSpec, instrument: Instrument) -> Instrument:
    """The definition under the universe's id: for an adjusted series a copy named SYMBOL-ADJ.VENUE."""
    if instrument.id.value == spec.instrument_id:
        return instrument
    as_dict = type(instrument).to_dict(instrument)
    as_dict["id"] = spec.instrument_id
    return type(instrument).from_dict(as_dict)
