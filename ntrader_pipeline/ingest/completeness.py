"""When a session may be stored, and how many of its bars are there.

Two rules, for two kinds of source:

- IB (`answered_session`): a session is stored when IB *answered a request covering the whole session*
  without an error — the request ran to its end message on a live connection — even when minutes are
  missing. IB sends no TRADES bar for a minute without a trade (illiquid stocks, late opens, halts), so a
  sparse session is IB's final word, not a fault. An answer cut off by a dropped socket, a timeout or an
  error is refused (and retried by the fetcher). Bars are never fabricated for missing minutes.
- Files (`complete_session`): a session is stored only with every bar the exchange calendar expects.

`SessionCoverage` says how many bars the calendar expects, how many are present and the longest run of
missing bars; ingest records it per session and the gaps quality rule reads it back from stored bars.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from nautilus_trader.model.data import Bar

from ntrader_pipeline.ingest.errors import IncompleteSessionError, SessionNotClosedError
from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE, TradingSession, session_window

_STEP_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600}


@dataclass(frozen=True, slots=True)
class SessionCoverage:
    """Bars the calendar expects for a session against the bars present (never filled in)."""

    expected: int
    present: int
    longest_gap: int = 0  # the longest run of consecutive missing bars

    @property
    def missing(self) -> int:
        return max(0, self.expected - self.present)

    @property
    def missing_fraction(self) -> float:
        return self.missing / self.expected if self.expected else 0.0

    @property
    def is_full(self) -> bool:
        return self.missing == 0

    def describe(self) -> str:
        if self.is_full:
            return f"all {self.expected} bars"
        return (
            f"{self.present} of {self.expected} bars ({self.missing} missing, "
            f"{self.missing_fraction:.1%}; longest gap {self.longest_gap})"
        )


def session_bars(received: Sequence[Bar], spec: BarSpec, session: TradingSession) -> list[Bar]:
    """The received bars that lie in the session's window, in time order, one per timestamp.

    IB neither trims nor de-duplicates ranges, so bars outside the window are dropped first."""
    start, end = session_window(session, spec)
    start_ns, end_ns = int(start.timestamp() * 1e9), int(end.timestamp() * 1e9)
    by_close = {b.ts_init: b for b in received if start_ns <= b.ts_event and b.ts_init <= end_ns}
    return [by_close[ts] for ts in sorted(by_close)]


def coverage(closes_ns: Sequence[int], spec: BarSpec, session: TradingSession) -> SessionCoverage:
    """Expected vs present bars from the bars' close timestamps (`ts_init`, ns since the epoch, UTC).

    Bar k of the session closes in (open + k·step, open + (k+1)·step]; by its close, a partial first or
    last bar (hourly bars from 09:30, stamped at the clock hour) lands in its own slot."""
    expected = session.expected_bar_count(spec.step, spec.aggregation)
    if not spec.is_intraday:
        return SessionCoverage(expected, min(len(closes_ns), expected), 0 if closes_ns else expected)
    step_ns = spec.step * _STEP_SECONDS[spec.aggregation.upper()] * 1_000_000_000
    open_ns = int(session.open.timestamp() * 1e9)
    slots = sorted(
        {-(-(ts - open_ns) // step_ns) - 1 for ts in closes_ns if 0 < ts - open_ns <= expected * step_ns}
    )
    slots = [s for s in slots if s < expected]
    longest, previous = 0, -1
    for slot in [*slots, expected]:  # `expected` closes the gap after the last bar
        longest = max(longest, slot - previous - 1)
        previous = slot
    return SessionCoverage(expected, len(slots), longest)


def bars_coverage(bars: Sequence[Bar], spec: BarSpec, session: TradingSession) -> SessionCoverage:
    return coverage([b.ts_init for b in bars], spec, session)


def answered_session(
    received: Sequence[Bar],
    instrument_id: str,
    spec: BarSpec,
    session: TradingSession,
    *,
    interrupted: str | None,
    cause: str,
    remedy: str,
) -> tuple[list[Bar], SessionCoverage]:
    """The session's bars and their coverage when IB answered the whole session; IncompleteSessionError
    when the answer was cut off.

    `interrupted` is None when the request ran to its end on a live connection with no error about it
    (the caller asked for a range covering the whole session), else why it did not. An answer with no
    bar in the session and no word from IB is a cut-off too: IB answers an empty range with its "HMDS
    query returned no data" error, and a client that timed out returns nothing.
    """
    bars = session_bars(received, spec, session)
    found = bars_coverage(bars, spec, session)
    if found.is_full:
        return bars, found  # every bar is there: whatever else was said, the session is whole
    if interrupted is None and bars:
        return bars, found
    why = interrupted or "the answer held no bar of the session and IB said nothing about it"
    raise IncompleteSessionError(
        f"{instrument_id} {spec} session {session.key}: the answer was cut off ({why}) with "
        f"{found.present} of {found.expected} bars ({len(received)} delivered) — {cause}. Nothing was "
        f"written for this session; {remedy}."
    )


def complete_session(
    received: Sequence[Bar],
    instrument_id: str,
    spec: BarSpec,
    session: TradingSession,
    *,
    cause: str,
    remedy: str,
) -> list[Bar]:
    """The session's bars in time order, or IncompleteSessionError naming what is missing and why (the
    rule for file sources, whose files must hold every bar)."""
    bars = session_bars(received, spec, session)
    expected = session.expected_bar_count(spec.step, spec.aggregation)
    if len(bars) != expected:
        raise IncompleteSessionError(
            f"{instrument_id} {spec} session {session.key}: expected {expected} bars, received {len(bars)} "
            f"({len(received)} delivered) — {cause}. Nothing was written for this session; {remedy}."
        )
    return bars


def ensure_closed(session: TradingSession, instrument_id: str, now: dt.datetime | None = None) -> None:
    """Raise SessionNotClosedError when the session's close is still in the future: its bars are not
    final (IB would answer with the minutes so far, and a stored partial session would look complete)."""
    now = now or dt.datetime.now(dt.UTC)
    if session.close > now:
        local_close = session.close.astimezone(ZoneInfo(EXCHANGE_TIMEZONE)).strftime("%H:%M %Z")
        raise SessionNotClosedError(
            f"{instrument_id} session {session.key} has not closed yet: it closes at "
            f"{session.close.isoformat()} ({local_close}), now is "
            f"{now.astimezone(dt.UTC).isoformat(timespec='seconds')}. Only closed sessions are fetched; "
            "materialize this partition after the close.",
            session.key,
        )
