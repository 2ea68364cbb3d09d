"""What clients asked the gateway for: a thread-safe log that tests read from another thread."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import threading
import time
from dataclasses import dataclass

from ntrader_pipeline.gateway.inbound import ContractDetailsRequest, HistoricalDataRequest

PENDING = "pending"
# Outcomes that leave the request open: not answered yet, held back, or silent after notice 1100.
_STILL_OPEN = frozenset({PENDING, "delayed", "error 1100"})


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
    after connectivity notice 1100: "error 1100"), "dropped" (socket closed mid-response), "delayed"
    (while a scripted delay or the answer-time model holds it; replaced by the final outcome once it has
    been answered; kept when the client cancels it first).
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
    # the answer-time model's share of the delay (latency.py): its latency and its throttle hold-back
    latency_s: float = 0.0
    throttle_s: float = 0.0
    answered_monotonic: float | None = None  # time.monotonic() when the answer (or error) was sent

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
        self._open: set[int] = set()  # historical records not answered yet
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
            self._open.add(record_id)
            return record_id

    def set_outcome(self, record_id: int, outcome: str, *, delayed_s: float | None = None) -> None:
        with self._lock:
            record = self._historical.get(record_id)
            if record is None:  # the log was cleared meanwhile
                return
            changes: dict[str, object] = {"outcome": outcome}
            if delayed_s is not None:
                changes["delayed_s"] = delayed_s
            if outcome not in _STILL_OPEN and record.answered_monotonic is None:
                changes["answered_monotonic"] = time.monotonic()
                self._open.discard(record_id)
            self._historical[record_id] = dataclasses.replace(record, **changes)  # type: ignore[arg-type]

    def set_answer_time(self, record_id: int, latency_s: float, throttle_s: float) -> None:
        """What the answer-time model held the request's answer back by (before it is answered)."""
        with self._lock:
            record = self._historical.get(record_id)
            if record is not None:
                self._historical[record_id] = dataclasses.replace(
                    record, latency_s=latency_s, throttle_s=throttle_s
                )

    def mark_closed(self, record_id: int) -> None:
        """The request ended without an answer (cancelled, or its connection closed): no longer open."""
        with self._lock:
            record = self._historical.get(record_id)
            if record is not None and record.answered_monotonic is None:
                self._historical[record_id] = dataclasses.replace(record, answered_monotonic=time.monotonic())
            self._open.discard(record_id)

    def open_historical(self) -> int:
        """Historical requests received and not answered yet."""
        with self._lock:
            return len(self._open)

    def peak_open_historical(self) -> int:
        """The most historical requests that were open at once (received, not yet answered), from the
        records' receipt and answer instants; a request still open counts as open to the end."""
        events: list[tuple[float, int]] = []
        for record in self.historical_requests():
            events.append((record.received_monotonic, 1))
            if record.answered_monotonic is not None:
                events.append((record.answered_monotonic, -1))
        peak = current = 0
        for _, step in sorted(events):  # at a tie the answer (-1) sorts first: not open together
            current += step
            peak = max(peak, current)
        return peak

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
            self._open.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
