"""Fetch one instrument × bar spec × session from IB and insist it is complete.

The IB client cannot tell "no data" from a failure, so completeness is judged here against the
exchange calendar: the session's bars are returned only when every expected bar arrived.
"""

from __future__ import annotations

from nautilus_trader.model.data import Bar

from ntrader_pipeline.ingest.errors import IncompleteSessionError
from ntrader_pipeline.ingest.ib_connection import IBConnection
from ntrader_pipeline.markets.sessions import TradingSession
from ntrader_pipeline.markets.universe import BarSpec, InstrumentSpec
from ntrader_pipeline.quality.session_quality import session_window


def fetch_session_bars(
    connection: IBConnection, spec: InstrumentSpec, bar_spec: BarSpec, session: TradingSession
) -> list[Bar]:
    """Every bar of the session, in time order; raises IncompleteSessionError otherwise."""
    # "1 D" ending at the close is exactly one trading session in IB's counting.
    end_utc = session.close.replace(tzinfo=None)
    received, errors = connection.fetch_bars(spec, bar_spec, end_utc, "1 D")
    start, end = session_window(session, bar_spec)
    start_ns, end_ns = int(start.timestamp() * 1e9), int(end.timestamp() * 1e9)
    bars = sorted(
        (b for b in received if start_ns <= b.ts_event and b.ts_init <= end_ns), key=lambda b: b.ts_init
    )
    expected = session.expected_bar_count(bar_spec.step, bar_spec.aggregation)
    if len(bars) != expected:
        said = "; ".join(str(e) for e in errors) or "no error message from the gateway"
        raise IncompleteSessionError(
            f"{spec.instrument_id} {bar_spec} session {session.key}: expected {expected} bars, received "
            f"{len(bars)} ({len(received)} in the response) — {said}. Nothing was written for this session; "
            f"re-materialize the partition once the gateway at {connection.address} serves it."
        )
    return bars
