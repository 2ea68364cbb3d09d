"""The Nautilus instrument for bars from files: built from the file source alone, no IB lookup."""

from __future__ import annotations

from nautilus_trader.model.identifiers import InstrumentId, Symbol
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import Currency, Price, Quantity

from ntrader_pipeline.markets.file_source import FileSource


def file_instrument(symbol: str, source: FileSource) -> Equity:
    """SYMBOL.VENUE at the source's price increment and lot size.

    Timestamps are 0 so the definition is the same on every run and the catalog stores it once.
    """
    precision = source.price_precision
    return Equity(
        instrument_id=InstrumentId.from_str(f"{symbol}.{source.venue}"),
        raw_symbol=Symbol(symbol),
        currency=Currency.from_str(source.currency, strict=True),
        price_precision=precision,
        price_increment=Price(source.price_increment, precision),
        lot_size=Quantity(source.lot_size, 0),
        ts_event=0,
        ts_init=0,
    )
