"""Validate stored sessions of bars: the BarFrame rules, bars inside their session, gaps, split-like jumps.

Rules that fail a session (blocking): the BarFrame/SessionBarFrame rules, more bars than the calendar has
(`session_complete`), and — only for an instrument with `max_missing_fraction` — a larger share of missing
bars than that (`session_gaps`). Rules that warn (the check passes; metadata shows them): missing bars
(IB sends no TRADES bar for a minute without a trade; never filled in) with their count and the longest
gap, and an overnight jump matching a split ratio (`possible_split`, naming the date and the ratio).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandera.polars as pa
import polars as pl

from ntrader_pipeline.adjustments.ratios import match_split
from ntrader_pipeline.catalog.file_checks import FILE_READABLE_RULE
from ntrader_pipeline.ingest.completeness import coverage
from ntrader_pipeline.markets.sessions import TradingSession, session_window
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.schemas import SessionBarFrame

SAMPLE_ROWS = 5
COMPLETENESS_RULE = "session_complete"  # more bars than the calendar has
GAPS_RULE = "session_gaps"  # bars missing: a warning, blocking above the instrument's max_missing_fraction
SPLIT_RULE = "possible_split"  # an overnight jump matching a split ratio: a warning
_LABEL_COLUMNS = ("session", "window_start", "window_end")
_FILE_RULES = (FILE_READABLE_RULE,)  # about the session's file as a whole, not rows


@dataclass(frozen=True)
class SessionQuality:
    """Outcome of every rule for one bar type × session; `failures` maps rule → offending row count."""

    bar_type: str
    session: dt.date
    bar_count: int
    expected_bars: int
    failures: dict[str, int] = field(default_factory=dict)
    samples: list[dict] = field(default_factory=list)
    detail: str | None = None  # what is wrong beyond row counts, and what to do (e.g. an unreadable file)
    longest_gap: int = 0
    warnings: dict[str, str] = field(default_factory=dict)  # rule → what it saw (the check still passes)
    details: dict[str, str] = field(default_factory=dict)  # failing rule → what it saw
    split_ratio: str | None = None  # "4:1" when the overnight jump into this session matches a split

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def missing_bars(self) -> int:
        return max(0, self.expected_bars - self.bar_count)

    @property
    def missing_fraction(self) -> float:
        return self.missing_bars / self.expected_bars if self.expected_bars else 0.0

    def describe(self) -> str:
        if self.passed:
            text = f"{self.bar_type} {self.session}: {self.bar_count} bars, all rules pass"
            return text + "".join(f"; warning {rule}: {said}" for rule, said in sorted(self.warnings.items()))
        rules = ", ".join(
            f"{rule} ({self.details[rule]})"
            if rule in self.details
            else (rule if rule in _FILE_RULES else f"{rule} ({count} rows)")
            for rule, count in sorted(self.failures.items())
        )
        text = f"{self.bar_type} session {self.session} fails {rules}"
        return f"{text}: {self.detail}" if self.detail else text


def label_sessions(frame: pl.DataFrame, sessions: Sequence[TradingSession], spec: BarSpec) -> pl.DataFrame:
    """Add each row's session date and window (see SessionBarFrame); `frame`'s Int32 column `file`
    says which of `sessions` a row was stored under, and is dropped."""
    windows = [session_window(s, spec) for s in sessions]
    utc_ns = pl.Datetime("ns", "UTC")
    labels = pl.DataFrame(
        {
            "file": list(range(len(sessions))),
            "session": [s.date for s in sessions],
            "window_start": [start for start, _ in windows],
            "window_end": [end for _, end in windows],
        },
        schema={"file": pl.Int32, "session": pl.Date, "window_start": utc_ns, "window_end": utc_ns},
    )
    return frame.join(labels, on="file", how="left", maintain_order="left").drop("file")


def check_sessions(
    labelled: pl.DataFrame,
    sessions: Sequence[TradingSession],
    bar_type: str,
    spec: BarSpec,
    *,
    max_missing_fraction: float | None = None,
    previous_close: float | None = None,
) -> list[SessionQuality]:
    """One SessionQuality per session, from one validation of all their (labelled) rows.

    `previous_close`: the last close of the session before the first one, when stored (for the jump rule).
    """
    failures: dict[dt.date, dict[str, int]] = {s.date: {} for s in sessions}
    bad_rows: dict[dt.date, list[int]] = {s.date: [] for s in sessions}
    try:
        SessionBarFrame.validate(labelled, lazy=True)
    except pa.errors.SchemaErrors as errors:
        _attribute(errors.failure_cases, labelled, failures, bad_rows)
    per_session = _per_session(labelled)
    results = []
    last_close = previous_close
    for session in sessions:
        expected = session.expected_bar_count(spec.step, spec.aggregation)
        closes_ns, first_open, close = per_session.get(session.date, ([], None, None))
        received = len(closes_ns)
        warnings: dict[str, str] = {}
        details: dict[str, str] = {}
        if received > expected:
            failures[session.date][COMPLETENESS_RULE] = received - expected
        found = coverage(closes_ns, spec, session)
        if found.missing:
            said = (
                f"{found.missing} of {found.expected} bars missing ({found.missing_fraction:.1%}), "
                f"longest gap {found.longest_gap}"
            )
            if max_missing_fraction is not None and found.missing_fraction > max_missing_fraction:
                failures[session.date][GAPS_RULE] = found.missing
                details[GAPS_RULE] = f"{said}; more than max_missing_fraction {max_missing_fraction:.1%}"
            else:
                warnings[GAPS_RULE] = said
        ratio = None
        if last_close and first_open:
            ratio = match_split(last_close / first_open)
            if ratio is not None:
                warnings[SPLIT_RULE] = (
                    f"{session.key}: overnight jump {last_close:g} → {first_open:g} matches a {ratio} split"
                )
        if close is not None:
            last_close = close
        rows = sorted(set(bad_rows[session.date]))[:SAMPLE_ROWS]
        results.append(
            SessionQuality(
                bar_type,
                session.date,
                received,
                expected,
                failures[session.date],
                _samples(labelled, rows),
                longest_gap=found.longest_gap,
                warnings=warnings,
                details=details,
                split_ratio=str(ratio) if ratio else None,
            )
        )
    return results


def _per_session(labelled: pl.DataFrame) -> dict[dt.date, tuple[list[int], float | None, float | None]]:
    """Each session's bar closes (`ts_init`, ns), its first open price and its last close price."""
    if labelled.is_empty():
        return {}
    ordered = labelled.sort("ts_init")
    grouped = ordered.group_by("session", maintain_order=True).agg(
        pl.col("ts_init").cast(pl.Int64).alias("closes"),
        pl.col("open").first().alias("first_open"),
        pl.col("close").last().alias("last_close"),
    )
    return {d: (closes, o, c) for d, closes, o, c in grouped.iter_rows()}


def _attribute(
    cases: pl.DataFrame,
    labelled: pl.DataFrame,
    failures: dict[dt.date, dict[str, int]],
    bad_rows: dict[dt.date, list[int]],
) -> None:
    """Count each failure against the session of its row; frame-wide failures count for every session."""
    row_sessions = labelled["session"]
    for rule, index in cases.select("check", "index").iter_rows():
        targets = list(failures) if index is None else [row_sessions[int(index)]]
        for date in targets:
            failures[date][str(rule)] = failures[date].get(str(rule), 0) + 1
            if index is not None:
                bad_rows[date].append(int(index))


def _samples(labelled: pl.DataFrame, rows: list[int]) -> list[dict]:
    if not rows:
        return []
    sample = labelled.with_row_index("row")[rows].drop(_LABEL_COLUMNS)
    offsets = dict(labelled.with_row_index("row").group_by("session").agg(pl.col("row").min()).iter_rows())
    records = []
    for record in sample.to_dicts():
        session = labelled["session"][record["row"]]
        record["row"] -= offsets[session]  # row number within its session (its rows in the month file)
        records.append({k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in record.items()})
    return records
