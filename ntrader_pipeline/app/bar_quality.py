"""The bar-quality verdict over stored sessions: pandera's BarFrame rules, missing bars, IB's "no data",
closed days and sessions before a listing, as one check outcome with tables of what was flagged and why."""

import datetime as dt
from collections.abc import Mapping, Sequence

from ntrader_pipeline.app.outcomes import CheckOutcome, Json, Markdown, Metadata, markdown_list
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.ingest.run import split_not_listed
from ntrader_pipeline.markets.session_months import UnionSessions
from ntrader_pipeline.markets.universe import BarSpec, Universe
from ntrader_pipeline.quality.catalog_quality import check_stored_sessions, failure_counts, warning_counts
from ntrader_pipeline.quality.session_quality import GAPS_RULE, SAMPLE_ROWS, SPLIT_RULE, SessionQuality

# (instrument, session, why): closed days, sessions before the listing, IB's "no data"
Note = tuple[str, str, str]


def check_bar_quality(
    store: CatalogStore,
    universe: Universe,
    spec: BarSpec,
    months: Mapping[str, Sequence[str]],
    sessions: UnionSessions,
    now: dt.datetime,
    only: Mapping[str, Sequence[str]] | None = None,
) -> CheckOutcome:
    """The rules over the stored sessions of `months` ({instrument: [month keys]}), or of `only` those
    ({instrument: [dates]}: what a run fetched, so the nightly checks one session, not a month); a closed
    session of the months that is not stored yet (a run narrowed to some sessions) is counted, not failed."""
    results: list[SessionQuality] = []
    notes: list[Note] = []
    not_stored = 0
    for instrument_id, keys in months.items():
        dates = [d for month in keys for d in sessions.in_month(month, now)]
        if only is not None:
            dates = [d for d in dates if d in set(only.get(instrument_id, ()))]
        checked, skipped = _stored_sessions(store, universe, spec, instrument_id, dates, notes)
        not_stored += skipped
        threshold = universe.instrument(instrument_id).max_missing_fraction
        results.extend(
            check_stored_sessions(store, instrument_id, spec, checked, max_missing_fraction=threshold)
        )
    return CheckOutcome(
        passed=all(r.passed for r in results),
        metadata=_metadata(results, notes) | {"sessions_not_stored": not_stored},
    )


def _stored_sessions(
    store: CatalogStore,
    universe: Universe,
    spec: BarSpec,
    instrument_id: str,
    dates: list[str],
    notes: list[Note],
) -> tuple[list, int]:
    """The sessions of `dates` there is something stored to check, noting the others' reasons; and how
    many open, listed sessions are not stored yet."""
    checked, closed = universe.split_sessions(instrument_id, dates)  # closed: nothing to check
    notes += [(instrument_id, d, "closed: " + universe.closed_reason(instrument_id, d)) for d in closed]
    checked, not_listed = split_not_listed(store, instrument_id, spec, checked)  # before the head
    notes += [(instrument_id, s.key, "not listed yet (before IB's head timestamp)") for s in not_listed]
    bar_type = spec.bar_type(instrument_id)
    stored = [s for s in checked if store.has_session(bar_type, s) or store.empty_reason(bar_type, s)]
    notes += [
        (instrument_id, s.key, f"IB has no data: {reason}")
        for s in stored
        if (reason := store.empty_reason(bar_type, s)) is not None
    ]
    return stored, len(checked) - len(stored)


def _gaps_table(gaps: list[SessionQuality]) -> str:
    return "| session | bars | expected | missing | longest gap | blocking |\n|---|---|---|---|---|---|\n" + (
        "\n".join(
            f"| {r.session} | {r.bar_count} | {r.expected_bars} | {r.missing_bars} "
            f"({r.missing_fraction:.1%}) | {r.longest_gap} | {'yes' if GAPS_RULE in r.failures else 'no'} |"
            for r in gaps
        )
    )


def _notes_table(notes: list[Note]) -> str:
    rows = "\n".join(f"| {i} | {d} | {why.replace('|', '/')} |" for i, d, why in notes)
    return "| instrument | session | why |\n|---|---|---|\n" + rows


def _metadata(results: list[SessionQuality], notes: list[Note]) -> Metadata:
    failed = [r for r in results if not r.passed]
    gaps = [r for r in results if r.missing_bars]
    metadata: Metadata = {
        "sessions_checked": len(results),
        "closed_days": sum(1 for _, _, why in notes if why.startswith("closed")),
        "not_listed_days": sum(1 for _, _, why in notes if why.startswith("not listed")),
        "sessions_failed": len(failed),
        "bars_checked": sum(r.bar_count for r in results),
        **{f"failures_{rule}": count for rule, count in failure_counts(results).items()},
        "sessions_with_gaps": len(gaps),
        "missing_bars": sum(r.missing_bars for r in gaps),
        "longest_gap": max((r.longest_gap for r in gaps), default=0),
        **{f"warnings_{rule}": count for rule, count in warning_counts(results).items()},
    }
    if gaps:
        metadata["gaps"] = Markdown(_gaps_table(gaps))
    if notes:
        metadata["flagged_sessions"] = Markdown(_notes_table(notes))
    splits = [r for r in results if SPLIT_RULE in r.warnings]
    if splits:
        metadata["possible_splits"] = markdown_list([r.warnings[SPLIT_RULE] for r in splits])
    if failed:
        samples = [dict(s, session=str(r.session)) for r in failed for s in r.samples][:SAMPLE_ROWS]
        metadata["failed_sessions"] = markdown_list([r.describe() for r in failed])
        metadata["sample_rows"] = Json(samples)
    return metadata
