"""Fetch a run's bars (IB or an instrument's files) into the catalog, month by month.

`fetch_bars` plans the run's sessions, fetches them, and yields each instrument-month the moment its last
requested session settles (so the caller records it while the run goes on, and what settled before a
failure or an interrupt stays recorded), then the quality verdict over the sessions fetched. A session that
cannot be stored does not stop the others: its month is not yielded, and `StepError` at the end names
every failed instrument and session.
"""

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import structlog

from ntrader_pipeline.app.bar_quality import check_bar_quality
from ntrader_pipeline.app.outcomes import CheckOutcome, Markdown, MonthRecorded, StepError, markdown_list
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.ib.fetcher import IBFetcher
from ntrader_pipeline.ingest.errors import FetchError
from ntrader_pipeline.ingest.months import (
    MonthSummary,
    MonthTally,
    SessionSelection,
    SessionSelectionError,
    plan_sessions,
    requested_dates,
)
from ntrader_pipeline.ingest.progress import Progress
from ntrader_pipeline.ingest.run import ingest_sessions
from ntrader_pipeline.markets.session_months import UnionSessions
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.markets.universe import BarSpec, Universe


@dataclass(frozen=True)
class BarsRun:
    """One bar spec of the universe, the catalog it is stored in and the union of the calendars."""

    universe: Universe
    spec: BarSpec
    store: CatalogStore
    sessions: UnionSessions

    def is_stored(self, instrument_id: str, date: str) -> bool:
        """Bars, or IB's recorded "no data", for the session."""
        bar_type, session = self.spec.bar_type(instrument_id), session_for(date)
        return (
            self.store.has_session(bar_type, session)
            or self.store.empty_reason(bar_type, session) is not None
        )

    def applicable(self, months: dict[str, list[str]]) -> dict[str, list[str]]:
        """A run over several instruments (a range, the nightly) leaves out those without this spec's bars
        (an adjusted series has no minute bars); a run of one instrument keeps it, to fail saying why."""
        if len(months) < 2:
            return months
        return {
            i: m for i, m in months.items() if self.universe.provides(self.universe.instrument(i), self.spec)
        }

    def check(
        self,
        months: Mapping[str, Sequence[str]],
        now: dt.datetime,
        only: Mapping[str, Sequence[str]] | None = None,
    ) -> CheckOutcome:
        return check_bar_quality(self.store, self.universe, self.spec, months, self.sessions, now, only)


def _ignore(_: object) -> None:
    return None


def _never() -> str | None:
    return None


@dataclass(frozen=True)
class RunHooks:
    """How a running fetch talks to its caller: the sessions it will fetch, progress lines, and when to
    stop (checked between sessions, where stopping leaves nothing half-written)."""

    on_plan: Callable[[dict[str, list[str]]], None] = _ignore
    on_progress: Callable[[str], None] = _ignore
    stop_reason: Callable[[], str | None] = _never
    log_fields: Mapping[str, str] = field(default_factory=dict)


def session_selection(first: str | None, last: str | None, only_missing: bool) -> SessionSelection:
    try:
        return SessionSelection(first, last, only_missing)
    except SessionSelectionError as exc:
        raise StepError(f"bars run config: {exc}") from exc


def fetch_bars(
    run: BarsRun,
    months: dict[str, list[str]],
    selection: SessionSelection,
    fetcher: Callable[[], IBFetcher],
    now: dt.datetime,
    hooks: RunHooks = RunHooks(),
) -> Iterator[MonthRecorded | CheckOutcome]:
    """Fetch the selected closed sessions of `months` ({instrument: [month keys]}); yield each month as it
    settles, then the quality verdict over the sessions fetched; raise `StepError` naming what failed."""
    try:
        plan = plan_sessions(months, run.sessions, now, selection, run.is_stored)
    except SessionSelectionError as exc:  # a named session that has not closed yet
        raise StepError(f"bars run config: {exc}") from exc
    requested = requested_dates(plan)
    hooks.on_plan(requested)
    tally = MonthTally(plan)
    state = _RunState(total_months=len(plan))
    for month in tally.without_sessions():
        yield state.recorded(month)
    structlog.contextvars.bind_contextvars(**hooks.log_fields)
    try:
        yield from _ingest(run, requested, fetcher, now, tally, state, hooks)
    except FetchError as exc:  # no gateway, unknown contract, unreadable files: the rest cannot run
        state.failures.insert(0, str(exc))
    finally:
        structlog.contextvars.unbind_contextvars(*hooks.log_fields)
    yield run.check(months, now, only=requested)
    if state.failures:
        raise state.error(run.spec)


@dataclass
class _RunState:
    total_months: int
    recorded_months: int = 0
    failures: list[str] = field(default_factory=list)

    def recorded(self, month: MonthSummary) -> MonthRecorded:
        self.recorded_months += 1
        metadata = month.metadata()
        if "flagged" in metadata:
            metadata["flagged"] = Markdown(str(metadata["flagged"]))
        return MonthRecorded(month.month, month.instrument_id, metadata)  # type: ignore[arg-type]

    def error(self, spec: BarSpec) -> StepError:
        return StepError(
            f"{len(self.failures)} {spec} sessions were not stored; {self.recorded_months} of "
            f"{self.total_months} instrument-months were (and are recorded). "
            f"First problem: {self.failures[0]}",
            metadata={"failures": markdown_list(self.failures)},
        )


def _ingest(
    run: BarsRun,
    requested: dict[str, list[str]],
    fetcher: Callable[[], IBFetcher],
    now: dt.datetime,
    tally: MonthTally,
    state: _RunState,
    hooks: RunHooks,
) -> Iterator[MonthRecorded]:
    progress = Progress(sum(len(dates) for dates in requested.values()))
    records = ingest_sessions(run.universe, run.spec, requested, run.store, fetcher, now=lambda: now)
    for record in records:
        if not record.stored:
            state.failures.append(record.detail or f"{record.instrument_id} {record.date}: not stored")
        month = tally.add(record)
        if month is not None and not month.failed:
            yield state.recorded(month)
        if line := progress.add(record.bars):
            hooks.on_progress(line)
        if reason := hooks.stop_reason():
            records.close()  # closes the IB connection
            raise StepError(
                f"{run.spec} bars stopped after {progress.done} of {progress.total} sessions: {reason}. "
                f"The {state.recorded_months} instrument-months completed are recorded; re-materialize the "
                "rest (only_missing: true skips what is stored)."
            )
