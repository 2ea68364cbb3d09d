"""IB sessions of many instruments into the catalog, with up to IB_MAX_OPEN_REQUESTS requests in flight.

Each instrument is a lane of an `InterleavedPool` (ib/interleave.py): first its contract details and
head timestamp, then one job per request group (a session of intraday bars, a year of daily bars). The
lanes take turns, so instruments and sessions interleave. Jobs only ask IB; every catalog write (the
instrument, its head timestamp, a session's bars or empty record) happens here, on the thread that
iterates the records, one at a time, as each job finishes: records stream out as sessions settle.

An instrument's first request group goes out alone; its other groups are queued once it came back
without a FATAL answer (unknown contract, missing market-data permission, invalid request): a contract
IB refuses costs one request, as when fetching one request at a time. A FATAL answer fails that
instrument's sessions by name, each as a FAILED record, and the other instruments go on. Only a gateway
that cannot be reached at all stops the run (GatewayUnavailableError), as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from nautilus_trader.model.instruments import Instrument

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.ib.fetcher import IBFetcher, SessionResult
from ntrader_pipeline.ib.interleave import Finished, InterleavedPool, Job
from ntrader_pipeline.ib.request_groups import request_groups
from ntrader_pipeline.ingest.errors import FetchError, GatewayUnavailableError, SessionFetchFailedError
from ntrader_pipeline.ingest.run import SessionRecord, SessionStatus, store_ib_result
from ntrader_pipeline.logs import get_logger
from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.sessions import TradingSession
from ntrader_pipeline.markets.universe import InstrumentSpec


@dataclass(frozen=True, slots=True)
class _Prepare:
    """Job tag: the instrument's contract details and (when not stored yet) its head timestamp."""

    instrument: InstrumentSpec
    sessions: list[TradingSession]
    stored_head: dt.datetime | None


@dataclass(frozen=True, slots=True)
class _Fetch:
    """Job tag: one request group of the instrument's sessions."""

    instrument: InstrumentSpec
    sessions: list[TradingSession]


def ib_backfill(
    store: CatalogStore,
    fetcher: IBFetcher,
    spec: BarSpec,
    instruments: Sequence[InstrumentSpec],
    sessions: Mapping[str, list[TradingSession]],
) -> Iterator[SessionRecord]:
    """A record per session of `sessions` ({instrument_id: sessions}), as each settles."""
    fetcher.connection()  # no gateway: fail here at once, before any worker waits on it
    pool = InterleavedPool(fetcher.settings.max_open_requests)
    for instrument in instruments:
        todo = sessions[instrument.instrument_id]
        head = _stored_head(store, instrument, spec)
        pool.add(
            Job(
                instrument.instrument_id,
                _Prepare(instrument, todo, head),
                _preparer(fetcher, instrument, spec, todo, head),
            )
        )
    held: dict[str, list[Job]] = {}  # each instrument's groups after its first, until that one is back
    for finished in pool.results():
        if isinstance(finished.job.tag, _Prepare):
            jobs = list(_prepared(store, fetcher, spec, finished))
            records = [job for job in jobs if isinstance(job, SessionRecord)]
            yield from records
            groups = [job for job in jobs if isinstance(job, Job)]
            if groups:
                pool.add(groups[0])
                held[finished.job.lane] = groups[1:]
        else:
            lane = finished.job.lane
            if finished.error is None:
                for job in held.pop(lane, []):
                    pool.add(job)
            yield from _fetched(store, spec, pool, finished, held.pop(lane, []))


def _stored_head(store: CatalogStore, instrument: InstrumentSpec, spec: BarSpec) -> dt.datetime | None:
    what_to_show = spec.for_instrument(instrument.instrument_id).ib_what_to_show
    return store.head_timestamp(instrument.instrument_id, what_to_show)


def _preparer(
    fetcher: IBFetcher,
    instrument: InstrumentSpec,
    spec: BarSpec,
    sessions: list[TradingSession],
    stored_head: dt.datetime | None,
) -> Callable[[], tuple[Instrument, dt.datetime | None]]:
    def prepare() -> tuple[Instrument, dt.datetime | None]:
        definition = fetcher.instrument(instrument)  # an unknown contract fails at once
        if instrument.sec_type != "STK" or not sessions or stored_head is not None:
            return definition, None
        what_to_show = spec.for_instrument(instrument.instrument_id).ib_what_to_show
        return definition, fetcher.head_timestamp(instrument, what_to_show)  # a permission error raises

    return prepare


