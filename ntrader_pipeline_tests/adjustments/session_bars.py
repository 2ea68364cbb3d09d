"""Crafted minute bars of whole sessions, for quality, gate and corporate-action tests."""

from __future__ import annotations

from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.objects import Price, Quantity

from ntrader_pipeline.markets.sessions import TradingSession

MINUTE_NS = 60_000_000_000


def session_minutes(
    bar_type: BarType, session: TradingSession, level: float, volume: int = 1000
) -> list[Bar]:
    """Every minute of the session around `level` (±0.3 %); the caller drops minutes to make gaps."""
    open_ns = int(session.open.timestamp() * 1e9)
    bars = []
    for i in range(session.minutes):
        price = level * (1 + 0.001 * ((i % 7) - 3))  # wiggle, so a strategy has crosses to trade
        bars.append(
            Bar(
                bar_type,
                Price(price, 2),
                Price(price * 1.0005, 2),
                Price(price * 0.9995, 2),
                Price(price, 2),
                Quantity(volume, 0),
                open_ns + i * MINUTE_NS,
                open_ns + (i + 1) * MINUTE_NS,
            )
        )
    return bars
