"""Validate one stored session of bars: the BarFrame rules, bars inside the session, completeness."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from functools import cache

import pandera.polars as pa
import polars as pl

from ntrader_pipeline.markets.sessions import TradingSession
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.schemas import BarFrame, inside_window_check

SAMPLE_ROWS = 5
COMPLETENESS_RULE = "session_complete"


@dataclass(frozen=True)
class SessionQuality:
    """Outcome of every rule for one bar type × session; `failures` maps rule → offending row count."""

    bar_type: str
    session: dt.date
    bar_count: int
    expected_bars: int
    failures: dict[str, int] = field(default_factory=dict)
    samples: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        if self.passed:
            return f"{self.bar_type} {self.session}: {self.bar_count} bars, all rules pass"
        rules = ", ".join(f"{rule} ({count} rows)" for rule, count in sorted(self.failures.items()))
        return f"{self.bar_type} session {self.session} fails {rules}"


def session_window(session: TradingSession, spec: BarSpec) -> tuple[dt.datetime, dt.datetime]:
    """Where a bar of `spec` may lie: RTH for intraday bars, the UTC day for daily bars (IB's stamping)."""
    if spec.is_intraday:
        return session.open, session.close
    return session.day_start, session.day_start + dt.timedelta(days=1)


@cache
def _base_schema() -> pa.DataFrameSchema:
    return BarFrame.to_schema()


def session_schema(session: TradingSession, spec: BarSpec) -> pa.DataFrameSchema:
    schema = copy.deepcopy(_base_schema())
    schema.checks.append(inside_window_check(*session_window(session, spec)))
    return schema


def check_session(
    frame: pl.DataFrame, bar_type: str, session: TradingSession, spec: BarSpec
) -> SessionQuality:
    expected = session.expected_bar_count(spec.step, spec.aggregation)
    failures: dict[str, int] = {}
    bad_rows: set[int] = set()
    try:
        session_schema(session, spec).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        for (rule,), group in cases.group_by("check", maintain_order=True):
            failures[str(rule)] = group.height
        bad_rows.update(int(i) for i in cases["index"].drop_nulls().to_list())
    if frame.height != expected:
        failures[COMPLETENESS_RULE] = abs(expected - frame.height)
    samples = _sample_rows(frame, sorted(bad_rows)[:SAMPLE_ROWS])
    return SessionQuality(bar_type, session.date, frame.height, expected, failures, samples)


def _sample_rows(frame: pl.DataFrame, rows: list[int]) -> list[dict]:
    if not rows:
        return []
    sample = frame.with_row_index("row")[rows]
    return [
        {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in r.items()}
        for r in sample.to_dicts()
    ]
