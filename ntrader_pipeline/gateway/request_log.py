"""What clients asked the gateway for: a thread-safe log that tests read from another thread."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from ntrader_pipeline.gateway.inbound import ContractDetailsRequest, HistoricalDataRequest


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One message received after the handshake, with its parsed form for the requests tests care about."""

    connection_id: int
    message_id: int
    fields: tuple[str, ...]
    received_at: dt.datetime
    historical: HistoricalDataRequest | None = None
    contract_details: ContractDetailsRequest | None = None


class RequestLog:
    """Thread-safe record of every message received after the handshake."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[ReceivedRequest] = []

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

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
