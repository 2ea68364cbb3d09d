"""Run the session rules over what the catalog actually stores for a bar type."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

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
    frame = read_bar_files([store.session_file(bar_type, s) for s in stored], file_index="file")
    labelled = label_sessions(frame, stored, spec)
    checked = {r.session: r for r in check_sessions(labelled, stored, bar_type, spec)}
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


def failure_counts(results: Iterable[SessionQuality]) -> dict[str, int]:
    """Offending rows per rule, summed over sessions."""
    totals: Counter[str] = Counter()
    for result in results:
        totals.update(result.failures)
    return dict(sorted(totals.items()))
