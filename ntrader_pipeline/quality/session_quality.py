"""Validate stored sessions of bars: the BarFrame rules, bars inside their session, completeness."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandera.polars as pa
import polars as pl

from ntrader_pipeline.catalog.file_checks import FILE_READABLE_RULE
from ntrader_pipeline.markets.sessions import TradingSession, session_window
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.schemas import SessionBarFrame

SAMPLE_ROWS = 5
COMPLETENESS_RULE = "session_complete"
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

    @property
    def passed(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        if self.passed:
            return f"{self.bar_type} {self.session}: {self.bar_count} bars, all rules pass"
        rules = ", ".join(
            rule if rule in _FILE_RULES else f"{rule} ({count} rows)"
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
    labelled: pl.DataFrame, sessions: Sequence[TradingSession], bar_type: str, spec: BarSpec
) -> list[SessionQuality]:
    """One SessionQuality per session, from one validation of all their (labelled) rows."""
    failures: dict[dt.date, dict[str, int]] = {s.date: {} for s in sessions}
    bad_rows: dict[dt.date, list[int]] = {s.date: [] for s in sessions}
    try:
        SessionBarFrame.validate(labelled, lazy=True)
    except pa.errors.SchemaErrors as errors:
        _attribute(errors.failure_cases, labelled, failures, bad_rows)
    counts = dict(labelled.group_by("session").len().iter_rows())
    results = []
    for session in sessions:
        expected = session.expected_bar_count(spec.step, spec.aggregation)
        received = counts.get(session.date, 0)
        if received != expected:
            failures[session.date][COMPLETENESS_RULE] = abs(expected - received)
        rows = sorted(set(bad_rows[session.date]))[:SAMPLE_ROWS]
        results.append(
            SessionQuality(
                bar_type, session.date, received, expected, failures[session.date], _samples(labelled, rows)
            )
        )
    return results


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
        record["row"] -= offsets[session]  # row number within its session's file
        records.append({k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in record.items()})
    return records
