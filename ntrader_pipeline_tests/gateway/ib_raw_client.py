"""A minimal blocking TWS client for protocol tests.

Requests are built by ibapi's own `EClient` methods for the negotiated server version (its `sendMsg` is
redirected to our socket) and everything the gateway sends is decoded by ibapi's own `Decoder` (made
strict about field counts), so a field the gateway gets wrong per version fails the test. Framing (the
handshake and hand-built messages) uses the gateway's own codec rather than ibapi's private `comm`
helpers, whose signatures change between ibapi releases.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ibapi.client import EClient
from ibapi.common import BarData
from ibapi.contract import Contract, ContractDetails
from ibapi.decoder import Decoder
from ibapi.server_versions import MAX_CLIENT_VER, MIN_CLIENT_VER
from ibapi.wrapper import EWrapper

from ntrader_pipeline.gateway.codec import FrameBuffer, encode_message

DEFAULT_TIMEOUT = 10.0
CLIENT_VERSIONS = f"v{MIN_CLIENT_VER}..{MAX_CLIENT_VER}"  # what the installed ibapi's EClient offers


@dataclass
class IbError:
    req_id: int
    code: int
    text: str
    advanced_order_reject_json: str
    error_time: int = 0


@dataclass
class RecordingWrapper(EWrapper):
    """Keeps every callback the gateway's messages produce."""

    accounts: list[str] = field(default_factory=list)
    next_valid_ids: list[int] = field(default_factory=list)
    errors: list[IbError] = field(default_factory=list)
    contract_details: dict[int, list[ContractDetails]] = field(default_factory=dict)
    contract_details_ended: set[int] = field(default_factory=set)
    bars: dict[int, list[BarData]] = field(default_factory=dict)
    history_ended: dict[int, tuple[str, str]] = field(default_factory=dict)
    current_times: list[int] = field(default_factory=list)
    current_times_in_millis: list[int] = field(default_factory=list)

    def error(
        self,
        reqId: int,
        errorTime: int,
        errorCode: int,
        errorString: str,
        advancedOrderRejectJson: str = "",
    ) -> None:
        # ibapi 10.45 passes the error time (a field of its own from server version 194, else 0)
        self.errors.append(IbError(reqId, errorCode, errorString, advancedOrderRejectJson, errorTime))

    def managedAccounts(self, accountsList: str) -> None:
        self.accounts.append(accountsList)

    def nextValidId(self, orderId: int) -> None:
        self.next_valid_ids.append(orderId)

    def contractDetails(self, reqId: int, contractDetails: ContractDetails) -> None:
        self.contract_details.setdefault(reqId, []).append(contractDetails)

    def contractDetailsEnd(self, reqId: int) -> None:
        self.contract_details_ended.add(reqId)

    def historicalData(self, reqId: int, bar: BarData) -> None:
        self.bars.setdefault(reqId, []).append(bar)

    def historicalDataEnd(self, reqId: int, start: str, end: str) -> None:
        self.history_ended[reqId] = (start, end)

    def currentTime(self, time: int) -> None:
        self.current_times.append(time)

    def currentTimeInMillis(self, timeInMillis: int) -> None:
        self.current_times_in_millis.append(timeInMillis)

    def errors_for(self, req_id: int) -> list[IbError]:
        return [e for e in self.errors if e.req_id == req_id]


class StrictDecoder(Decoder):
    """ibapi's Decoder, but a message with fields left over (or, for signature-decoded messages, a wrong
    field count, which ibapi only logs and drops) raises instead of passing silently.

    ibapi 10.45 hands the decoder the message id apart from the fields that follow it."""

    def interpret(self, fields: tuple[bytes, ...], msgId: int) -> None:
        handle = self.msgId2handleInfo.get(msgId)
        if handle is not None and handle.wrapperMeth is not None and handle.wrapperParams is not None:
            expected = len(handle.wrapperParams) - 1 + 1  # minus self, plus the version field
            if len(fields) != expected:
                raise AssertionError(
                    f"message {msgId} {fields!r} has {len(fields)} fields, ibapi expects {expected}"
                )
            super().interpret(fields, msgId)
        elif handle is not None and handle.processMeth is not None:
            remaining = iter(fields)
            handle.processMeth(self, remaining)
            leftover = list(remaining)
            if leftover:
                raise AssertionError(f"message {msgId} left fields undecoded: {leftover!r}")
        else:
            raise AssertionError(f"ibapi has no decoder for message {msgId} {fields!r}")


