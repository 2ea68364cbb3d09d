"""Minute bars for any session, and a writer of the previous one-file-per-session layout (for the
conversion tests and the benchmark's before/after)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nautilus_trader.core.datetime import dt_to_unix_nanos
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.persistence.catalog.parquet import _timestamps_to_filename

from ntrader_pipeline.catalog.store import CatalogStore, session_bounds_ns
from ntrader_pipeline.markets.sessions import TradingSession

MINUTE_NS = 60_000_000_000


def session_minute_bars(
    bar_type: BarType, session: TradingSession, count: int, base: float = 100.0
) -> list[Bar]:
    """`count` one-minute bars from the session's open (`ts_init` = bar close); prices depend on `base`
    and the bar's position, so two calls with different bases give different rows."""
    open_ns = dt_to_unix_nanos(session.open)
    bars = []
    for i in range(count):
        close = round(base + (i % 13) * 0.01, 2)
        bars.append(
            Bar(
                bar_type,
                Price(close - 0.01, 2),
                Price(close + 0.05, 2),
                Price(close - 0.05, 2),
                Price(close, 2),
                Quantity(1_000 + i, 0),
                open_ns + i * MINUTE_NS,
                open_ns + (i + 1) * MINUTE_NS,
            )
        )
    return bars


def write_session_layout(
    store: CatalogStore, bar_type: BarType, session: TradingSession, bars: Sequence[Bar]
) -> Path:
    """One file named by the session's UTC day bounds, written by Nautilus as the catalog wrote them
    before month files."""
    start, end = session_bounds_ns(session)
    store.catalog.write_data(list(bars), start=start, end=end, skip_disjoint_check=True)
    return store.bar_directory(bar_type) / _timestamps_to_filename(start, end)
