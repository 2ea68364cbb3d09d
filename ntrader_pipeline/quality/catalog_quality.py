"""Run the session rules over what the catalog actually stores for a bar type."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence

import polars as pl
import pyarrow as pa

from ntrader_pipeline.catalog.file_checks import FILE_READABLE_RULE, bar_file_problem, rematerialize_hint
from ntrader_pipeline.catalog.frames import read_bar_files
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import TradingSession
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.session_quality import SessionQuality, check_sessions, label_sessions

MISSING_RULE = "session_stored"


def check_stored_sessions(
    store: CatalogStore, instrument_id: str, spec: BarSpec, sessions: Sequence[TradingSession]
) -> list[SessionQuality]:
    bar_type = spec.bar_type(instrument_id)
    stored = [s for s in sessions if store.has_session(bar_type, s)]
    frame, readable, unreadable = _read_readable(store, bar_type, instrument_id, stored)
    labelled = label_sessions(frame, readable, spec)
    checked = {r.session: r for r in check_sessions(labelled, readable, bar_type, spec)}
    checked.update(unreadable)
    results = []
    for session in sessions:
        if session.date in checked:
            results.append(checked[session.date])
        elif store.empty_reason(bar_type, session) is not None:
            # IB said it has no data (halt, new listing): recorded as such, so not "missing"
            results.append(SessionQuality(bar_type, session.date, 0, 0))
        else:
            expected = session.expected_bar_count(spec.step, spec.aggregation)
            results.append(SessionQuality(bar_type, session.date, 0, expected, {MISSING_RULE: 1}))
    return results


def _read_readable(
    store: CatalogStore, bar_type: str, instrument_id: str, stored: Sequence[TradingSession]
) -> tuple[pl.DataFrame, list[TradingSession], dict[dt.date, SessionQuality]]:
    """The bars of the stored sessions whose file is a readable bar file, those sessions, and a
    `file_readable` failure for each of the others (truncated, zero bytes, not Parquet, not bars) naming
    the file, the session and the remedy. Footers are checked first; damage behind an intact footer shows
    in the one scan of all files, which is then redone file by file."""
    failed: dict[dt.date, SessionQuality] = {}

    def fail(session: TradingSession, reason: str) -> None:
        path = store.session_file(bar_type, session)
        detail = f"{path} {reason}; {rematerialize_hint(session.key, instrument_id)}"
        failed[session.date] = SessionQuality(
            bar_type, session.date, 0, 0, {FILE_READABLE_RULE: 1}, detail=detail
        )

    for session in stored:
        if reason := bar_file_problem(store.session_file(bar_type, session)):
            fail(session, reason)
    readable = [s for s in stored if s.date not in failed]
    try:
        frame = read_bar_files([store.session_file(bar_type, s) for s in readable], file_index="file")
    except (pa.ArrowException, OSError, ValueError):
        for session in readable:
            if reason := bar_file_problem(store.session_file(bar_type, session), read_rows=True):
                fail(session, reason)
        readable = [s for s in readable if s.date not in failed]
        frame = read_bar_files([store.session_file(bar_type, s) for s in readable], file_index="file")
    return frame, readable, failed


def failure_counts(results: Iterable[SessionQuality]) -> dict[str, int]:
    """Offending rows per rule, summed over sessions."""
    totals: Counter[str] = Counter()
    for result in results:
        totals.update(result.failures)
    return dict(sorted(totals.items()))