class _SocketConnection:
    """The subset of ibapi's `Connection` that `EClient.sendMsg` / `isConnected` use."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def sendMsg(self, msg: bytes) -> int:
        self.sock.sendall(msg)
        return len(msg)

    def isConnected(self) -> bool:
        return True


class RawIbClient:
    def __init__(
        self, host: str, port: int, *, versions: str = CLIENT_VERSIONS, timeout: float = DEFAULT_TIMEOUT
    ):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.wrapper = RecordingWrapper()
        self._frames = FrameBuffer()
        self._pending: list[tuple[bytes, ...]] = []
        self.sock.sendall(b"API\0" + encode_message([versions]))
        handshake = self._read_messages_until(lambda msgs: bool(msgs))[0]
        self.server_version = int(handshake[0])
        self.connection_time = handshake[1].decode()
        self.handshake_fields = handshake
        self.decoder = StrictDecoder(self.wrapper, self.server_version)
        self.eclient = EClient(self.wrapper)
        self.eclient.conn = _SocketConnection(self.sock)
        self.eclient.serverVersion_ = self.server_version
        self.eclient.connState = EClient.CONNECTED
        self.eclient.clientId = 1
        self.raw_messages: list[tuple[bytes, ...]] = []

    @property
    def partial_bytes(self) -> int:
        """Bytes received of a message that has not arrived in full."""
        return self._frames.pending_bytes

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawIbClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send_fields(self, *fields: Any) -> None:
        """Send an arbitrary message (for requests EClient would refuse to build)."""
        self.sock.sendall(encode_message(fields))

    def _read_messages_until(
        self, done: Callable[[list[tuple[bytes, ...]]], bool]
    ) -> list[tuple[bytes, ...]]:
        deadline = time.monotonic() + self.timeout
        messages: list[tuple[bytes, ...]] = []
        while not done(messages):
            if self._pending:
                messages.append(self._pending.pop(0))
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"gateway did not answer within {self.timeout}s; got {messages}")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("gateway closed the connection")
            self._pending += [tuple(f.encode("latin-1") for f in msg) for msg in self._frames.feed(chunk)]
        return messages

    def pump_until(self, done: Callable[[RecordingWrapper], bool]) -> RecordingWrapper:
        """Decode incoming messages with ibapi's Decoder until `done(wrapper)` holds (bounded by timeout)."""

        def decode_new(messages: list[tuple[bytes, ...]]) -> bool:
            while len(self.raw_messages) < len(messages):
                fields = messages[len(self.raw_messages)]
                self.raw_messages.append(fields)
                self.decoder.interpret(fields[1:], int(fields[0]))
            return done(self.wrapper)

        self.raw_messages = []
        self._read_messages_until(decode_new)
        return self.wrapper

    def start_api(self) -> RecordingWrapper:
        self.eclient.startApi()
        return self.pump_until(lambda w: bool(w.accounts and w.next_valid_ids and len(w.errors) >= 3))

    def contract_details(self, req_id: int, contract: Contract) -> RecordingWrapper:
        self.eclient.reqContractDetails(req_id, contract)
        return self.pump_until(lambda w: req_id in w.contract_details_ended or bool(w.errors_for(req_id)))

    def historical_data(
        self,
        req_id: int,
        contract: Contract,
        end: str,
        duration: str,
        bar_size: str,
        *,
        what_to_show: str = "TRADES",
        use_rth: int = 1,
        format_date: int = 2,
    ) -> RecordingWrapper:
        self.eclient.reqHistoricalData(
            req_id, contract, end, duration, bar_size, what_to_show, use_rth, format_date, False, []
        )
        return self.pump_until(lambda w: req_id in w.history_ended or bool(w.errors_for(req_id)))


def stock(symbol: str, primary_exchange: str = "", exchange: str = "SMART") -> Contract:
    contract = Contract()
    contract.symbol = symbol
    contract.secType = "STK"
    contract.exchange = exchange
    contract.primaryExchange = primary_exchange
    contract.currency = "USD"
    return contract
