"""What the real Nautilus IB client, through `IBConnection.fetch_bars`, gets back for each scripted fault.

These pin down the behaviour a retry policy has to work with (measured with nautilus_trader 1.221, and
again with 1.231 at server version 200). What 1.231 changed: a request whose name (bar type + end time)
is still registered is no longer answered with [] at once; the new request awaits the old one's future.
An abandoned call (dropped socket, malformed bar) leaves that future cancelled, so the retry on the same
connection ended in `CancelledError`. `IBConnection` now drops its abandoned requests from the client's
registry, so the retry is a fresh request and the outcomes below hold on both versions:
- 162 (pacing, no data), 200, 321: no bars, the error for the request, returned at once.
- 1101/1102: all bars, plus the notice with reqId -1.
- 1100: no bars after the full request timeout; the 1100 notice (reqId -1) is the only clue. Nautilus
  takes 1100 as "IB disconnected": its watchdog (1 s tick) degrades the client and reconnects after 5 s,
  so whether the next request on that connection is served depends on timing; a new connection is.
- delay beyond the timeout: no bars and no error at all: indistinguishable from an empty session.
- drop: no bars after the full timeout, no IB error; the client's connection is then dead: the next
  request on it returns no bars (504 "Not connected" once the client has noticed, else a timeout).
- malformed price: the client's message handler raises ValueError (could not convert string to float)
  on the bad bar, the socket is torn down, the request ends with no bars (not even the good bars before
  the bad one) and no IB error, and the next request on that connection returns no bars either (504 "Not
  connected" or a timeout). A new connection works again.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from ntrader_pipeline.gateway import EmbeddedGateway, Fault
from ntrader_pipeline.gateway.faults import CONNECTIVITY_TEXTS, PACING_VIOLATION
from ntrader_pipeline.ib.client import IBConnection
from ntrader_pipeline.markets.universe import BarSpec, InstrumentSpec
from ntrader_pipeline.settings import IBSettings

SPY = InstrumentSpec(symbol="SPY", primary_exchange="ARCA")
MINUTE = BarSpec.parse("1-MINUTE-LAST")
SESSION_CLOSE = dt.datetime(2024, 1, 4, 21, 0)  # naive UTC, as fetch_bars takes it
PREVIOUS_CLOSE = dt.datetime(2024, 1, 3, 21, 0)
NO_DATA = "Historical Market Data Service error message:HMDS query returned no data: SPY@ARCA Trades"
SHORT_TIMEOUT_S = 1.0  # for the faults that never answer: each such test waits this long, once
NOT_CONNECTED = 504


def short(settings: IBSettings) -> IBSettings:
    return settings.model_copy(update={"request_timeout_s": SHORT_TIMEOUT_S})


@pytest.mark.parametrize(
    ("fault", "code", "text"),
    [
        (Fault(pacing=True), *PACING_VIOLATION),
        (Fault(no_data=True), 162, NO_DATA),
        (Fault(error=(200, "No security definition has been found for the request")), 200, None),
        (Fault(error=(321, "Error validating request")), 321, None),
    ],
)
def test_error_answers_come_back_at_once_then_the_retry_succeeds(
    ib_gateway: EmbeddedGateway, ib_settings: IBSettings, fault: Fault, code: int, text: str | None
) -> None:
    ib_gateway.faults.script("SPY", fault, times=1)
    with IBConnection(ib_settings) as connection:
        started = time.monotonic()
        bars, errors = connection.fetch_bars(SPY, MINUTE, SESSION_CLOSE, "1 D")
        waited = time.monotonic() - started
        retry_bars, retry_errors = connection.fetch_bars(SPY, MINUTE, SESSION_CLOSE, "1 D")
    assert bars == []
    [error] = errors
    assert (error.code, error.text) == (code, text or fault.error[1])  # type: ignore[index]
    assert error.req_id > 0  # addressed to the request, not the connection
    assert waited < ib_settings.request_timeout_s  # the wrapper stops at the error, not the timeout
    assert len(retry_bars) == 390 and retry_errors == []
    assert ib_gateway.requests.outcomes() == [f"error {code}", "bars 390"]


@pytest.mark.parametrize("code", [1101, 1102])
def test_connectivity_restored_notice_comes_with_all_bars(
    ib_gateway: EmbeddedGateway, ib_settings: IBSettings, code: int
) -> None:
    ib_gateway.faults.script("SPY", Fault(connectivity=code), times=1)
    with IBConnection(ib_settings) as connection:
        bars, errors = connection.fetch_bars(SPY, MINUTE, SESSION_CLOSE, "1 D")
    assert len(bars) == 390
    assert [(e.req_id, e.code, e.text) for e in errors] == [(-1, code, CONNECTIVITY_TEXTS[code])]


def test_connectivity_lost_returns_nothing_but_the_notice_after_the_timeout(
    ib_gateway: EmbeddedGateway, ib_settings: IBSettings
) -> None:
    ib_gateway.faults.script("SPY", Fault(connectivity=1100), times=1)
    with IBConnection(short(ib_settings)) as connection:
        bars, errors = connection.fetch_bars(SPY, MINUTE, SESSION_CLOSE, "1 D")
    assert bars == []
    assert [(e.req_id, e.code, e.text) for e in errors] == [(-1, 1100, CONNECTIVITY_TEXTS[1100])]
    assert ib_gateway.requests.outcomes() == ["error 1100"]
    with IBConnection(ib_settings) as fresh:
        assert len(fresh.fetch_bars(SPY, MINUTE, SESSION_CLOSE, "1 D")[0]) == 390


def test_delay_past_the_timeout_looks_like_an_empty_answer(
    ib_gateway: EmbeddedGateway, ib_settings: IBSettings
) -> None:
    ib_gateway.faults.script("SPY", Fault(delay=SHORT_TIMEOUT_S + 2), times=1)
    with IBConnection(short(ib_settings)) as connection:
        bars, errors = connection.fetch_bars(SPY, MINUTE, SESSION_CLOSE, "1 D")
        # a different session, so the late answer to the first request cannot be mistaken for it
        next_bars, next_errors = connection.fetch_bars(SPY, MINUTE, PREVIOUS_CLOSE, "1 D")
    assert bars == []
    assert [e for e in errors if e.code != 0] == []  # nothing from IB; at most the wrapper's timeout note
    assert len(next_bars) == 390 and next_errors == []
    first = ib_gateway.requests.historical_requests()[0]
    assert first.delayed_s == SHORT_TIMEOUT_S + 2


def test_dropped_socket_returns_nothing_and_leaves_the_connection_dead(
    ib_gateway: EmbeddedGateway, ib_settings: IBSettings
) -> None:
    ib_gateway.faults.script("SPY", Fault(drop=True), times=1)
    with IBConnection(short(ib_settings)) as connection:
        bars, errors = connection.fetch_bars(SPY, MINUTE, SESSION_CLOSE, "1 D")
        next_bars, next_errors = connection.fetch_bars(SPY, MINUTE, SESSION_CLOSE, "1 D")
    assert bars == [] and [e for e in errors if e.code != 0] == []
    assert next_bars == [] and {e.code for e in next_errors} <= {NOT_CONNECTED, 0}
    assert ib_gateway.requests.outcomes()[0] == "dropped"
    with IBConnection(ib_settings) as fresh:  # reconnecting is the cure
        assert len(fresh.fetch_bars(SPY, MINUTE, SESSION_CLOSE, "1 D")[0]) == 390


def test_malformed_bar_kills_the_clients_message_handling(
    ib_gateway: EmbeddedGateway, ib_settings: IBSettings
) -> None:
    ib_gateway.faults.script("SPY", Fault(malformed=True), times=1)
    with IBConnection(short(ib_settings)) as connection:
        bars, errors = connection.fetch_bars(SPY, MINUTE, SESSION_CLOSE, "1 D")
        next_bars, next_errors = connection.fetch_bars(SPY, MINUTE, SESSION_CLOSE, "1 D")
    # not even the 195 good bars before the bad one come back, and IB said nothing
    assert bars == [] and [e for e in errors if e.code != 0] == []
    assert next_bars == [] and {e.code for e in next_errors} <= {NOT_CONNECTED, 0}
    assert ib_gateway.requests.outcomes()[0] == "bars 390"  # the gateway did answer, with one bad price
    with IBConnection(ib_settings) as fresh:
        assert len(fresh.fetch_bars(SPY, MINUTE, SESSION_CLOSE, "1 D")[0]) == 390


def test_the_same_request_after_an_abandoned_one_is_asked_afresh(
    ib_gateway: EmbeddedGateway, ib_settings: IBSettings
) -> None:
    """Nautilus 1.231 joins a request to a registered one of the same name; the abandoned one is gone."""
    ib_gateway.faults.script("SPY", Fault(delay=SHORT_TIMEOUT_S + 2), times=1)
    with IBConnection(short(ib_settings)) as connection:
        bars, _ = connection.fetch_bars(SPY, MINUTE, SESSION_CLOSE, "1 D")
        same_bars, same_errors = connection.fetch_bars(SPY, MINUTE, SESSION_CLOSE, "1 D")
    assert bars == []
    assert len(same_bars) == 390 and same_errors == []
    assert len(ib_gateway.requests.historical_requests()) == 2  # the retry reached the gateway
