"""Fetch failures, each naming the instrument, session and cause, and saying what to do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IBError:
    """An error/notice message the gateway sent (`req_id` -1 for connection-wide notices)."""

    req_id: int
    code: int
    text: str

    def __str__(self) -> str:
        return f"IB error {self.code}: {self.text}"


class FetchError(RuntimeError):
    """Base class: nothing was written to the catalog for the request that raised it."""


class GatewayUnavailableError(FetchError):
    pass


class ContractNotFoundError(FetchError):
    pass


class IncompleteSessionError(FetchError):
    pass


class InvalidRequestError(FetchError):
    """IB rejected the request itself (error 321): retrying the same request cannot help."""


class MarketDataPermissionError(FetchError):
    """IB refused the data for a missing permission or subscription (162 "No market data permissions",
    354, 10089, 10168, 10197): every later request for the instrument would fail the same way."""


class TransientFetchError(FetchError):
    """No answer this time (timeout, lost connection, dead client): a fresh connection may succeed."""


class SessionNotClosedError(FetchError):
    """A session whose close is still in the future was asked for: its bars are not final yet."""

    def __init__(self, message: str, session_key: str | None = None) -> None:
        super().__init__(message)
        self.session_key = session_key


class SessionFetchFailedError(FetchError):
    """A session still failed after the configured number of attempts; names them and IB's last word."""

    def __init__(self, message: str, session_key: str | None = None) -> None:
        super().__init__(message)
        self.session_key = session_key  # the failed session's date (YYYY-MM-DD), when it is one session
