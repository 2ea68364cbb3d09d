"""One run's IB fetching: the fewest requests IB allows, paced, classified, retried within bounds.

- One connection per run, replaced by a fresh one after a request whose outcome is RETRY when no other
  request is using it (else only once it is dead), so several threads may fetch through one fetcher at
  once: their requests are then in flight together on the connection (see ib/interleave.py); a retry
  after the connection died runs alone on it (ib/connection_share.py).
- Daily bars: one "1 Y" request per year of sessions, split into sessions client-side; a session the
  yearly answer lacks is fetched on its own. Intraday bars: one "1 D" request per session.
- Every request waits for the cross-process pacing limiter first; a 162 pacing violation that still
  arrives backs off exponentially with jitter before the retry.
- A session is complete when IB answered a request covering it to its end, on a live connection, with
  no error about it — even with minutes missing (IB sends no TRADES bar for a minute without a trade).
  An answer cut off by a dropped socket, a timeout or an error is RETRY (ingest/completeness.py).
- Outcomes: COMPLETE → bars and their coverage; EMPTY → an explicitly empty session; FATAL →
  ContractNotFoundError / InvalidRequestError at once; RETRY exhausted → SessionFetchFailedError naming
  instrument, session, attempts and IB's last error text.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from nautilus_trader.model.data import Bar
from nautilus_trader.model.instruments import Instrument

from ntrader_pipeline.ib.client import IBConnection
from ntrader_pipeline.ib.codes import (
    NO_SECURITY_DEFINITION,
    Outcome,
    Verdict,
    classify,
    is_permission_error,
    permission_message,
)
from ntrader_pipeline.ib.connection_share import ConnectionShare
from ntrader_pipeline.ib.pacing import PacedRequest, PacingLimiter
from ntrader_pipeline.ib.request_groups import request_groups, yearly_requests_fit
from ntrader_pipeline.ingest.completeness import (
    SessionCoverage,
    answered_session,
    bars_coverage,
    session_bars,
)
from ntrader_pipeline.ingest.errors import (
    ContractNotFoundError,
    FetchError,
    GatewayUnavailableError,
    IBError,
    IncompleteSessionError,
    InvalidRequestError,
    MarketDataPermissionError,
    SessionFetchFailedError,
    TransientFetchError,
)
from ntrader_pipeline.logs import get_logger
from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.sessions import TradingSession
from ntrader_pipeline.markets.universe import InstrumentSpec
from ntrader_pipeline.settings import IBSettings

_BAR_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86_400, "WEEK": 7 * 86_400}


@dataclass(frozen=True, slots=True)
class SessionResult:
    """A fetched session: the bars IB answered for it and their coverage (expected vs present), or none
    and IB's reason why there is no data."""

    session: TradingSession
    bars: list[Bar]
    empty_reason: str | None = None
    attempts: int = 1
    coverage: SessionCoverage | None = None

    @property
    def is_empty(self) -> bool:
        return self.empty_reason is not None


@dataclass
class FetchStats:
    requests: int = 0
    head_requests: int = 0  # reqHeadTimeStamp, once per instrument and what-to-show
    connections: int = 0
    retries: int = 0
    backoff_s: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)


def backoff_delay(settings: IBSettings, attempt: int, rng: random.Random) -> float:
    """Exponential backoff with jitter before retry number `attempt` (1 = the first retry)."""
    base = min(settings.backoff_cap_s, settings.backoff_base_s * 2 ** (attempt - 1))
    return base + base * settings.backoff_jitter * rng.random()


def default_limiter(settings: IBSettings) -> PacingLimiter | None:
    if not settings.pacing:
        return None
    return PacingLimiter(settings.pacing_db, max_wait_s=settings.pacing_max_wait_s)


