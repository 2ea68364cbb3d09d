"""How a run's sessions become the fewest requests IB allows: a session of intraday bars per request (IB's
step-size table allows `1 D` for 1-minute bars; docs/how-to/backfill-at-scale.md says why not more), a
year of daily stock bars per request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.sessions import TradingSession
from ntrader_pipeline.markets.universe import InstrumentSpec


def request_groups(
    spec: InstrumentSpec, bar_spec: BarSpec, sessions: Sequence[TradingSession]
) -> list[list[TradingSession]]:
    """The sessions as the fewest requests IB allows fetch them: one "1 D" request per intraday session
    (IB's step-size table allows 1 D for 1-minute bars: docs/how-to/backfill-at-scale.md), one "1 Y"
    request per year of daily stock sessions."""
    if bar_spec.is_intraday or not yearly_requests_fit(spec):
        return [[session] for session in sessions]
    return list(_year_chunks(sorted(sessions, key=lambda s: s.date)))


def yearly_requests_fit(spec: InstrumentSpec) -> bool:
    """Daily stock bars are asked for a year of sessions at a time. An adjusted series is served only up
    to now (see ib/requests.py), so its request reaches from now back over the year: still one request
    per year, not one per session. Continuous futures keep one request per session."""
    return spec.sec_type == "STK"


def _year_chunks(sessions: list[TradingSession]) -> Iterator[list[TradingSession]]:
    """Runs of sessions that one "1 Y" request ending at the run's last close covers."""
    chunk: list[TradingSession] = []
    for session in sessions:
        if chunk and not _within_a_year(chunk[0].date, session.date):
            yield chunk
            chunk = []
        chunk.append(session)
    if chunk:
        yield chunk


def _within_a_year(first: dt.date, last: dt.date) -> bool:
    try:
        year_before = last.replace(year=last.year - 1)
    except ValueError:  # 29 February
        year_before = last.replace(year=last.year - 1, day=28)
    return first > year_before
