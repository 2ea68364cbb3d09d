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

# Market-data permission and subscription errors, by IB's code AND text (162 also means pacing or no
# data): retrying never helps. Texts as IB sends them (ib_insync issues 19, 198, 461; rust-ibapi PR 672;
# deephaven-ib issue 44; IB's error code table).
_PERMISSION_TEXTS: dict[int, tuple[str, ...]] = {
    162: ("no market data permissions", "requires additional subscription"),
    354: ("not subscribed",),  # "Requested market data is not subscribed."
    10089: ("requires additional subscription",),
    10168: ("delayed market data is not enabled",),
    10197: ("competing live session",),
}
# What to check, per code
_PERMISSION_REMEDIES: dict[int, str] = {
    162: "the account's market-data subscription for this exchange and security type (Client Portal → "
    "Settings → Market Data Subscriptions; a paper account sees the live account's subscriptions only "
    "with market-data sharing turned on)",
    354: "the account's market-data subscription for the instrument's exchange (Client Portal → Settings → "
    "Market Data Subscriptions)",
    10089: "the API market-data subscription that the 'Market Data Connections' dialog in TWS names",
    10168: "the account's market-data subscription for the exchange (delayed data is not enabled either)",
    10197: "that no live session competes with this one: log out the live user from TWS / IBKR Mobile or "
    "the web, as a paper account's data yields to the live login",
}
# Notices about a request that do not end it: the data follows (10167 delayed data, 10090 part of the
# ticks not subscribed) — logged, never a failure.
NOTICE_CODES = frozenset({10167, 10090})


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
    permission: IBError | None = None  # the permission/subscription error that made it FATAL


def is_no_data(error: IBError) -> bool:
    return error.code == PACING_VIOLATION and _NO_DATA_TEXT in error.text.lower()


def is_pacing_violation(error: IBError) -> bool:
    return error.code == PACING_VIOLATION and _PACING_TEXT in error.text.lower()


def is_permission_error(error: IBError) -> bool:
    """A missing market-data permission or subscription, by code and text."""
    phrases = _PERMISSION_TEXTS.get(error.code, ())
    text = error.text.lower()
    return any(phrase in text for phrase in phrases)


def is_notice(error: IBError) -> bool:
    """A notice about a request that does not end it (delayed data follows, say)."""
    return error.code in NOTICE_CODES


def permission_message(instrument_id: str, what_to_show: str, error: IBError, where: str = "") -> str:
    """The failure message: instrument, what-to-show, IB's code and text, which subscription to check."""
    remedy = _PERMISSION_REMEDIES.get(error.code, _PERMISSION_REMEDIES[162])
    return (
        f"{instrument_id} {what_to_show}{f' {where}' if where else ''}: IB refused the market data "
        f"(error {error.code}: {error.text}). Retrying cannot help; check {remedy}. Nothing was written."
    )


def classify(
    *, complete: bool, errors: Sequence[IBError], client_alive: bool, incomplete_reason: str = ""
) -> Verdict:
    """The verdict on one request: `complete` when the bars cover the session(s) asked for."""
    errors = [e for e in errors if not is_notice(e)]  # delayed-data notices: logged by the client only
    said = "; ".join(str(e) for e in errors)
    for error in errors:
        if is_permission_error(error):
            return Verdict(Outcome.FATAL, str(error), permission=error)
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
