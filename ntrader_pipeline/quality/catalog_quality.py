"""Run the session rules over what the catalog actually stores for a bar type."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence

from ntrader_pipeline.catalog.frames import read_bar_files
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
    stored = [s for s in sessions if store.has_session(bar_type, s)]
    frame = read_bar_files([store.session_file(bar_type, s) for s in stored], file_index="file")
    labelled = label_sessions(frame, stored, spec)
    previous = _previous_close(store, bar_type, stored[0]) if stored else None
    checked = {
        r.session: r
        for r in check_sessions(
            labelled,
            stored,
            bar_type,
            spec,
            max_missing_fraction=max_missing_fraction,
            previous_close=previous,
        )
    }
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
            frame = read_bar_files([store.session_file(bar_type, candidate)])
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
