"""Fetch one instrument × bar spec × session through an IBConnection and insist it is complete: the
session-level call the IB client tests drive (the pipeline fetches through the paced fetcher)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nautilus_trader.model.data import Bar

from ntrader_pipeline.ib.client import IBConnection
from ntrader_pipeline.ingest.completeness import complete_session
from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.sessions import TradingSession
from ntrader_pipeline.markets.universe import InstrumentSpec

if TYPE_CHECKING:
    from ntrader_pipeline.ib.client import IBConnection


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
