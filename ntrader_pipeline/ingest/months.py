"""Runs over month partitions: which sessions a run fetches, and each instrument × month once it settles.

A bars run covers months × instruments. `plan_sessions` turns them into the sessions to fetch (the
month's closed sessions, narrowed by a `SessionSelection`), and `MonthTally` groups the ingest records
back by instrument × month, so a month is recorded the moment its last session settles: one
materialization per month partition, carrying its sessions' quality.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ntrader_pipeline.ingest.run import SessionRecord, SessionStatus
from ntrader_pipeline.markets.session_months import UnionSessions, month_key

MonthKey = tuple[str, str]  # (instrument id, month key)


class SessionSelectionError(ValueError):
    """A run's session bounds are not dates, or end before they start."""


@dataclass(frozen=True)
class SessionSelection:
    """Which sessions of the selected months a run fetches: all by default; `first`..`last` (inclusive
    ISO dates); `only_missing` skips sessions already stored (bars or IB's recorded "no data")."""

    first: str | None = None
    last: str | None = None
    only_missing: bool = False

    def __post_init__(self) -> None:
        for name in ("first", "last"):
            value = getattr(self, name)
            if value is None:
                continue
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise SessionSelectionError(
                    f"{name}_session={value!r} is not a date: give YYYY-MM-DD (e.g. 2024-01-05)"
                ) from None
        if self.first and self.last and self.first > self.last:
            raise SessionSelectionError(
                f"first_session {self.first} is after last_session {self.last}: swap them"
            )

    def admits(self, date: str) -> bool:
        return (self.first is None or date >= self.first) and (self.last is None or date <= self.last)


def plan_sessions(
    months: Mapping[str, Sequence[str]],
    sessions: UnionSessions,
    now: dt.datetime,
    selection: SessionSelection,
    is_stored: Callable[[str, str], bool],
) -> dict[MonthKey, list[str]]:
    """{(instrument, month): [session dates to fetch]} for `months` ({instrument: [month keys]});
    `is_stored(instrument_id, date)` is asked only with `only_missing`."""
    plan: dict[MonthKey, list[str]] = {}
    for instrument_id, keys in months.items():
        for month in keys:
            dates = [d for d in sessions.in_month(month, now) if selection.admits(d)]
            if selection.first or selection.last:
                _refuse_unclosed(selection, sessions.in_month(month), dates)
            if selection.only_missing:
                dates = [d for d in dates if not is_stored(instrument_id, d)]
            plan[(instrument_id, month)] = dates
    return plan


def _refuse_unclosed(selection: SessionSelection, every: Sequence[str], offered: Sequence[str]) -> None:
    """Sessions a run names explicitly must have closed: asking for one that has not is a mistake."""
    unclosed = [d for d in every if selection.admits(d) and d not in offered]
    if unclosed:
        raise SessionSelectionError(
            f"session {unclosed[0]} has not closed yet (a session is offered from 22:00 UTC of its date); "
            "set last_session to a closed session or run after the close"
        )


def requested_dates(plan: Mapping[MonthKey, Sequence[str]]) -> dict[str, list[str]]:
    """The plan as `ingest_sessions` takes it: {instrument: [dates…]}."""
    by_instrument: dict[str, list[str]] = {}
    for (instrument_id, _), dates in plan.items():
        by_instrument.setdefault(instrument_id, []).extend(dates)
    return {instrument_id: sorted(dates) for instrument_id, dates in by_instrument.items()}


_FLAG_COLUMNS = (
    "| session | status | bars | expected | missing | longest gap | note |\n|---|---|---|---|---|---|---|"
)


@dataclass
class MonthSummary:
    """The records of one instrument × month in a run."""

    instrument_id: str
    month: str
    records: list[SessionRecord] = field(default_factory=list)

    @property
    def failed(self) -> list[SessionRecord]:
        return [r for r in self.records if not r.stored]

    @property
    def flagged(self) -> list[SessionRecord]:
        """Stored with a note: IB had no data, closed, not listed, or minutes missing."""
        return [r for r in self.records if r.stored and (r.status is not SessionStatus.WRITTEN or r.sparse)]

    @property
    def bars(self) -> int:
        return sum(r.bars for r in self.records if r.stored)

    def metadata(self) -> dict[str, object]:
        """Plain metadata of the month partition: counts, and a table of its flagged sessions and why."""
        stored = [r for r in self.records if r.stored]
        metadata: dict[str, object] = {
            "sessions": len(stored),
            "bars": self.bars,
            "flagged_sessions": len(self.flagged),
            "missing_bars": sum(r.missing_bars for r in stored),
        }
        if len(self.records) == 1 and stored:  # one session: its own fields, as the check shows them
            metadata["session"] = stored[0].date
        attempts = max((r.attempts for r in self.records), default=1)
        if attempts > 1:
            metadata["max_attempts"] = attempts
        if self.flagged:
            metadata["flagged"] = _FLAG_COLUMNS + "\n" + "\n".join(_flag_row(r) for r in self.flagged)
        return metadata


def _flag_row(record: SessionRecord) -> str:
    expected = "" if record.expected_bars is None else str(record.expected_bars)
    missing = str(record.missing_bars) if record.expected_bars is not None else ""
    note = (record.detail or "").replace("|", "/") if record.status is not SessionStatus.WRITTEN else ""
    return (
        f"| {record.date} | {record.status.value} | {record.bars} | {expected} | {missing} | "
        f"{record.longest_gap or ''} | {note} |"
    )


class MonthTally:
    """Counts each planned instrument × month's records down; `add` returns the month once it settles."""

    def __init__(self, plan: Mapping[MonthKey, Sequence[str]]) -> None:
        self._remaining = {key: len(dates) for key, dates in plan.items()}
        self._summaries = {key: MonthSummary(*key) for key in plan}

    def without_sessions(self) -> list[MonthSummary]:
        """Months the run has nothing to fetch for (all stored, or none closed yet): settled at once."""
        return [self._summaries[key] for key, count in self._remaining.items() if count == 0]

    def add(self, record: SessionRecord) -> MonthSummary | None:
        key = (record.instrument_id, month_key(record.date)) if record.date else None
        if key not in self._remaining:
            return None  # a failure without a session (none planned): reported by the caller
        self._summaries[key].records.append(record)
        self._remaining[key] -= 1
        return self._summaries[key] if self._remaining[key] == 0 else None

    def unsettled(self) -> list[MonthSummary]:
        """Months with sessions still outstanding (after a stop or an error that ended the stream)."""
        return [self._summaries[key] for key, count in self._remaining.items() if count > 0]
