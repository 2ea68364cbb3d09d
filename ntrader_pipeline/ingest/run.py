"""Sessions of one bar spec into the catalog, from IB or an instrument's files: the ingest entry point.

`ingest_sessions` yields one typed record per requested session as soon as it is settled (written,
empty, closed or failed), so its caller (the Dagster asset, a script, a test) can record progress while
the run goes on. A session that cannot be stored is a FAILED record and the run goes on; only a problem
that stops every session (no gateway, an unknown contract, unreadable files) raises `FetchError`.

A session whose close is still in the future is never fetched: it is a FAILED record naming its close
time. A stored session records the bars its calendar expects, the bars present and the longest run of
missing bars (IB sends no TRADES bar for a minute without a trade); missing bars are never filled in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import structlog

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.ib.fetcher import IBFetcher, SessionResult
from ntrader_pipeline.ingest.completeness import SessionCoverage, bars_coverage, ensure_closed
from ntrader_pipeline.ingest.errors import (
    IncompleteSessionError,
    SessionNotClosedError,
)
from ntrader_pipeline.ingest.file_sessions import FileSessions
from ntrader_pipeline.logs import get_logger
from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.session_months import month_key
from ntrader_pipeline.markets.sessions import TradingSession
from ntrader_pipeline.markets.universe import InstrumentSpec, Universe


class SessionStatus(StrEnum):
    WRITTEN = "written"  # bars stored in the session's file
    EMPTY = "empty"  # IB has no data for it: an explicit empty record is stored
    CLOSED = "closed"  # the instrument's calendar has no session that day: nothing to fetch
    NOT_LISTED = "not_listed"  # the session closed before IB's earliest data (head timestamp): not asked
    FAILED = "failed"  # not stored; `detail` says why and what to do


@dataclass(frozen=True)
class SessionRecord:
    """What happened to one instrument × session of a run."""

    instrument_id: str
    date: str
    status: SessionStatus
    bars: int = 0
    bar_type: str | None = None
    file: str | None = None
    attempts: int = 1
    detail: str | None = None  # the empty reason, the closed reason or the failure
    expected_bars: int | None = None  # what the exchange calendar expects (WRITTEN sessions)
    longest_gap: int = 0  # the longest run of consecutive missing bars

    @property
    def stored(self) -> bool:
        return self.status is not SessionStatus.FAILED

    @property
    def missing_bars(self) -> int:
        return max(0, self.expected_bars - self.bars) if self.expected_bars is not None else 0

    @property
    def missing_fraction(self) -> float:
        return self.missing_bars / self.expected_bars if self.expected_bars else 0.0

    @property
    def sparse(self) -> bool:
        """Stored with bars missing: IB answered the whole session, but some minutes had no trade."""
        return self.status is SessionStatus.WRITTEN and self.missing_bars > 0


def _session_logger(instrument_id: str, session: TradingSession) -> structlog.stdlib.BoundLogger:
    """Log lines of one session: the session, and the Dagster partition it is recorded in (its month)."""
    return get_logger(
        __name__,
        instrument=instrument_id,
        session=session.key,
        partition=f"{month_key(session.key)}|{instrument_id}",
    )


def ingest_sessions(
    universe: Universe,
    spec: BarSpec,
    requested: Mapping[str, Sequence[str]],
    store: CatalogStore,
    ib_fetcher: Callable[[], IBFetcher],
    *,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Iterator[SessionRecord]:
    """Fetch and store `requested` ({instrument_id: [dates]}) sessions of `spec` bars.

    IB instruments share one fetcher (one connection), opened only when the run has any; up to
    IB_MAX_OPEN_REQUESTS requests are in flight at once and the instruments take turns session by session
    (ingest/backfill.py), so a pacing wait for one contract does not hold up the others; a file-backed
    instrument's files are read once for all its sessions. A session that has not closed by `now()` is
    a FAILED record naming its close time, and nothing is requested for it.
    """
    instant = now()
    from_ib: dict[str, list[TradingSession]] = {}
    from_files: dict[str, list[TradingSession]] = {}
    for instrument_id, dates in requested.items():
        instrument = universe.instrument(instrument_id)
        if not universe.provides(instrument, spec):
            yield from _not_provided(universe, instrument, spec, dates)
            continue
        sessions, closed = universe.split_sessions(instrument_id, dates)
        for date in closed:
            yield SessionRecord(
                instrument_id, date, SessionStatus.CLOSED, detail=universe.closed_reason(instrument_id, date)
            )
        sessions, unfinished = _finished_sessions(instrument_id, sessions, instant)
        yield from unfinished
        if sessions:
            (from_files if instrument.from_files else from_ib)[instrument_id] = sessions
    if from_ib:
        from ntrader_pipeline.ingest.backfill import ib_backfill  # it builds on this module's records

        with ib_fetcher() as fetcher:
            instruments = [universe.instrument(i) for i in from_ib]
            yield from ib_backfill(store, fetcher, spec, instruments, from_ib)
    for instrument_id, sessions in from_files.items():
        yield from _file_sessions(store, universe, universe.instrument(instrument_id), sessions)


def _finished_sessions(
    instrument_id: str, sessions: list[TradingSession], now: dt.datetime
) -> tuple[list[TradingSession], list[SessionRecord]]:
    """The sessions whose close has passed, and a FAILED record for each that is still to close."""
    finished: list[TradingSession] = []
    unfinished: list[SessionRecord] = []
    for session in sessions:
        try:
            ensure_closed(session, instrument_id, now)
        except SessionNotClosedError as exc:
            get_logger(__name__).error("session_not_closed", instrument=instrument_id, error=str(exc))
            unfinished.append(
                SessionRecord(instrument_id, session.key, SessionStatus.FAILED, detail=str(exc))
            )
            continue
        finished.append(session)
    return finished, unfinished


def _with_coverage(coverage: SessionCoverage | None) -> dict[str, int]:
    if coverage is None:
        return {}
    return {"expected_bars": coverage.expected, "longest_gap": coverage.longest_gap}


def _not_provided(
    universe: Universe, instrument: InstrumentSpec, spec: BarSpec, dates: Sequence[str]
) -> Iterator[SessionRecord]:
    if instrument.adjusted and spec.is_intraday:
        # the bar spec is in the universe; adding it again cannot help
        reason = "an adjusted series is daily only (IB's ADJUSTED_LAST)"
        remedy = (
            f"leave this partition out; for adjusted {spec} bars, fetch {instrument.ib_instrument_id}'s "
            "and declare the backtest with `adjustment: splits` or `splits_and_dividends`"
        )
    else:
        reason = (
            f"its file source has {instrument.source.bar_spec}"
            if instrument.source
            else f"IB instruments fetch {', '.join(str(s) for s in universe.bar_specs)}"
        )
        remedy = "add the bar spec to the universe or leave this partition out"
    for date in dates:
        detail = (
            f"{instrument.instrument_id} has no {spec} bars ({reason}): session {date} cannot be "
            f"materialized; {remedy}"
        )
        yield SessionRecord(instrument.instrument_id, date, SessionStatus.FAILED, detail=detail)


def split_not_listed(
    store: CatalogStore, instrument_id: str, spec: BarSpec, sessions: Sequence[TradingSession]
) -> tuple[list[TradingSession], list[TradingSession]]:
    """(sessions at or after the stored head timestamp, sessions that closed before it); all sessions
    count as listed when no head timestamp is stored."""
    head = store.head_timestamp(instrument_id, spec.for_instrument(instrument_id).ib_what_to_show)
    if head is None:
        return list(sessions), []
    return [s for s in sessions if s.close > head], [s for s in sessions if s.close <= head]


def store_ib_result(
    store: CatalogStore, instrument_id: str, bar_type: str, result: SessionResult
) -> SessionRecord:
    session = result.session
    log = _session_logger(instrument_id, session)
    if result.is_empty:
        marker = store.write_empty_session(bar_type, session, result.empty_reason or "")
        # bars stored by an earlier run are kept (no marker is written over them)
        kept = store.read_session_bars(bar_type, session) if marker is None else []
        log.warning("session_empty", reason=result.empty_reason, kept_bars=len(kept))
        return SessionRecord(
            instrument_id,
            session.key,
            SessionStatus.EMPTY,
            bars=len(kept),
            bar_type=bar_type,
            file=str(marker or store.month_file(bar_type, session)),
            attempts=result.attempts,
            detail=result.empty_reason,
        )
    path = store.write_session_bars(result.bars[0].bar_type, session, result.bars)
    coverage = result.coverage
    log.info(
        "session_written",
        bars=len(result.bars),
        file=str(path),
        attempts=result.attempts,
        coverage=coverage.describe() if coverage else None,
    )
    return SessionRecord(
        instrument_id,
        session.key,
        SessionStatus.WRITTEN,
        bars=len(result.bars),
        bar_type=bar_type,
        file=str(path),
        attempts=result.attempts,
        **_with_coverage(coverage),
    )


def _file_sessions(
    store: CatalogStore, universe: Universe, instrument: InstrumentSpec, sessions: list[TradingSession]
) -> Iterator[SessionRecord]:
    """Write each complete session as soon as it is there; an incomplete one is a FAILED record."""
    instrument_id = instrument.instrument_id
    files = FileSessions(instrument, universe.base_dir, sessions)
    store.write_instrument(files.instrument)
    for session in sessions:
        log = _session_logger(instrument_id, session)
        try:
            bars = files.bars(session)
        except IncompleteSessionError as exc:
            log.error("session_incomplete", error=str(exc))
            yield SessionRecord(instrument_id, session.key, SessionStatus.FAILED, detail=str(exc))
            continue
        path = store.write_session_bars(bars[0].bar_type, session, bars)
        log.info("session_written", bars=len(bars), file=str(path))
        yield SessionRecord(
            instrument_id,
            session.key,
            SessionStatus.WRITTEN,
            bars=len(bars),
            bar_type=str(bars[0].bar_type),
            file=str(path),
            **_with_coverage(bars_coverage(bars, files.source.spec, session)),
        )
