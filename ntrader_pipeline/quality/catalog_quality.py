"""Run the session rules over what the catalog actually stores for a bar type."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import polars as pl

from ntrader_pipeline.catalog.frames import read_bar_files
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import TradingSession
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.session_quality import SessionQuality, check_sessions, label_session

MISSING_RULE = "session_stored"


def check_stored_sessions(
    store: CatalogStore, instrument_id: str, spec: BarSpec, sessions: Sequence[TradingSession]
) -> list[SessionQuality]:
    bar_type = spec.bar_type(instrument_id)
    stored = [s for s in sessions if store.has_session(bar_type, s)]
    frames = [label_session(read_bar_files([store.session_file(bar_type, s)]), s, spec) for s in stored]
    checked = (
        {r.session: r for r in check_sessions(pl.concat(frames), stored, bar_type, spec)} if frames else {}
    )
    results = []
    for session in sessions:
        if session.date in checked:
            results.append(checked[session.date])
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
