"""Synthetic RTH 1-minute bars of one instrument written through the store: the history the catalog and
scale benchmarks read (`catalog_read.py`, `scale.py --only backtest`)."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
from nautilus_trader.core.datetime import dt_to_unix_nanos
from nautilus_trader.model.data import Bar, BarType

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import TradingSession

INSTRUMENT_ID = "SPY.ARCA"
BAR_TYPE = BarType.from_str(f"{INSTRUMENT_ID}-1-MINUTE-LAST-EXTERNAL")
MINUTE_NS = 60_000_000_000
FIRST_SESSION = dt.date(2016, 1, 4)


def session_bars(session: TradingSession, rng: np.random.Generator) -> list[Bar]:
    """A minute bar from the session's open to its close (390, 210 on a half day): a random walk in cents.
    Bars past a half day's close would fail the quality gate's `inside_session` rule."""
    count = session.minutes
    closes = np.round(200.0 + np.cumsum(rng.normal(0.0, 0.05, count)), 2)
    opens = np.concatenate(([closes[0]], closes[:-1]))
    highs = np.round(np.maximum(opens, closes) + 0.02, 2)
    lows = np.round(np.minimum(opens, closes) - 0.02, 2)
    volumes = rng.integers(100, 10_000, count).astype(np.float64)
    ts_event = dt_to_unix_nanos(session.open) + np.arange(count, dtype=np.uint64) * MINUTE_NS
    return Bar.from_raw_arrays_to_list(
        BAR_TYPE, 2, 0, opens, highs, lows, closes, volumes, ts_event, ts_event + np.uint64(MINUTE_NS)
    )


def write_month_layout(store: CatalogStore, sessions: list[TradingSession]) -> float:
    """Every session through `write_sessions_bars`, a month at a time; returns the seconds it took."""
    rng = np.random.default_rng(7)
    by_month: dict[tuple[int, int], dict[TradingSession, list[Bar]]] = {}
    for session in sessions:
        by_month.setdefault((session.date.year, session.date.month), {})[session] = session_bars(session, rng)
    started = time.perf_counter()
    for month in by_month.values():
        store.write_sessions_bars(BAR_TYPE, month)
    return time.perf_counter() - started
