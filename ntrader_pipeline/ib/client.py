"""A bounded, synchronous facade over Nautilus' `HistoricInteractiveBrokersClient` (with ib/requests.py the
only code that reaches into the client's internals).

The Nautilus client never raises: every failure comes back as empty or partial data, errors are
only logged, and some waits are unbounded. This wrapper owns a private event loop, bounds every
wait, and records every error message the gateway sends so callers can say *why* data is missing.

The loop runs on its own thread, so several threads may call at once: their requests are then in flight
together on the one connection (the cheapest concurrency: one socket, one decoder). Each call sees only
the errors addressed to the request ids it issued (and connection-wide ones).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import datetime as dt
import os
import socket
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Self

from nautilus_trader.adapters.interactive_brokers.historical import client as historic_client_module
from nautilus_trader.adapters.interactive_brokers.historical.client import HistoricInteractiveBrokersClient
from nautilus_trader.common.component import LogGuard, init_logging, is_logging_initialized
from nautilus_trader.common.enums import LogLevel
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.instruments import Instrument

from ntrader_pipeline.ib.codes import is_notice
from ntrader_pipeline.ib.contracts import as_universe_instrument, contract_for
from ntrader_pipeline.ib.requests import (
    only_up_to_now,
    parse_head_timestamp,
    request_adjusted_bars,
    request_head_timestamp,
    restamped,
    up_to_now_duration_or_refusal,
)
from ntrader_pipeline.ingest.errors import (
    ContractNotFoundError,
    GatewayUnavailableError,
    IBError,
    TransientFetchError,
)
from ntrader_pipeline.logs import get_logger
from ntrader_pipeline.markets.universe import BarSpec, InstrumentSpec
from ntrader_pipeline.settings import IBSettings

# Without a bound the Nautilus client reconnects forever to a gateway that is not there.
_MAX_CONNECTION_ATTEMPTS = "1"
_NOTICE_CODES = frozenset({2104, 2106, 2107, 2108, 2158})
_CLOSE_TIMEOUT_S = 2.0


_process_log_guard: LogGuard | None = None
# The request ids the current call issued: set per call, appended to by the client's id generator.
_CALL_REQUEST_IDS: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "ntrader_call_request_ids", default=None
)
# A call's own bound is the request timeout; this much more covers a loop busy with other calls.
_CALL_SLACK_S = 10.0


async def _started_in_loop(settings: IBSettings) -> HistoricInteractiveBrokersClient:
    return _new_historic_client(settings)


def _new_historic_client(settings: IBSettings) -> HistoricInteractiveBrokersClient:
    """Nautilus logging is process-wide and can be set up only once (a second set-up aborts the
    process), yet the historic client's constructor always sets it up and drops it with the client.
    Set it up once here, keep it for the process, and hand that to every client."""
    global _process_log_guard
    if _process_log_guard is None and not is_logging_initialized():
        _process_log_guard = init_logging(level_stdout=LogLevel.ERROR)
    original = historic_client_module.init_logging
    historic_client_module.init_logging = lambda **_: _process_log_guard
    try:
        return HistoricInteractiveBrokersClient(
            host=settings.host, port=settings.port, client_id=settings.client_id, log_level="ERROR"
        )
    finally:
        historic_client_module.init_logging = original


ADJUSTED_HISTORY_TIMEOUT_S = 120.0  # one ADJUSTED_LAST answer of years of daily bars (fetch_adjusted_bars)


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """The negotiated TWS server version and the accounts the gateway manages."""

    server_version: int
    accounts: tuple[str, ...]


class IBConnection:
    """One client connection: use as a context manager; all methods block with bounded waits."""

    def __init__(self, settings: IBSettings | None = None) -> None:
        self.settings = settings or IBSettings()
        self.errors: list[IBError] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._client: HistoricInteractiveBrokersClient | None = None
        self._error_events: set[asyncio.Event] = set()  # running calls, woken when an error arrives
        self._log = get_logger(__name__, ib_host=self.settings.host, ib_port=self.settings.port)

    @property
    def address(self) -> str:
        return f"{self.settings.host}:{self.settings.port} (client id {self.settings.client_id})"

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def connect(self) -> None:
        self._require_listener()
        os.environ.setdefault("IB_MAX_CONNECTION_ATTEMPTS", _MAX_CONNECTION_ATTEMPTS)
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(
            target=self._loop.run_forever, name=f"ib-client-{self.settings.client_id}", daemon=True
        )
        self._loop_thread.start()
        # Built inside the running loop, the client starts in the background; built outside, its
        # start-up blocks for up to 15 s whatever our connect bound says.
        self._client = self._submit(_started_in_loop(self.settings)).result()
        # The client turns asyncio debug mode on, which triples the cost of every message.
        self._loop.set_debug(False)
        self._record_errors()
        self._track_request_ids()
        self._run(self._client.connect(), self.settings.connect_timeout_s)
        if not self._client._client._is_client_ready.is_set():
            self.close()
            raise GatewayUnavailableError(
                f"the IB gateway at {self.address} accepted the socket but did not complete the API "
                f"handshake within {self.settings.connect_timeout_s:.0f} s; check that the client id is "
                "free and the API is enabled (TWS: Global Configuration → API → Settings)"
            )
        self._submit(_without_watchdog(self._client)).result(_CLOSE_TIMEOUT_S)
        self._log.info("ib_connected")

    def _require_listener(self) -> None:
        """Fail fast and plainly when nothing listens at host:port."""
        try:
            with socket.create_connection(
                (self.settings.host, self.settings.port), timeout=self.settings.connect_timeout_s
            ):
                pass
        except OSError as exc:
            raise GatewayUnavailableError(
                f"nothing answers at {self.settings.host}:{self.settings.port} ({exc.strerror or exc}); "
                "start IB Gateway/TWS (or `make gateway` for the embedded one) and check IB_HOST and IB_PORT"
            ) from exc

    def close(self) -> None:
        if self._loop is None:
            return
        if self._client is not None:
            try:
                self._run(self._client._client._stop_async(), _CLOSE_TIMEOUT_S)
            except Exception as exc:  # closing must never mask the real outcome
                self._log.warning("ib_close_failed", error=repr(exc))
        try:
            self._submit(_cancel_other_tasks()).result(_CLOSE_TIMEOUT_S * 2)
        except (concurrent.futures.TimeoutError, RuntimeError) as exc:
            self._log.warning("ib_close_tasks_left", error=repr(exc))
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._loop_thread is not None:
            self._loop_thread.join(_CLOSE_TIMEOUT_S)
        if not self._loop.is_running():
            self._loop.close()
        self._loop, self._loop_thread, self._client = None, None, None

    def fetch_instrument(self, spec: InstrumentSpec) -> Instrument:
        instruments, errors = self._call(
            self._require_client().request_instruments(contracts=[contract_for(spec)])
        )
        matching = [i for i in instruments or [] if i.id.value == spec.ib_instrument_id]
        if not matching and not instruments and not any(e.code == 200 for e in errors):
            said = "; ".join(str(e) for e in errors) or (
                f"no contract details within {self.settings.request_timeout_s:.0f} s"
            )
            raise TransientFetchError(
                f"no contract details for instrument {spec.instrument_id} from the IB gateway at "
                f"{self.address}: {said}"
            )
        if not matching:
            said = "; ".join(str(e) for e in errors) or (
                f"no contract details within {self.settings.request_timeout_s:.0f} s"
            )
            raise ContractNotFoundError(
                f"IB has no contract for instrument {spec.instrument_id} ({spec.sec_type} {spec.symbol} on "
                f"{spec.exchange}/{spec.primary_exchange} in {spec.currency}): {said}. "
                "Fix the entry in the universe file or check the symbol in TWS."
            )
        return as_universe_instrument(spec, matching[0])

    def fetch_bars(
        self, spec: InstrumentSpec, bar_spec: BarSpec, end_utc: Any, duration: str
    ) -> tuple[list[Bar], list[IBError]]:
        """Bars for one request ending at `end_utc` (naive UTC); the errors IB sent while it ran.

        FX bars are MID; CONTFUT and adjusted bars, which IB serves only up to now, are fetched from now
        back over the asked range (the caller keeps the sessions it wants; see ib/requests.py)."""
        bar_spec = bar_spec.for_instrument(spec.instrument_id)
        if not only_up_to_now(spec):
            return self.fetch_bars_as_asked(spec, bar_spec, end_utc, duration)
        back, refusal = up_to_now_duration_or_refusal(spec, bar_spec, end_utc, duration)
        if back is None:
            return [], [refusal] if refusal is not None else []
        if spec.adjusted:
            return self._fetch_adjusted_bars(spec, bar_spec, back)
        return self.fetch_bars_as_asked(spec, bar_spec, end_utc, back)  # Nautilus sends the empty end

    def fetch_bars_as_asked(
        self, spec: InstrumentSpec, bar_spec: BarSpec, end_utc: Any, duration: str
    ) -> tuple[list[Bar], list[IBError]]:
        """One request_bars call exactly as given."""
        bars, errors = self._call(
            self._require_client().request_bars(
                bar_specifications=[str(bar_spec)],
                end_date_time=end_utc,
                tz_name="UTC",
                duration=duration,
                contracts=[contract_for(spec)],
                use_rth=spec.use_rth,  # equities RTH; FX and futures their whole session
                timeout=max(1, int(self.settings.request_timeout_s)),
            )
        )
        if bars is None and not errors:
            errors = [IBError(-1, 0, f"no answer within {self.settings.request_timeout_s:.0f} s (timed out)")]
        return bars or [], errors

    def fetch_adjusted_bars(
        self, spec: InstrumentSpec, bar_spec: BarSpec, duration: str
    ) -> tuple[list[Bar], list[IBError]]:
        """One ADJUSTED_LAST request of `duration` ("3 Y", "200 D") ending now, as IB requires, for the
        adjusted series `spec` (`adjusted: true`): every bar shares the one anchor of this moment. Years of
        daily bars in one answer take longer than a session's request: it waits at least
        ADJUSTED_HISTORY_TIMEOUT_S."""
        timeout = max(self.settings.request_timeout_s, ADJUSTED_HISTORY_TIMEOUT_S)
        return self._fetch_adjusted_bars(spec, bar_spec.for_instrument(spec.instrument_id), duration, timeout)

    def _fetch_adjusted_bars(
        self, spec: InstrumentSpec, bar_spec: BarSpec, duration: str, timeout_s: float | None = None
    ) -> tuple[list[Bar], list[IBError]]:
        """ADJUSTED_LAST bars ending now, stamped with the adjusted series' bar type (SPY-ADJ.ARCA-…)."""
        # The client decodes bars only for an instrument in its cache, under the id IB gives the contract.
        source_type = BarType.from_str(bar_spec.bar_type(spec.ib_instrument_id))
        limit = timeout_s or self.settings.request_timeout_s
        bars, errors = self._call(
            request_adjusted_bars(
                self._require_client(), contract_for(spec), source_type, duration, max(1, int(limit))
            ),
            timeout_s=limit,
        )
        if bars is None and not errors:
            errors = [IBError(-1, 0, f"no answer within {limit:.0f} s (timed out)")]
        return restamped(bars or [], BarType.from_str(bar_spec.bar_type(spec.instrument_id))), errors

    def head_timestamp(
        self, spec: InstrumentSpec, what_to_show: str
    ) -> tuple[dt.datetime | None, list[IBError]]:
        """IB's earliest data point for the contract and what-to-show (reqHeadTimeStamp), in UTC, and the
        errors IB sent about the request (a permission error comes back here too)."""
        answer, errors = self._call(
            request_head_timestamp(
                self._require_client(),
                contract_for(spec),
                what_to_show,
                spec.use_rth,
                max(1, int(self.settings.request_timeout_s)),
            )
        )
        if answer is None and not errors:
            errors = [IBError(-1, 0, f"no answer within {self.settings.request_timeout_s:.0f} s (timed out)")]
        return (parse_head_timestamp(answer) if answer else None), errors

    def server_info(self) -> ServerInfo:
        """What the gateway said at the handshake and after startApi."""
        inner = self._require_client()._client
        return ServerInfo(
            server_version=inner._eclient.serverVersion(),
            accounts=tuple(sorted(inner.accounts())),
        )

    def is_alive(self) -> bool:
        """False once the client lost its socket or one of its reader/decoder/handler tasks died (a
        message it could not decode kills the handler, and every later request would time out)."""
        if self._client is None:
            return False
        inner = self._client._client
        if not inner._is_ib_connected.is_set() or not inner._eclient.isConnected():
            return False
        tasks = (
            inner._tws_incoming_msg_reader_task,
            inner._internal_msg_queue_processor_task,
            inner._msg_handler_processor_task,
        )
        return all(task is not None and not task.done() for task in tasks)

    # -- internals ---------------------------------------------------------------------------

    def _require_client(self) -> HistoricInteractiveBrokersClient:
        if self._client is None:
            raise GatewayUnavailableError(f"not connected to the IB gateway at {self.address}")
        return self._client

    def _submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _run(self, coro: Coroutine[Any, Any, Any], timeout: float) -> Any:
        """Result of `coro`, or None after `timeout` s. Unlike `wait_for`, this does not wait for the
        cancelled coroutine to unwind: the client's start-up retries swallow cancellation for ~15 s."""
        future = self._submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return None

    def _call(
        self, coro: Coroutine[Any, Any, Any], timeout_s: float | None = None
    ) -> tuple[Any, list[IBError]]:
        """Run one client call: (its result, or None once IB answers it with an error or the request
        timeout passes; the errors IB sent about it and about the connection meanwhile).

        The Nautilus client keeps waiting after some errors (162, 200) until its own timeout; an
        error addressed to one of this call's requests is IB's final word on it, so stop there. Only
        request ids issued during this call count: a late answer to an abandoned request is ignored.
        """
        self._require_client()
        mark = len(self.errors)
        issued: list[int] = []  # this call's request ids (other threads' calls issue theirs meanwhile)

        def relevant() -> list[IBError]:
            return [
                e
                for e in self.errors[mark:]
                if e.req_id in issued or (e.req_id == -1 and e.code not in _NOTICE_CODES)
            ]

        async def first_of_result_or_error() -> Any:
            _CALL_REQUEST_IDS.set(issued)  # this task's context: the client's id generator appends
            loop = asyncio.get_running_loop()
            arrived = asyncio.Event()  # set by the error recorder: look again
            self._error_events.add(arrived)
            task = asyncio.ensure_future(coro)
            deadline = loop.time() + (timeout_s or self.settings.request_timeout_s)
            try:
                while not task.done():
                    arrived.clear()
                    # a notice (10167: delayed data follows) does not end the request
                    answered = any(e.req_id != -1 and not is_notice(e) for e in relevant())
                    if answered or loop.time() >= deadline:
                        return None
                    await _first_of(task, arrived, deadline - loop.time())
                # The client cancels a request's future when its connection dies: no answer.
                return None if task.cancelled() else task.result()
            finally:
                self._error_events.discard(arrived)
                if not task.done():
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                self._forget_requests(issued)

        try:
            result = self._submit(first_of_result_or_error()).result(
                self.settings.request_timeout_s + _CALL_SLACK_S
            )
        except concurrent.futures.TimeoutError:
            result = None
        return result, relevant()

    def _forget_requests(self, req_ids: list[int]) -> None:
        """Drop this call's requests (and only this call's) from the client's registry once it is over.

        Cancelling an abandoned call cancels its request's future but leaves the request registered
        under its name (bar type + end time). Since Nautilus 1.231 a later request with the same name
        awaits that shared future instead of asking IB again, so a retry on this connection would end
        in `CancelledError` (1.221 returned [] at once). A late answer to a dropped request is ignored
        by the client ("Received bar on req_id")."""
        registry = self._require_client()._client._requests
        for request in [r for r in registry.get_all() if r is not None and r.req_id in req_ids]:
            if not request.future.done():
                request.future.cancel()
            registry.remove(req_id=request.req_id)

    def _record_errors(self) -> None:
        inner = self._require_client()._client
        original = inner.process_error

        async def process_error(*, req_id: int, error_code: int, error_string: str, **kwargs: Any) -> None:
            error = IBError(req_id, error_code, error_string)
            self.errors.append(error)
            for event in self._error_events:
                event.set()
            if is_notice(error):
                # Nautilus ends a request on any error with its reqId, yet after a notice such as 10167
                # (delayed data) IB still sends the data: keep the notice from the client
                self._log.warning("ib_notice", req_id=req_id, code=error_code, text=error_string)
                return
            await original(req_id=req_id, error_code=error_code, error_string=error_string, **kwargs)

        inner.process_error = process_error

    def _track_request_ids(self) -> None:
        """Have the client's request-id generator tell the running call which ids it issued."""
        inner = self._require_client()._client
        original = inner._next_req_id

        def next_req_id() -> int:
            req_id = original()
            issued = _CALL_REQUEST_IDS.get()
            if issued is not None:
                issued.append(req_id)
            return req_id

        inner._next_req_id = next_req_id


async def _without_watchdog(client: HistoricInteractiveBrokersClient) -> None:
    """Stop Nautilus' connection watchdog: 5 s after IB reports connectivity lost (1100) it reconnects
    and re-sends what is still registered. The loop runs between calls here, so it would re-send requests
    the fetcher already gave up on; the fetcher replaces a dead connection itself (`is_alive`)."""
    inner = client._client
    inner._start_connection_watchdog = lambda: None
    if inner._connection_watchdog_task is not None:
        inner._connection_watchdog_task.cancel()


async def _first_of(task: asyncio.Future, event: asyncio.Event, timeout: float) -> None:
    """Wait until `task` is done, `event` is set or `timeout` s have passed (no polling)."""
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait([task, waiter], timeout=max(0.0, timeout), return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()


async def _cancel_other_tasks() -> None:
    """Cancel every task on the loop but this one, waiting a bounded time for them to unwind."""
    current = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=_CLOSE_TIMEOUT_S)
