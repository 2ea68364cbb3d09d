"""What clients asked the gateway for: a thread-safe log that tests read from another thread."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import threading
from dataclasses import dataclass

from ntrader_pipeline.gateway.inbound import ContractDetailsRequest, HistoricalDataRequest

PENDING = "pending"


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One message received after the handshake, with its parsed form for the requests tests care about."""

    connection_id: int
    message_id: int
    fields: tuple[str, ...]
    received_at: dt.datetime
    historical: HistoricalDataRequest | None = None
    contract_details: ContractDetailsRequest | None = None


@dataclass(frozen=True, slots=True)
class HistoricalRecord:
    """One reqHistoricalData and how the gateway answered it.

    `outcome` is "pending" until answered, then "bars N", "error CODE" (for a request left unanswered
    after connectivity notice 1100: "error 1100"), "dropped" (socket closed mid-response) or "delayed"
    (while a scripted delay runs; replaced by the final outcome once it has been answered).
    """

    connection_id: int
    req_id: int
    symbol: str
    sec_type: str
    exchange: str
    primary_exchange: str
    what_to_show: str
    bar_size: str
    duration: str
    end_date_time: str
    received_at: dt.datetime  # wall clock, UTC
    received_monotonic: float  # time.monotonic() at receipt: for spacing between requests
    outcome: str = PENDING
    delayed_s: float = 0.0

    @property
    def error_code(self) -> int | None:
        kind, _, value = self.outcome.partition(" ")
        return int(value) if kind == "error" else None

    @property
    def bar_count(self) -> int | None:
        kind, _, value = self.outcome.partition(" ")
        return int(value) if kind == "bars" else None


class RequestLog:
    """Thread-safe record of every message received after the handshake, and of every historical request
    with its outcome."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[ReceivedRequest] = []
        self._historical: dict[int, HistoricalRecord] = {}
        self._ids = itertools.count(1)

    def append(self, request: ReceivedRequest) -> None:
        with self._lock:
            self._items.append(request)

    def all(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._items)

    def historical(self) -> list[HistoricalDataRequest]:
        return [r.historical for r in self.all() if r.historical is not None]

    def contract_details(self) -> list[ContractDetailsRequest]:
        return [r.contract_details for r in self.all() if r.contract_details is not None]

    def of_type(self, message_id: int) -> list[ReceivedRequest]:
        return [r for r in self.all() if r.message_id == message_id]

    def add_historical(self, record: HistoricalRecord) -> int:
        """Record a historical request; returns the id to report its outcome under."""
        with self._lock:
            record_id = next(self._ids)
            self._historical[record_id] = record
            return record_id

    def set_outcome(self, record_id: int, outcome: str, *, delayed_s: float | None = None) -> None:
        with self._lock:
            record = self._historical.get(record_id)
            if record is None:  # the log was cleared meanwhile
                return
            changes: dict[str, object] = {"outcome": outcome}
            if delayed_s is not None:
                changes["delayed_s"] = delayed_s
            self._historical[record_id] = dataclasses.replace(record, **changes)  # type: ignore[arg-type]

    def historical_requests(self) -> list[HistoricalRecord]:
        """Every historical request in order of receipt, with its outcome so far."""
        with self._lock:
            return list(self._historical.values())

    def outcomes(self) -> list[str]:
        return [r.outcome for r in self.historical_requests()]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._historical.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
