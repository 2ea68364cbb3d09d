"""Fetch one instrument × bar spec × session from IB and insist it is complete.

The IB client cannot tell "no data" from a failure, so completeness is judged against the exchange
calendar: the session's bars are returned only when every expected bar arrived.
"""

from __future__ import annotations

from nautilus_trader.model.data import Bar

from ntrader_pipeline.ib.client import IBConnection
from ntrader_pipeline.ingest.completeness import complete_session
from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.sessions import TradingSession
from ntrader_pipeline.markets.universe import InstrumentSpec


def fetch_session_bars(
    connection: IBConnection, spec: InstrumentSpec, bar_spec: BarSpec, session: TradingSession
) -> list[Bar]:
    """Every bar of the session, in time order; raises IncompleteSessionError otherwise."""
    # "1 D" ending at the close is exactly one trading session in IB's counting.
    received, errors = connection.fetch_bars(spec, bar_spec, session.close.replace(tzinfo=None), "1 D")
    return complete_session(
        received,
        spec.instrument_id,
        bar_spec,
        session,
        cause="; ".join(str(e) for e in errors) or "no error message from the gateway",
        remedy=f"re-materialize the partition once the gateway at {connection.address} serves it",
    )
