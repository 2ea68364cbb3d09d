"""Deterministic instruments and bars for backtest tests: IB-shaped equity, 1-minute LAST bars."""

from __future__ import annotations

from collections.abc import Sequence

from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.identifiers import InstrumentId, Symbol
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import Price, Quantity

MINUTE_NS = 60_000_000_000
SESSION_OPEN_NS = 1_704_205_800_000_000_000  # 2024-01-02 14:30 UTC


def ib_equity(symbol: str = "SPY", exchange: str = "ARCA", isin: str = "US78462F1030") -> Equity:
    """An equity as the IB adapter builds it: SYMBOL.PRIMARYEXCHANGE, cents, lot size 1."""
    return Equity(
        instrument_id=InstrumentId.from_str(f"{symbol}.{exchange}"),
        raw_symbol=Symbol(symbol),
        currency=USD,
        price_precision=2,
        price_increment=Price.from_str("0.01"),
        lot_size=Quantity.from_int(1),
        isin=isin,
        ts_event=0,
        ts_init=0,
    )


def minute_bars(
    instrument: Equity, closes: Sequence[float], volumes: Sequence[int] | None = None
) -> list[Bar]:
    """Bars whose open is the previous close and whose range is close ± 0.50; `ts_init` = bar close."""
    bar_type = BarType.from_str(f"{instrument.id}-1-MINUTE-LAST-EXTERNAL")
    volumes = volumes if volumes is not None else [100_000] * len(closes)
    bars = []
    previous_close = closes[0]
    for i, (close, volume) in enumerate(zip(closes, volumes, strict=True)):
        open_ = previous_close
        bars.append(
            Bar(
                bar_type=bar_type,
                open=Price(open_, 2),
                high=Price(max(open_, close) + 0.5, 2),
                low=Price(min(open_, close) - 0.5, 2),
                close=Price(close, 2),
                volume=Quantity(volume, 0),
                ts_event=SESSION_OPEN_NS + i * MINUTE_NS,
                ts_init=SESSION_OPEN_NS + (i + 1) * MINUTE_NS,
            )
        )
        previous_close = close
    return bars


# With fast=2/slow=4: the averages are warm at bar 3; fast crosses above slow at bar 4 (buy at 11.00),
# below at bar 8 (sell at 11.00); at bar 12 the averages only touch (9.5 = 9.5), which is no cross;
# they cross above at bar 13 (buy at 11.00), and that position is still open after the last bar (12.00).
CROSSING_CLOSES: tuple[float, ...] = (10, 10, 10, 10, 11, 12, 13, 12, 11, 10, 9, 9, 10, 11, 12)
