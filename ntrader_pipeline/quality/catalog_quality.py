"""Run the session rules over what the catalog actually stores for a bar type."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl
import pyarrow as pa

from ntrader_pipeline.catalog.file_checks import FILE_READABLE_RULE, bar_file_problem, rematerialize_hint
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.calendars import get_session_calendar
from ntrader_pipeline.markets.sessions import TradingSession
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.session_quality import SessionQuality, check_sessions, label_sessions

MISSING_RULE = "session_stored"


def check_stored_sessions(
    store: CatalogStore,
    instrument_id: str,
    spec: BarSpec,
    sessions: Sequence[TradingSession],
    *,
    max_missing_fraction: float | None = None,
) -> list[SessionQuality]:
    """The rules over the stored sessions; `max_missing_fraction` makes the gaps rule blocking."""
    bar_type = spec.bar_type(instrument_id)
    stored = store.stored_sessions(bar_type, sessions)
    frame, readable, unreadable = _read_readable(store, bar_type, instrument_id, stored)
    labelled = label_sessions(frame, readable, spec)
    previous = _previous_close(store, bar_type, stored[0]) if stored else None
    checked = {
        r.session: r
        for r in check_sessions(
            labelled,
            readable,
            bar_type,
            spec,
            max_missing_fraction=max_missing_fraction,
            previous_close=previous,
        )
    }
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
    """The bars of the stored sessions whose month file is a readable bar file, those sessions, and a
    `file_readable` failure for each of the others (truncated, zero bytes, not Parquet, not bars, no
    session index) naming the file, the session and the remedy. Footers are checked first; damage behind
    an intact footer shows in the read, which is then redone file by file."""
    failed: dict[dt.date, SessionQuality] = {}

    def fail(session: TradingSession, reason: str) -> None:
        path = store.month_file(bar_type, session)
        detail = f"{path} {reason}; {rematerialize_hint(session.key, instrument_id)}"
        failed[session.date] = SessionQuality(
            bar_type, session.date, 0, 0, {FILE_READABLE_RULE: 1}, detail=detail
        )

    by_file: dict[Path, list[TradingSession]] = {}
    for session in stored:
        by_file.setdefault(store.month_file(bar_type, session), []).append(session)
    for path, sessions in by_file.items():
        if reason := _month_file_problem(store, path):
            for session in sessions:
                fail(session, reason)
    readable = [s for s in stored if s.date not in failed]
    try:
        frame = store.read_bar_frame(bar_type, readable, session_column="file")
    except (pa.ArrowException, OSError, ValueError):
        for path, sessions in by_file.items():
            if not any(s.date in failed for s in sessions) and (
                reason := _month_file_problem(store, path, read_rows=True)
            ):
                for session in sessions:
                    fail(session, reason)
        readable = [s for s in readable if s.date not in failed]
        frame = store.read_bar_frame(bar_type, readable, session_column="file")
    return frame, readable, failed


def _month_file_problem(store: CatalogStore, path: Path, *, read_rows: bool = False) -> str | None:
    """Why a month file cannot be read as bars with a session index (None when it can)."""
    if reason := bar_file_problem(path, read_rows=read_rows):
        return reason
    try:
        store.session_index(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        return f"cannot be read by session ({exc})"
    return None


def _previous_close(store: CatalogStore, bar_type: str, session: TradingSession) -> float | None:
    """The last close of the stored session before `session` (looked for up to two weeks back), so an
    overnight jump into the first checked session is seen too."""
    calendar = get_session_calendar(session.calendar)
    try:
        earlier = calendar.sessions_between(
            session.date - dt.timedelta(days=14), session.date - dt.timedelta(days=1)
        )
    except ValueError:  # before the calendar's first session
        return None
    for candidate in reversed(earlier):
        if store.has_session(bar_type, candidate):
            if _month_file_problem(store, store.month_file(bar_type, candidate), read_rows=True):
                return None  # an unreadable file fails file_readable on its own session
            frame = store.read_bar_frame(bar_type, [candidate])
            return float(frame.sort("ts_init")["close"][-1]) if not frame.is_empty() else None
        if store.empty_reason(bar_type, candidate) is None:
            return None  # not fetched: nothing to compare with
    return None


def warning_counts(results: Iterable[SessionQuality]) -> dict[str, int]:
    """Sessions per warning rule."""
    totals: Counter[str] = Counter()
    for result in results:
        totals.update(result.warnings.keys())
    return dict(sorted(totals.items()))


def failure_counts(results: Iterable[SessionQuality]) -> dict[str, int]:
    """Offending rows per rule, summed over sessions."""
    totals: Counter[str] = Counter()
    for result in results:
        totals.update(result.failures)
    return dict(sorted(totals.items()))
