"""A session is stored only when complete: every bar the exchange calendar says it has."""

from __future__ import annotations

from collections.abc import Sequence

from nautilus_trader.model.data import Bar

from ntrader_pipeline.ingest.errors import IncompleteSessionError
from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.sessions import TradingSession, session_window


def complete_session(
    received: Sequence[Bar],
    instrument_id: str,
    spec: BarSpec,
    session: TradingSession,
    *,
    cause: str,
    remedy: str,
) -> list[Bar]:
    """The session's bars in time order, or IncompleteSessionError naming what is missing and why.

    Bars outside the session's window are dropped first: IB neither trims nor de-duplicates ranges.
    """
    start, end = session_window(session, spec)
    start_ns, end_ns = int(start.timestamp() * 1e9), int(end.timestamp() * 1e9)
    bars = sorted(
        (b for b in received if start_ns <= b.ts_event and b.ts_init <= end_ns), key=lambda b: b.ts_init
    )
    expected = session.expected_bar_count(spec.step, spec.aggregation)
    if len(bars) != expected:
        raise IncompleteSessionError(
            f"{instrument_id} {spec} session {session.key}: expected {expected} bars, received {len(bars)} "
            f"({len(received)} delivered) — {cause}. Nothing was written for this session; {remedy}."
        )
    return bars
