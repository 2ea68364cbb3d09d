"""One client connection: the handshake, then startApi and the requests of the historical-data flow.

Anything the gateway does not understand is logged and ignored; a request that fails is answered with an
IB error for its reqId. A connection is only ever closed by the client, a framing error, shutdown, or a
scripted `drop` fault.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ntrader_pipeline.gateway import messages
from ntrader_pipeline.gateway.codec import (
    HANDSHAKE_PREFIX,
    Field,
    FramingError,
    decode_payload,
    encode_message,
    parse_length,
    parse_version_range,
)
from ntrader_pipeline.gateway.contracts import CONTRACTS, ListedContract, find_contract, trading_hours
from ntrader_pipeline.gateway.faults import (
    PACING_VIOLATION,
    FaultOutcome,
    GatewayFaults,
    apply_faults,
)
from ntrader_pipeline.gateway.history import (
    VALIDATION_ERROR,
    Duration,
    HistoryRequestError,
    HistoryWindow,
    check_duration_fits_bar_size,
    history_window,
    parse_bar_size,
    parse_end_time,
    require_served_bar_size,
)
from ntrader_pipeline.gateway.inbound import (
    ContractDetailsRequest,
    HeadTimestampRequest,
    HistoricalDataRequest,
    Incoming,
    MalformedRequestError,
    parse_cancel_request_id,
    parse_contract_details_request,
    parse_head_timestamp_request,
    parse_historical_data_request,
    peek_request_id,
)
from ntrader_pipeline.gateway.latency import AnswerTimeModel
from ntrader_pipeline.gateway.pacing import HistoricalPacing, HistoricalQuery, PacingViolation
from ntrader_pipeline.gateway.paper_account import account_answer
from ntrader_pipeline.gateway.realities import (
    DELAYED_NOTICE,
    HEAD_TIMESTAMP_NOT_SUBSCRIBED,
    GatewayRealities,
    MarketReality,
    permission_error,
)
from ntrader_pipeline.gateway.reality_answers import refuse_as_ib_does, served_bars
from ntrader_pipeline.gateway.reality_bars import head_timestamp
from ntrader_pipeline.gateway.request_log import HistoricalRecord, ReceivedRequest, RequestLog
from ntrader_pipeline.gateway.synthetic import DAY, SyntheticBar
from ntrader_pipeline.markets.calendars import get_session_calendar
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE

LOGGER = logging.getLogger("ntrader_pipeline.gateway")
NO_SECURITY_DEFINITION = (200, "No security definition has been found for the request")
FARM_NOTICES = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)
SERVED_WHAT_TO_SHOW = ("TRADES", "MIDPOINT", "ADJUSTED_LAST")
Clock = Callable[[], dt.datetime]
_EXCHANGE_TZ = ZoneInfo(EXCHANGE_TIMEZONE)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def negotiate_version(client_min: int, client_max: int, forced: int | None) -> int | None:
    """The highest version both sides support, or the forced one if the client allows it."""
    if forced is not None:
        return forced if client_min <= forced <= client_max else None
    chosen = min(client_max, messages.MAX_SUPPORTED_VERSION)
    return chosen if chosen >= max(client_min, messages.MIN_SUPPORTED_VERSION) else None


@dataclass(frozen=True, slots=True)
class GatewayContext:
    """What every connection of one gateway shares."""

    server_version: int | None  # forced version, or None for the highest the client allows
    faults: GatewayFaults
    account: str
    clock: Clock  # "now" for empty end times and completed sessions; tests pin it
    requests: RequestLog
    pacing: HistoricalPacing | None = None  # None: no pacing limits (the default)
    realities: GatewayRealities = field(default_factory=GatewayRealities)  # ILLQ's by default
    contracts: Mapping[str, ListedContract] = field(default_factory=lambda: CONTRACTS)  # universe.py
    answer_time: AnswerTimeModel | None = None  # None: answers at once (latency.py)


class ClientConnection:
    """One client connection: handshake, then a loop of framed requests."""

    def __init__(
        self,
        context: GatewayContext,
        connection_id: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.context = context
        self.id = connection_id
        self.reader = reader
        self.writer = writer
        self.task: asyncio.Task | None = None
        self.version = messages.MAX_SUPPORTED_VERSION
        self.next_order_id = 1
        self.peer = writer.get_extra_info("peername")
        # historical requests answered later (scripted delay) or never (connectivity lost), by reqId
        self._pending: dict[int, asyncio.Task] = {}

    def close(self) -> None:
        for task in list(self._pending.values()):
            task.cancel()
        if not self.writer.is_closing():
            self.writer.close()

    async def run(self) -> None:
        try:
            if await self._handshake():
                while True:
                    fields = await self._read_message()
                    await self._dispatch(fields)
                    await self.writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            LOGGER.info("connection %d from %s closed by the client", self.id, self.peer)
        except FramingError as exc:
            LOGGER.warning("connection %d: closing after a framing error: %s", self.id, exc)
        except asyncio.CancelledError:
            LOGGER.info("connection %d cancelled by gateway shutdown", self.id)
            raise
        finally:
            self.close()

    async def _read_message(self) -> list[str]:
        length = parse_length(await self.reader.readexactly(4))
        return decode_payload(await self.reader.readexactly(length))

    def _send(self, fields: list[Field]) -> None:
        self.writer.write(encode_message(fields))

    def _send_error(self, req_id: int, code: int, text: str) -> None:
        LOGGER.info("connection %d: error %d for reqId %d: %s", self.id, code, req_id, text)
        self._send(messages.error(self.version, req_id, code, text, self.context.clock()))

    async def _handshake(self) -> bool:
        prefix = await self.reader.readexactly(len(HANDSHAKE_PREFIX))
        if prefix != HANDSHAKE_PREFIX:
            raise FramingError(f"expected the API handshake prefix, got {prefix!r}")
        fields = await self._read_message()
        client_min, client_max = parse_version_range(fields[0] if fields else "")
        version = negotiate_version(client_min, client_max, self.context.server_version)
        if version is None:
            LOGGER.warning(
                "connection %d: no common server version (client v%d..%d, forced %s); closing",
                self.id,
                client_min,
                client_max,
                self.context.server_version,
            )
            return False
        self.version = version
        # exactly one message: the client reads only the first message of its first read
        self._send(messages.handshake_reply(version, self.context.clock()))
        await self.writer.drain()
        LOGGER.info("connection %d from %s: negotiated server version %d", self.id, self.peer, version)
        return True

    async def _dispatch(self, fields: list[str]) -> None:
        if not fields:
            return
        try:
            message_id = int(fields[0])
        except ValueError:
            LOGGER.warning("connection %d: ignoring message with non-numeric id %r", self.id, fields[0])
            return
        try:
            historical = contract_details = None
            if message_id == Incoming.REQ_HISTORICAL_DATA:
                historical = parse_historical_data_request(fields, self.version)
            elif message_id == Incoming.REQ_CONTRACT_DATA:
                contract_details = parse_contract_details_request(fields, self.version)
        except MalformedRequestError as exc:
            self.context.requests.append(ReceivedRequest(self.id, message_id, tuple(fields), utc_now()))
            req_id = peek_request_id(fields, self.version)
            LOGGER.warning("connection %d: malformed message %d (%s): %s", self.id, message_id, exc, fields)
            if req_id is not None:
                self._send_error(req_id, VALIDATION_ERROR, f"Error validating request: {exc}")
            return
        received_monotonic = time.monotonic()
        received = ReceivedRequest(
            self.id, message_id, tuple(fields), utc_now(), historical, contract_details
        )
        self.context.requests.append(received)
        try:
            if historical is not None:
                await self._historical_data(historical, received, received_monotonic)
            else:
                self._handle(message_id, fields, contract_details)
        except Exception:  # a bug must cost one request, never the connection
            LOGGER.exception("connection %d: failed to handle message %d: %s", self.id, message_id, fields)
            req_id = peek_request_id(fields, self.version)
            if req_id is not None:
                self._send_error(req_id, VALIDATION_ERROR, "Error validating request: internal gateway error")

    def _handle(
        self,
        message_id: int,
        fields: list[str],
        contract_details: ContractDetailsRequest | None,
    ) -> None:
        if contract_details is not None:
            self._contract_details(contract_details)
        elif message_id == Incoming.START_API:
            self._start_api()
        elif message_id == Incoming.REQ_IDS:
            self._send(messages.next_valid_id(self.next_order_id))
        elif message_id == Incoming.REQ_MANAGED_ACCTS:
            self._send(messages.managed_accounts([self.context.account]))
        elif message_id == Incoming.REQ_CURRENT_TIME:
            self._send(messages.current_time(self.context.clock()))
        elif message_id == Incoming.REQ_CURRENT_TIME_IN_MILLIS:
            self._send(messages.current_time_in_millis(self.context.clock()))
        elif message_id == Incoming.CANCEL_HISTORICAL_DATA:
            # only delayed or unanswered queries are still open; anything else has nothing left to cancel
            req_id = parse_cancel_request_id(fields)
            LOGGER.debug("connection %d: cancelHistoricalData reqId %d", self.id, req_id)
            if (task := self._pending.get(req_id)) is not None:
                task.cancel()
        elif message_id == Incoming.REQ_MARKET_DATA_TYPE:
            pass  # IB does not answer this until market data flows
        elif message_id == Incoming.REQ_HEAD_TIMESTAMP:
            self._head_timestamp(parse_head_timestamp_request(fields))
        elif not self._connect_sequence(message_id, fields):
            # IB answers every request; one it does not know gets an error, never silence
            req_id = peek_request_id(fields, self.version)
            LOGGER.warning("connection %d: unsupported message %d: %s", self.id, message_id, fields)
            if req_id is not None:
                self._send_error(
                    req_id,
                    VALIDATION_ERROR,
                    f"Error validating request: message {message_id} "
                    "is not supported by the embedded gateway",
                )

    def _connect_sequence(self, message_id: int, fields: list[str]) -> bool:
        """What a paper account answers (paper_account.py); False if not one of those requests."""
        answer = account_answer(message_id, fields, self.context.account, self.context.clock())
        if answer is None:
            return False
        for message in answer:
            self._send(message)
        return True

    def _head_timestamp(self, request: HeadTimestampRequest) -> None:
        """The earliest bar IB has for the contract and what-to-show (its listing for a late listing)."""
        contract = find_contract(request.contract, self.context.contracts)
        if contract is None:
            self._send_error(request.req_id, *NO_SECURITY_DEFINITION)
            return
        reality = self.context.realities.get(contract.key)
        if reality is not None and reality.permission not in (None, "delayed"):
            error = (
                HEAD_TIMESTAMP_NOT_SUBSCRIBED
                if reality.permission == "no_permissions"
                else permission_error(reality.permission, contract.primary_exchange, contract.sec_type)
            )
            self._send_error(request.req_id, *error)
            return
        what_to_show = request.what_to_show.strip().upper()
        first = get_session_calendar(contract.calendar).first_session
        head = head_timestamp(contract.key, reality, what_to_show, first)
        self._send(messages.head_timestamp(request.req_id, head, request.format_date))

    def _start_api(self) -> None:
        self._send(messages.managed_accounts([self.context.account]))
        self._send(messages.next_valid_id(self.next_order_id))
        for code, text in FARM_NOTICES:
            self._send(messages.error(self.version, -1, code, text, self.context.clock()))

    def _contract_details(self, request: ContractDetailsRequest) -> None:
        contract = find_contract(request.contract, self.context.contracts)
        if contract is None:
            self._send_error(request.req_id, *NO_SECURITY_DEFINITION)
            return
        exchange = request.contract.exchange.upper() or "SMART"
        today = self.context.clock().astimezone(_EXCHANGE_TZ).date()
        details = messages.contract_data(
            self.version, request.req_id, contract, exchange, trading_hours(today, contract.calendar)
        )
        self._send(details)
        self._send(messages.contract_data_end(request.req_id))

    async def _historical_data(
        self, request: HistoricalDataRequest, received: ReceivedRequest, received_monotonic: float
    ) -> None:
        what_to_show = request.what_to_show.strip().upper()
        record_id = self._record_historical(request, received, received_monotonic, what_to_show)
        contract = find_contract(request.contract, self.context.contracts)
        if contract is None:
            self._fail(record_id, request.req_id, *NO_SECURITY_DEFINITION)
            return
        if request.keep_up_to_date:
            LOGGER.info("connection %d: keepUpToDate requested; serving history only", self.id)
        admitted, throttle_s = False, 0.0
        try:
            bar_seconds, duration = _parse_history_shape(request, what_to_show)
            # a malformed query is refused before it counts for pacing
            admitted, throttle_s = self._admit(request, bar_seconds, what_to_show)
            _check_history_served(request, what_to_show, bar_seconds, duration)
            window, reality, bars = self._window_bars(request, contract, what_to_show, bar_seconds, duration)
        except HistoryRequestError as exc:
            if admitted:
                self._release()
            self._fail(record_id, request.req_id, exc.code, exc.text)
            return
        outcome = self._decide_outcome(
            record_id, request, contract, bars, what_to_show, bar_seconds, throttle_s
        )
        for code, text in outcome.notices:
            self._send_error(-1, code, text)
        if reality is not None and reality.permission == "delayed":
            self._send_error(request.req_id, *DELAYED_NOTICE)  # a notice: the bars follow
        answer = _Answer(record_id, request, window, bar_seconds, what_to_show, outcome)
        if outcome.delay or outcome.silent:
            self._answer_from_task(answer, admitted)
            return
        await self._answer(answer, release=admitted)

    def _record_historical(
        self,
        request: HistoricalDataRequest,
        received: ReceivedRequest,
        received_monotonic: float,
        what_to_show: str,
    ) -> int:
        """Log the request as asked (before any check can fail it); returns its record id."""
        query = request.contract
        return self.context.requests.add_historical(
            HistoricalRecord(
                self.id,
                request.req_id,
                query.symbol.upper(),
                query.sec_type.upper(),
                query.exchange.upper(),
                query.primary_exchange.upper(),
                what_to_show,
                request.bar_size,
                request.duration,
                request.end_date_time,
                received.received_at,
                received_monotonic,
            )
        )

    def _window_bars(
        self,
        request: HistoricalDataRequest,
        contract: ListedContract,
        what_to_show: str,
        bar_seconds: int,
        duration: Duration,
    ) -> tuple[HistoryWindow, MarketReality | None, list[SyntheticBar]]:
        """The requested window and its bars under the contract's reality; raises IB's error where IB
        would refuse the query (no permission, no data)."""
        now = self.context.clock()
        window = history_window(duration, parse_end_time(request.end_date_time, now), now, contract.calendar)
        reality = self.context.realities.get(contract.key)
        bars = served_bars(contract.key, contract.symbol, window, bar_seconds, what_to_show, reality)
        refuse_as_ib_does(reality, contract, request.contract.exchange, what_to_show, window, bars)
        return window, reality, bars

    def _decide_outcome(
        self,
        record_id: int,
        request: HistoricalDataRequest,
        contract: ListedContract,
        bars: list[SyntheticBar],
        what_to_show: str,
        bar_seconds: int,
        throttle_s: float,
    ) -> FaultOutcome:
        """The scripted faults' outcome, held back further by the pacing throttle and the answer time."""
        outcome = apply_faults(
            self.context.faults,
            contract.symbol,
            bars,
            exchange=contract.primary_exchange or request.contract.exchange.upper(),
            what_to_show=what_to_show,
        )
        throttle_s += self._answer_time(record_id, len(outcome.bars), bar_seconds)
        if throttle_s:
            outcome = dataclasses.replace(outcome, delay=outcome.delay + throttle_s)
        return outcome

    def _answer_from_task(self, answer: _Answer, admitted: bool) -> None:
        """Answer a delayed or silent query later, from its own task."""
        outcome, log = answer.outcome, self.context.requests
        # logged now, before the client can see any effect of this request
        if outcome.silent:
            log.set_outcome(answer.record_id, "error 1100", delayed_s=outcome.delay)
        else:
            log.set_outcome(answer.record_id, "delayed", delayed_s=outcome.delay)
        # a task, so a slow or silent query holds up neither this connection's other requests nor other
        # connections nor shutdown (close() cancels it)
        self._pending[answer.request.req_id] = asyncio.create_task(self._answer_later(answer, admitted))

    def _admit(
        self, request: HistoricalDataRequest, bar_seconds: int, what_to_show: str
    ) -> tuple[bool, float]:
        """(True, throttle) once the pacing emulation (if on) has opened the request — `throttle` is how
        long its soft throttle holds the answer back (larger bars asked for too fast); raises its 162
        otherwise."""
        pacing = self.context.pacing
        if pacing is None:
            return False, 0.0
        query = request.contract
        exchange = query.exchange.strip().upper()
        paced = HistoricalQuery(
            contract=(
                str(query.con_id),
                query.symbol.strip().upper(),
                query.sec_type.strip().upper(),
                exchange,
                query.primary_exchange.strip().upper(),
                query.currency.strip().upper(),
                query.local_symbol.strip().upper(),
            ),
            exchange=exchange,
            what_to_show=what_to_show,
            bar_size=" ".join(request.bar_size.split()).lower(),
            bar_seconds=bar_seconds,
            duration=" ".join(request.duration.split()).upper(),
            end_date_time=request.end_date_time.strip(),
        )
        try:
            throttle_s = pacing.admit(paced)
        except PacingViolation as exc:
            LOGGER.info("connection %d: reqId %d pacing violation (%s)", self.id, request.req_id, exc)
            raise HistoryRequestError(*PACING_VIOLATION) from None
        return True, throttle_s

    def _answer_time(self, record_id: int, bars: int, bar_seconds: int) -> float:
        """How long the answer-time model (if on) holds this answer back; recorded in the request log."""
        model = self.context.answer_time
        if model is None:
            return 0.0
        answer = model.answer_time(bars, self.context.requests.open_historical(), bar_seconds)
        self.context.requests.set_answer_time(record_id, answer.latency_s, answer.throttle_s)
        return answer.total_s

    def _release(self) -> None:
        if self.context.pacing is not None:
            self.context.pacing.release()

    def _fail(self, record_id: int, req_id: int, code: int, text: str) -> None:
        self.context.requests.set_outcome(record_id, f"error {code}")
        self._send_error(req_id, code, text)

    async def _answer_later(self, answer: _Answer, admitted: bool) -> None:
        outcome, req_id = answer.outcome, answer.request.req_id
        answered = False
        try:
            if outcome.delay:
                await asyncio.sleep(outcome.delay)
            if outcome.silent:
                # connectivity lost: IB answers nothing until the client cancels or disconnects
                await asyncio.Event().wait()
            answered = True
            await self._answer(answer, release=admitted)
            await self.writer.drain()
        except ConnectionError:
            LOGGER.info("connection %d: client gone before reqId %d was answered", self.id, req_id)
        finally:
            self._pending.pop(req_id, None)
            if not answered:  # cancelled or connection closed before the answer
                self.context.requests.mark_closed(answer.record_id)
            if admitted and not answered:
                self._release()

    async def _answer(self, answer: _Answer, *, release: bool) -> None:
        """Send the answer; `release` closes the request for the pacing emulation first, so a client that
        has the answer never sees it still counted as open."""
        if release:
            self._release()
        outcome, request, log = answer.outcome, answer.request, self.context.requests
        if outcome.error is not None:
            self._fail(answer.record_id, request.req_id, *outcome.error)
            return
        answer_messages = messages.historical_data(
            self.version,
            request.req_id,
            (answer.window.start, answer.window.end),
            outcome.bars,
            format_date=request.format_date,
            daily=answer.bar_seconds == DAY,
            trades=answer.what_to_show != "MIDPOINT",
            garbled=outcome.garbled,
        )
        if outcome.drop:
            data = encode_message(answer_messages[0])
            LOGGER.info("connection %d: reqId %d dropping the socket mid-response", self.id, request.req_id)
            log.set_outcome(answer.record_id, "dropped")
            self.writer.write(data[: len(data) // 2])
            await self.writer.drain()
            self.writer.close()
            return
        LOGGER.info(
            "connection %d: reqId %d %s %s %s ending %r: %d bars",
            self.id,
            request.req_id,
            request.contract.symbol,
            request.bar_size,
            request.duration,
            request.end_date_time,
            len(outcome.bars),
        )
        # logged before sending, so a client that has the answer always finds it in the log
        log.set_outcome(answer.record_id, f"bars {len(outcome.bars)}")
        for fields in answer_messages:
            self._send(fields)


@dataclass(frozen=True, slots=True)
class _Answer:
    """Everything needed to answer a historical request once its faults have been decided."""

    record_id: int
    request: HistoricalDataRequest
    window: HistoryWindow
    bar_seconds: int
    what_to_show: str
    outcome: FaultOutcome


def _parse_history_shape(request: HistoricalDataRequest, what_to_show: str) -> tuple[int, Duration]:
    """The bar size in seconds and the duration; raises IB's validation error for a malformed query
    or a what-to-show the gateway does not serve."""
    bar_seconds = parse_bar_size(request.bar_size)
    duration = Duration.parse(request.duration)
    if what_to_show not in SERVED_WHAT_TO_SHOW:
        raise HistoryRequestError(
            VALIDATION_ERROR,
            f"Error validating request.-'whatToShow' : cause - {request.what_to_show!r} is not "
            f"served by the embedded gateway; use one of {', '.join(SERVED_WHAT_TO_SHOW)}",
        )
    return bar_seconds, duration


def _check_history_served(
    request: HistoricalDataRequest, what_to_show: str, bar_seconds: int, duration: Duration
) -> None:
    """IB's rules on a well-formed query: served bar sizes, a duration the bar size allows, and
    adjusted bars that end now; raises its validation error otherwise."""
    require_served_bar_size(bar_seconds, request.bar_size)
    check_duration_fits_bar_size(duration, bar_seconds)
    if what_to_show == "ADJUSTED_LAST" and request.end_date_time.strip():
        raise HistoryRequestError(  # IB's rule: adjusted bars only ever end now
            VALIDATION_ERROR,
            "Error validating request.-'bP' : cause - Adjusted Last historical data query end "
            f"date/time must be empty (got {request.end_date_time!r})",
        )