def _prepared(
    store: CatalogStore, fetcher: IBFetcher, spec: BarSpec, finished: Finished
) -> Iterator[SessionRecord | Job]:
    """Store the instrument (and a newly asked head timestamp); a NOT_LISTED record for each session
    before the head, then a job per request group of the rest; on a fatal answer, a FAILED record for
    each of the instrument's sessions."""
    tag: _Prepare = finished.job.tag
    if finished.error is not None:
        yield from _failed(tag.instrument, tag.sessions, _fatal(finished.error))
        return
    definition, asked_head = finished.value
    instrument_id = tag.instrument.instrument_id
    store.write_instrument(definition)
    what_to_show = spec.for_instrument(instrument_id).ib_what_to_show
    if asked_head is not None:
        store.write_head_timestamp(instrument_id, what_to_show, asked_head)
    head = asked_head or tag.stored_head
    listed = tag.sessions
    if head is not None and tag.instrument.sec_type == "STK":
        listed = [s for s in tag.sessions if s.close > head]
        yield from _not_listed(tag.instrument, spec, [s for s in tag.sessions if s.close <= head], head)
    for group in request_groups(tag.instrument, spec, listed):
        run = _group_fetcher(fetcher, tag.instrument, spec, group)
        yield Job(instrument_id, _Fetch(tag.instrument, group), run)


def _group_fetcher(
    fetcher: IBFetcher, instrument: InstrumentSpec, spec: BarSpec, group: list[TradingSession]
) -> Callable[[], list[SessionResult | SessionFetchFailedError]]:
    return lambda: fetcher.fetch_group(instrument, spec, group)


def _fetched(
    store: CatalogStore, spec: BarSpec, pool: InterleavedPool, finished: Finished, held: list[Job]
) -> Iterator[SessionRecord]:
    """Store each result of a request group; a fatal answer fails the group and the instrument's other
    groups, queued or `held` (their sessions would fail the same way), and leaves the other instruments
    running."""
    tag: _Fetch = finished.job.tag
    instrument_id = tag.instrument.instrument_id
    if finished.error is not None:
        error = _fatal(finished.error)
        dropped = [s for job in [*pool.drop_lane(instrument_id), *held] for s in job.tag.sessions]
        yield from _failed(tag.instrument, [*tag.sessions, *dropped], error)
        return
    bar_type = spec.bar_type(instrument_id)
    for result in finished.value:
        if isinstance(result, SessionFetchFailedError):
            get_logger(__name__, instrument=instrument_id).error("session_failed", error=str(result))
            yield SessionRecord(
                instrument_id, result.session_key or "", SessionStatus.FAILED, detail=str(result)
            )
            continue
        yield store_ib_result(store, instrument_id, bar_type, result)


def _fatal(error: BaseException) -> FetchError:
    """The instrument's fatal fetch error; anything else (no gateway at all, a bug) stops the run."""
    if isinstance(error, FetchError) and not isinstance(error, GatewayUnavailableError):
        return error
    raise error


def _failed(
    instrument: InstrumentSpec, sessions: list[TradingSession], error: FetchError
) -> Iterator[SessionRecord]:
    get_logger(__name__, instrument=instrument.instrument_id).error(
        "instrument_failed", sessions=len(sessions), error=str(error)
    )
    for session in sorted(sessions, key=lambda s: s.date):
        yield SessionRecord(instrument.instrument_id, session.key, SessionStatus.FAILED, detail=str(error))


def _not_listed(
    instrument: InstrumentSpec, spec: BarSpec, sessions: list[TradingSession], head: dt.datetime
) -> Iterator[SessionRecord]:
    """A NOT_LISTED record for each session that closed before IB's earliest data: IB is not asked."""
    instrument_id = instrument.instrument_id
    what_to_show = spec.for_instrument(instrument_id).ib_what_to_show
    detail = (
        f"{instrument_id} has no {what_to_show} data before {head:%Y-%m-%d %H:%M}Z (IB's head timestamp): "
        "the session closed before the instrument's data begins (not listed yet), so IB was not asked"
    )
    bar_type = spec.bar_type(instrument_id)
    for session in sessions:
        yield SessionRecord(
            instrument_id, session.key, SessionStatus.NOT_LISTED, bar_type=bar_type, detail=detail
        )