class IBFetcher:
    """Use as a context manager; connects on first use and always disconnects on exit."""

    def __init__(
        self,
        settings: IBSettings | None = None,
        *,
        limiter: PacingLimiter | Callable[[IBSettings], PacingLimiter | None] | None = default_limiter,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings or IBSettings()
        self.limiter = limiter(self.settings) if callable(limiter) else limiter
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._connection: IBConnection | None = None
        self._lock = threading.RLock()  # the connection, its users and the stats, across threads
        self._users = 0  # requests running on the connection now
        self._share = ConnectionShare()  # a retry after the connection died runs alone on it
        self._finished = False  # exited: no new connection (worker threads still running wind down)
        self._heads: dict[tuple[str, str], dt.datetime | None] = {}
        self.stats = FetchStats()
        self._log = get_logger(__name__)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with self._lock:
            self._finished = True
            self.close()

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @property
    def address(self) -> str:
        return f"{self.settings.host}:{self.settings.port} (client id {self.settings.client_id})"

    def connection(self) -> IBConnection:
        """The run's connection, replaced when its client died."""
        with self._lock:
            if self._connection is not None and not self._connection.is_alive():
                self.close()
            if self._connection is None:
                if self._finished:
                    raise GatewayUnavailableError(f"the run's IB fetcher for {self.address} was closed")
                connection = IBConnection(self.settings)
                connection.connect()
                self._connection = connection
                self.stats.connections += 1
            return self._connection

    @contextmanager
    def _using(self, alone: bool = False) -> Iterator[IBConnection]:
        """The run's connection, counted as in use until the block ends (see `_renew_connection`);
        `alone`: with no other request on it (ib/connection_share.py)."""
        with self._share.using(alone):
            with self._lock:
                connection = self.connection()
                self._users += 1
            try:
                yield connection
            finally:
                with self._lock:
                    self._users -= 1

    def _renew_connection(self) -> None:
        """A fresh connection for the next attempt, unless other requests are running on this one (a
        dead one is replaced by `connection()` anyway)."""
        with self._lock:
            if self._users == 0:
                self.close()

    # -- instruments -------------------------------------------------------------------------

    def instrument(self, spec: InstrumentSpec) -> Instrument:
        """The contract's definition; ContractNotFoundError at once for an unknown contract."""
        last = ""
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                with self._using() as connection:
                    return connection.fetch_instrument(spec)
            except TransientFetchError as exc:
                last = str(exc)
                self._log.warning(
                    "instrument_retry", instrument=spec.instrument_id, attempt=attempt, error=last
                )
                self._renew_connection()
        raise SessionFetchFailedError(
            f"{spec.instrument_id}: no contract details after {self.settings.max_attempts} attempts "
            f"(IB_MAX_ATTEMPTS); last error: {last}"
        )

    # -- head timestamps ---------------------------------------------------------------------

    def head_timestamp(self, spec: InstrumentSpec, what_to_show: str) -> dt.datetime | None:
        """IB's earliest data for the instrument and what-to-show, asked once per run (reqHeadTimeStamp);
        None when IB did not say (the sessions are then fetched as usual). A permission error raises
        MarketDataPermissionError at once: every bar request would fail the same way."""
        key = (spec.instrument_id, what_to_show)
        if key not in self._heads:
            with self._lock:
                self.stats.head_requests += 1
            with self._using() as connection:
                head, errors = connection.head_timestamp(spec, what_to_show)
            refused = next((e for e in errors if is_permission_error(e)), None)
            if refused is not None:
                raise MarketDataPermissionError(
                    permission_message(spec.instrument_id, what_to_show, refused, "(head timestamp)")
                )
            if head is None:
                self._log.warning(
                    "head_timestamp_unknown",
                    instrument=spec.instrument_id,
                    what_to_show=what_to_show,
                    errors="; ".join(str(e) for e in errors),
                )
            self._heads[key] = head
        return self._heads[key]

    # -- bars --------------------------------------------------------------------------------

    def sessions(
        self, spec: InstrumentSpec, bar_spec: BarSpec, sessions: Sequence[TradingSession]
    ) -> Iterator[SessionResult | SessionFetchFailedError]:
        """Each session's result as soon as it is in, in order of the responses.

        A session that exhausted its retries is yielded as its error (the run goes on with the rest);
        FATAL outcomes raise, since every later request for the contract would fail the same way.
        """
        for group in request_groups(spec, bar_spec, sessions):
            yield from self.fetch_group(spec, bar_spec, group)

    def fetch_group(
        self, spec: InstrumentSpec, bar_spec: BarSpec, group: Sequence[TradingSession]
    ) -> list[SessionResult | SessionFetchFailedError]:
        """The results of one group of `request_groups` (a session, or a year of daily sessions asked in
        one request); FATAL outcomes raise. Thread-safe: several groups may be fetched at once."""
        if bar_spec.is_intraday or not yearly_requests_fit(spec):
            return [self._session_or_error(spec, bar_spec, session) for session in group]
        found = self._daily_chunk(spec, bar_spec, list(group))
        results: list[SessionResult | SessionFetchFailedError] = []
        for session in group:
            if session.date in found:
                bars = found[session.date]
                results.append(SessionResult(session, bars, coverage=bars_coverage(bars, bar_spec, session)))
            else:
                results.append(self._session_or_error(spec, bar_spec, session))
        return results

    def session(self, spec: InstrumentSpec, bar_spec: BarSpec, session: TradingSession) -> SessionResult:
        """One session by a "1 D" request; raises SessionFetchFailedError once retries are spent."""
        last = ""
        alone = False  # after the connection died under it, a retry runs alone (ib/connection_share.py)
        for attempt in range(1, self.settings.max_attempts + 1):
            received, errors, alive = self._request(spec, bar_spec, session.close, "1 D", alone)
            bars: list[Bar] = []
            found: SessionCoverage | None = None
            incomplete = ""
            try:
                bars, found = _answered(received, spec, bar_spec, session, errors, alive)
            except IncompleteSessionError as exc:
                incomplete = str(exc)
            verdict = classify(
                complete=not incomplete, errors=errors, client_alive=alive, incomplete_reason=incomplete
            )
            self._count(verdict)
            if verdict.outcome is Outcome.COMPLETE:
                if found is not None and not found.is_full:
                    self._log.info(
                        "session_sparse",
                        instrument=spec.instrument_id,
                        session=session.key,
                        coverage=found.describe(),
                    )
                return SessionResult(session, bars, attempts=attempt, coverage=found)
            if verdict.outcome is Outcome.EMPTY:
                return SessionResult(session, [], empty_reason=verdict.reason, attempts=attempt)
            if verdict.outcome is Outcome.FATAL:
                raise self._fatal(verdict, errors, spec, bar_spec, session)
            last = verdict.reason
            self._log.warning(
                "session_retry",
                instrument=spec.instrument_id,
                session=session.key,
                attempt=attempt,
                error=last,
            )
            if attempt < self.settings.max_attempts:
                self._prepare_retry(verdict, attempt)
                alone = not alive
        raise SessionFetchFailedError(
            f"{spec.instrument_id} {bar_spec} session {session.key}: not stored after "
            f"{self.settings.max_attempts} attempts (IB_MAX_ATTEMPTS) against the IB gateway at "
            f"{self.address}; "
            f"IB's last error: {last}. Nothing was written for this session; re-materialize the partition "
            "once the gateway serves it.",
            session.key,
        )

    # -- internals ---------------------------------------------------------------------------

    def _session_or_error(
        self, spec: InstrumentSpec, bar_spec: BarSpec, session: TradingSession
    ) -> SessionResult | SessionFetchFailedError:
        try:
            return self.session(spec, bar_spec, session)
        except SessionFetchFailedError as exc:
            return exc

    def _daily_chunk(
        self, spec: InstrumentSpec, bar_spec: BarSpec, chunk: list[TradingSession]
    ) -> dict[dt.date, list[Bar]]:
        """One "1 Y" request for the chunk; the complete sessions it returned, by date."""
        if len(chunk) == 1:
            return {}  # a single session is its own "1 D" request
        received, errors, _ = self._request(spec, bar_spec, chunk[-1].close, "1 Y")
        fatal = [e for e in errors if e.code == NO_SECURITY_DEFINITION or is_permission_error(e)]
        if fatal:
            permission = fatal[0] if is_permission_error(fatal[0]) else None
            verdict = Verdict(Outcome.FATAL, str(fatal[0]), permission=permission)
            raise self._fatal(verdict, errors, spec, bar_spec, chunk[-1])
        found: dict[dt.date, list[Bar]] = {}
        for session in chunk:
            if bars := session_bars(received, bar_spec, session):  # a daily bar is whole by itself
                found[session.date] = bars
        return found

    def _request(
        self, spec: InstrumentSpec, bar_spec: BarSpec, end: dt.datetime, duration: str, alone: bool = False
    ) -> tuple[list[Bar], list[IBError], bool]:
        end_utc = end.astimezone(dt.UTC).replace(tzinfo=None)
        try:
            with self._using(alone) as connection:
                with self._lock:
                    self.stats.requests += 1
                if self.limiter is None:
                    received, errors = connection.fetch_bars(spec, bar_spec, end_utc, duration)
                else:
                    with self.limiter.slot(_paced(spec, bar_spec, end_utc, duration)):
                        received, errors = connection.fetch_bars(spec, bar_spec, end_utc, duration)
                return received, errors, connection.is_alive()
        except GatewayUnavailableError as exc:
            if self.stats.connections == 0:
                raise  # never reached the gateway this run: retrying sessions one by one cannot help
            return [], [IBError(-1, 0, f"reconnecting failed: {exc}")], False  # mid-run: counts as an attempt

    def _prepare_retry(self, verdict: Verdict, attempt: int) -> None:
        with self._lock:
            self.stats.retries += 1
            delay = backoff_delay(self.settings, attempt, self._rng) if verdict.pacing else 0.0
            self.stats.backoff_s += delay
        if delay:
            self._sleep(delay)
        self._renew_connection()  # a fresh connection for the retry

    def _count(self, verdict: Verdict) -> None:
        key = verdict.outcome.value
        with self._lock:
            self.stats.outcomes[key] = self.stats.outcomes.get(key, 0) + 1

    def _fatal(
        self,
        verdict: Verdict,
        errors: list[IBError],
        spec: InstrumentSpec,
        bar_spec: BarSpec,
        session: TradingSession,
    ) -> FetchError:
        if verdict.permission is not None:
            what = bar_spec.for_instrument(spec.instrument_id).ib_what_to_show
            return MarketDataPermissionError(
                permission_message(spec.instrument_id, what, verdict.permission, f"session {session.key}")
            )
        if any(e.code == NO_SECURITY_DEFINITION for e in errors):
            return ContractNotFoundError(
                f"{spec.instrument_id} {bar_spec} session {session.key}: IB has no contract for instrument "
                f"{spec.instrument_id} ({spec.sec_type} {spec.symbol} on {spec.exchange}/"
                f"{spec.primary_exchange} in {spec.currency}): {verdict.reason}. Fix the entry in the "
                "universe file or check the symbol in TWS."
            )
        return InvalidRequestError(
            f"{spec.instrument_id} {bar_spec} session {session.key}: IB rejected the request: "
            f"{verdict.reason}. The request itself is invalid (bar size, duration or contract fields); "
            "retrying cannot help — check the bar spec and the instrument's entry in the universe file."
        )


# Messages that say nothing about whether an answer is whole: connectivity restored with data kept,
# delayed-data notices, and IB's 21xx farm/status warnings.
_NOT_INTERRUPTIONS = frozenset({1102, 10167, 10168})


def _interruption(errors: Sequence[IBError], alive: bool) -> str | None:
    """Why the request may not have run to its end, or None when IB answered it whole."""
    if not alive:
        return "the IB client stopped reading from the gateway (dropped socket or undecodable message)"
    said = [e for e in errors if e.code not in _NOT_INTERRUPTIONS and not 2100 <= e.code < 2200]
    return "; ".join(str(e) for e in said) or None


def _answered(
    received: list[Bar],
    spec: InstrumentSpec,
    bar_spec: BarSpec,
    session: TradingSession,
    errors: list[IBError],
    alive: bool,
) -> tuple[list[Bar], SessionCoverage]:
    """The session's bars when IB answered the "1 D" request ending at its close (which covers the whole
    session) to its end; IncompleteSessionError when the answer was cut off."""
    return answered_session(
        received,
        spec.instrument_id,
        bar_spec,
        session,
        interrupted=_interruption(errors, alive),
        cause="; ".join(str(e) for e in errors) or "no error message from the gateway",
        remedy="it will be retried on a fresh connection within IB_MAX_ATTEMPTS",
    )


def _paced(spec: InstrumentSpec, bar_spec: BarSpec, end_utc: dt.datetime, duration: str) -> PacedRequest:
    contract = f"{spec.sec_type}:{spec.symbol}:{spec.exchange}:{spec.primary_exchange}:{spec.currency}"
    what = bar_spec.for_instrument(spec.instrument_id).ib_what_to_show
    return PacedRequest(
        request_key=f"{contract}|{bar_spec}|{end_utc.isoformat()}|{duration}",
        contract_key=f"{contract}|{what}",
        bar_seconds=bar_spec.step * _BAR_SECONDS.get(bar_spec.aggregation.upper(), 86_400),
        description=f"{spec.instrument_id} {bar_spec} {duration} ending {end_utc.isoformat()}Z",
    )
