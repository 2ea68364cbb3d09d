"""What one historical request produced, classified into what to do next.

The Nautilus client reports every failure as empty or partial data, so the verdict comes from the
errors IB sent about the request (and the connection), from whether the client is still alive, and
from whether the bars are complete against the exchange calendar.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from ntrader_pipeline.ingest.errors import IBError

PACING_VIOLATION = 162
NO_SECURITY_DEFINITION = 200
INVALID_REQUEST = 321
_NO_DATA_TEXT = "returned no data"
_PACING_TEXT = "pacing violation"


class Outcome(enum.Enum):
    COMPLETE = "complete"  # every expected bar arrived: store it
    EMPTY = "empty"  # IB says there is no data (halt, new listing): record an empty session, never retry
    RETRY = "retry"  # transient (pacing, timeout, lost connection, dead client, short data): reconnect, retry
    FATAL = "fatal"  # the request itself is wrong (unknown contract, invalid request): fail at once


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reason: str
    pacing: bool = False  # a 162 pacing violation: back off before retrying


def is_no_data(error: IBError) -> bool:
    return error.code == PACING_VIOLATION and _NO_DATA_TEXT in error.text.lower()


def is_pacing_violation(error: IBError) -> bool:
    return error.code == PACING_VIOLATION and _PACING_TEXT in error.text.lower()


def classify(
    *, complete: bool, errors: Sequence[IBError], client_alive: bool, incomplete_reason: str = ""
) -> Verdict:
    """The verdict on one request: `complete` when the bars cover the session(s) asked for."""
    said = "; ".join(str(e) for e in errors)
    for error in errors:
        if error.code == NO_SECURITY_DEFINITION:
            return Verdict(Outcome.FATAL, str(error))
        if error.code == INVALID_REQUEST:
            return Verdict(Outcome.FATAL, str(error))
    if complete:
        return Verdict(Outcome.COMPLETE, said)
    if any(is_no_data(e) for e in errors):
        return Verdict(Outcome.EMPTY, next(e.text for e in errors if is_no_data(e)))
    if any(is_pacing_violation(e) for e in errors):
        return Verdict(Outcome.RETRY, said, pacing=True)
    if not client_alive:
        reason = (
            "the IB client stopped reading from the gateway (dropped socket or a message it could not decode)"
        )
        return Verdict(Outcome.RETRY, f"{said}; {reason}" if said else reason)
    if errors:
        # Timeouts, 1100/1101/1102, an unanswered request, any other error: worth a fresh connection.
        return Verdict(Outcome.RETRY, said)
    return Verdict(
        Outcome.RETRY, incomplete_reason or "incomplete data and no error message from the gateway"
    )
