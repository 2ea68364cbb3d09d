"""Scripted faults: spec parsing, `times`, and every fault kind over the wire (raw ibapi client)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from ntrader_pipeline.gateway import EmbeddedGateway, Fault, GatewayFaults, parse_fault_spec
from ntrader_pipeline.gateway.faults import CONNECTIVITY_TEXTS, DEFAULT_ERROR_TEXTS, PACING_VIOLATION
from ntrader_pipeline.gateway.messages import MALFORMED_PRICE
from ntrader_pipeline.gateway.synthetic import session_bars
from ntrader_pipeline_tests.gateway.conftest import fixed_clock
from ntrader_pipeline_tests.gateway.ib_raw_client import RawIbClient, stock

JAN_4 = dt.date(2024, 1, 4)
END = "20240104 21:00:00 UTC"
NO_DATA_SPY = "Historical Market Data Service error message:HMDS query returned no data: SPY@ARCA Trades"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("SPY:pacing", Fault(pacing=True)),
        ("SPY:pacing,times=2", Fault(pacing=True, times=2)),
        ("SPY:no_data", Fault(no_data=True)),
        ("SPY:times=1,error=200", Fault(times=1, error=(200, DEFAULT_ERROR_TEXTS[200]))),
        ("SPY:error=321:Error validating request: x", Fault(error=(321, "Error validating request: x"))),
        ("SPY:connectivity=1100", Fault(connectivity=1100)),
        ("SPY:connectivity=1101", Fault(connectivity=1101)),
        ("SPY:connectivity=1102,times=3", Fault(connectivity=1102, times=3)),
        ("SPY:drop", Fault(drop=True)),
        ("SPY:delay=2.5", Fault(delay=2.5)),
        ("SPY:malformed,times=1", Fault(malformed=True, times=1)),
    ],
)  # fmt: skip
def test_parse_new_fault_kinds(spec: str, expected: Fault) -> None:
    assert parse_fault_spec(spec) == ("SPY", None, expected)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("SPY:connectivity=1200", "connectivity must be one of [1100, 1101, 1102]"),
        ("SPY:pacing,times=0", "times must be >= 1"),
        ("SPY:pacing,times=two", "times value 'two' is not an integer"),
        ("SPY:delay=-1", "delay must be >= 0"),
        ("SPY:delay=soon", "delay value 'soon' is not a number"),
    ],
)
def test_bad_new_specs_name_the_setting(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"fault {spec!r}") as caught:
        parse_fault_spec(spec)
    assert message in str(caught.value)


def session() -> list:
    return session_bars("SPY", JAN_4, 60).rows()


def test_times_spends_a_fault_then_the_next_scripted_one_applies() -> None:
    faults = GatewayFaults()
    faults.script("SPY", Fault(pacing=True), times=2)
    faults.script("SPY", Fault(no_data=True), times=1)
    bars = session()
    answers = [faults.resolve("SPY", bars, exchange="ARCA").error for _ in range(4)]
    assert answers == [PACING_VIOLATION, PACING_VIOLATION, (162, NO_DATA_SPY), None]
    assert faults.remaining("SPY") == [0, 0]
    assert not faults  # everything spent
    assert faults.resolve("SPY", bars).bars == bars


def test_a_fault_for_another_symbol_or_session_is_not_spent() -> None:
    faults = GatewayFaults()
    faults.script("SPY", Fault(drop=True), session=dt.date(2024, 2, 1), times=1)
    faults.script("QQQ", Fault(pacing=True), times=1)
    outcome = faults.resolve("SPY", session())
    assert (outcome.drop, outcome.error) == (False, None)
    assert faults.remaining("SPY") == [1] and faults.remaining("QQQ") == [1]


def test_combinable_kinds_apply_together_and_are_each_spent() -> None:
    faults = GatewayFaults()
    faults.script("SPY", Fault(delay=0.5), times=1)
    faults.script("SPY", Fault(connectivity=1102), times=1)
    faults.script("SPY", Fault(short_bars=2, malformed=True), times=1)
    bars = session()
    outcome = faults.resolve("SPY", bars)
    assert outcome.delay == 0.5
    assert outcome.notices == ((1102, CONNECTIVITY_TEXTS[1102]),)
    assert outcome.bars == bars[:-2]
    assert outcome.garbled == {bars[195].start}
    assert faults.remaining("SPY") == [0, 0, 0]


def test_identical_scripted_faults_are_used_one_after_the_other() -> None:
    faults = GatewayFaults()
    faults.script("SPY", Fault(short_bars=1), times=1)
    faults.script("SPY", Fault(short_bars=1), times=1)
    bars = session()
    assert faults.resolve("SPY", bars).bars == bars[:-2]  # both apply to the first request
    assert faults.remaining("SPY") == [0, 0]
    assert faults.resolve("SPY", bars).bars == bars


def test_remaining_count_is_thread_safe() -> None:
    faults = GatewayFaults()
    faults.script("SPY", Fault(pacing=True), times=25)
    bars = session()
    errors: list[tuple[int, str] | None] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(20):
            error = faults.resolve("SPY", bars).error
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors.count(PACING_VIOLATION) == 25
    assert errors.count(None) == 8 * 20 - 25


@pytest.fixture
def gateway() -> Iterator[EmbeddedGateway]:
    with EmbeddedGateway(clock=fixed_clock) as running:
        yield running


def test_times_over_the_wire_fails_twice_then_succeeds(gateway: EmbeddedGateway) -> None:
    gateway.faults.script("SPY", Fault(pacing=True), times=2)
    with RawIbClient(gateway.host, gateway.port) as raw:
        raw.start_api()
        for req_id in (1, 2, 3):
            raw.historical_data(req_id, stock("SPY", "ARCA"), END, "1 D", "1 min")
        wrapper = raw.wrapper
    assert [(e.code, e.text) for e in wrapper.errors_for(1) + wrapper.errors_for(2)] == [PACING_VIOLATION] * 2
    assert len(wrapper.bars[3]) == 390 and not wrapper.errors_for(3)
    records = gateway.requests.historical_requests()
    assert [r.outcome for r in records] == ["error 162", "error 162", "bars 390"]
    assert [r.error_code for r in records] == [162, 162, None] and records[2].bar_count == 390


def test_request_log_records_what_was_asked_and_when(gateway: EmbeddedGateway) -> None:
    with RawIbClient(gateway.host, gateway.port) as raw:
        raw.start_api()
        raw.historical_data(7, stock("QQQ", "NASDAQ"), END, "2 D", "5 mins", what_to_show="MIDPOINT")
        raw.historical_data(8, stock("NOPE", "ARCA"), END, "1 D", "1 min")
    first, second = gateway.requests.historical_requests()
    assert (first.req_id, first.symbol, first.sec_type, first.exchange, first.primary_exchange) == (
        7,
        "QQQ",
        "STK",
        "SMART",
        "NASDAQ",
    )
    assert (first.what_to_show, first.bar_size, first.duration, first.end_date_time) == (
        "MIDPOINT",
        "5 mins",
        "2 D",
        END,
    )
    assert first.outcome == "bars 156"
    assert second.outcome == "error 200"  # unknown contracts are logged too
    assert first.received_at.tzinfo is dt.UTC and first.received_at <= second.received_at
    assert first.received_monotonic <= second.received_monotonic


@pytest.mark.parametrize(
    ("fault", "code", "text"),
    [
        (Fault(pacing=True), *PACING_VIOLATION),
        (Fault(no_data=True), 162, NO_DATA_SPY),
        (Fault(error=(200, "No security definition has been found for the request")), 200, None),
        (Fault(error=(321, "Error validating request")), 321, None),
    ],
)
def test_error_kinds_over_the_wire(
    gateway: EmbeddedGateway, fault: Fault, code: int, text: str | None
) -> None:
    gateway.faults.script("SPY", fault, times=1)
    with RawIbClient(gateway.host, gateway.port) as raw:
        raw.start_api()
        [error] = raw.historical_data(1, stock("SPY", "ARCA"), END, "1 D", "1 min").errors_for(1)
    assert error.code == code and error.text == (text or fault.error[1])  # type: ignore[index]
    assert gateway.requests.outcomes() == [f"error {code}"]


def test_no_data_names_the_requested_exchange_and_tick_type(gateway: EmbeddedGateway) -> None:
    gateway.faults.script("QQQ", Fault(no_data=True))
    with RawIbClient(gateway.host, gateway.port) as raw:
        raw.start_api()
        wrapper = raw.historical_data(1, stock("QQQ", "NASDAQ"), END, "1 D", "1 min", what_to_show="MIDPOINT")
    [error] = wrapper.errors_for(1)
    assert error.text.endswith("HMDS query returned no data: QQQ@NASDAQ Midpoint")


@pytest.mark.parametrize("code", [1101, 1102])
def test_connectivity_restored_notice_then_the_bars(gateway: EmbeddedGateway, code: int) -> None:
    gateway.faults.script("SPY", Fault(connectivity=code), times=1)
    with RawIbClient(gateway.host, gateway.port) as raw:
        raw.start_api()
        wrapper = raw.historical_data(1, stock("SPY", "ARCA"), END, "1 D", "1 min")
    [notice] = [e for e in wrapper.errors if e.code == code]
    assert (notice.req_id, notice.text) == (-1, CONNECTIVITY_TEXTS[code])
    assert len(wrapper.bars[1]) == 390
    assert gateway.requests.outcomes() == ["bars 390"]


def test_connectivity_lost_leaves_the_request_unanswered(gateway: EmbeddedGateway) -> None:
    gateway.faults.script("SPY", Fault(connectivity=1100), times=1)
    with RawIbClient(gateway.host, gateway.port) as raw:
        raw.start_api()
        send_request(raw, 1)
        raw.pump_until(lambda w: any(e.code == 1100 for e in w.errors))
        # the same connection still answers other requests, and the lost one stays open until cancelled
        wrapper = raw.historical_data(2, stock("QQQ", "NASDAQ"), END, "1 D", "1 min")
        assert len(wrapper.bars[2]) == 390
        assert 1 not in wrapper.bars and 1 not in wrapper.history_ended and not wrapper.errors_for(1)
        assert gateway.requests.outcomes() == ["error 1100", "bars 390"]
        raw.eclient.cancelHistoricalData(1)
        raw.historical_data(3, stock("SPY", "ARCA"), END, "1 D", "1 min")  # spent: served normally
        assert 1 not in wrapper.bars and len(wrapper.bars[3]) == 390
    [lost] = [e for e in wrapper.errors if e.code == 1100]
    assert (lost.req_id, lost.text) == (-1, CONNECTIVITY_TEXTS[1100])


def test_drop_sends_part_of_the_response_then_closes_the_socket(gateway: EmbeddedGateway) -> None:
    gateway.faults.script("SPY", Fault(drop=True), times=1)
    with RawIbClient(gateway.host, gateway.port) as raw:
        raw.start_api()
        with pytest.raises(ConnectionError, match="closed the connection"):
            raw.historical_data(1, stock("SPY", "ARCA"), END, "1 D", "1 min")
        assert raw.partial_bytes  # the first part of the historical-data message arrived, never the rest
        assert 1 not in raw.wrapper.bars
    assert gateway.requests.outcomes() == ["dropped"]
    with RawIbClient(gateway.host, gateway.port) as raw:  # the gateway itself carries on
        raw.start_api()
        assert len(raw.historical_data(2, stock("SPY", "ARCA"), END, "1 D", "1 min").bars[2]) == 390


def test_delay_answers_later_without_blocking_other_requests(gateway: EmbeddedGateway) -> None:
    gateway.faults.script("SPY", Fault(delay=0.5), times=1)
    with RawIbClient(gateway.host, gateway.port) as raw, RawIbClient(gateway.host, gateway.port) as other:
        raw.start_api()
        other.start_api()
        send_request(raw, 1)
        # another connection and the same connection are both served while reqId 1 waits
        assert len(other.historical_data(5, stock("SPY", "ARCA"), END, "1 D", "1 min").bars[5]) == 390
        wrapper = raw.historical_data(2, stock("QQQ", "NASDAQ"), END, "1 D", "1 min")
        assert 2 in wrapper.history_ended and 1 not in wrapper.history_ended
        assert gateway.requests.outcomes()[0] == "delayed"
        raw.pump_until(lambda w: 1 in w.history_ended)
        assert len(raw.wrapper.bars[1]) == 390
    first = gateway.requests.historical_requests()[0]
    assert (first.outcome, first.delayed_s) == ("bars 390", 0.5)


def test_a_pending_delay_does_not_hold_up_shutdown() -> None:
    gateway = EmbeddedGateway(clock=fixed_clock).start()
    try:
        gateway.faults.script("SPY", Fault(delay=600))
        with RawIbClient(gateway.host, gateway.port) as raw:
            raw.start_api()
            raw.eclient.reqHistoricalData(
                1, stock("SPY", "ARCA"), END, "1 D", "1 min", "TRADES", 1, 2, False, []
            )
            wait_until(lambda: gateway.requests.outcomes() == ["delayed"])
            gateway.stop(timeout=10)
            assert gateway._thread is not None and not gateway._thread.is_alive()
    finally:
        gateway.stop()


def send_request(raw: RawIbClient, req_id: int) -> None:
    """Send a SPY 1-min request without waiting for its answer."""
    raw.eclient.reqHistoricalData(
        req_id, stock("SPY", "ARCA"), END, "1 D", "1 min", "TRADES", 1, 2, False, []
    )


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(0.01)


def test_malformed_puts_a_non_numeric_price_in_the_middle_bar(gateway: EmbeddedGateway) -> None:
    gateway.faults.script("SPY", Fault(malformed=True), times=1)
    with RawIbClient(gateway.host, gateway.port) as raw:
        raw.start_api()
        send_request(raw, 1)
        # read the raw fields: ibapi's own decoder raises ValueError on the bad price
        [message] = raw._read_messages_until(lambda msgs: bool(msgs))
    fields = [f.decode() for f in message]
    per_bar = 8  # date, open, high, low, close, volume, wap, count at server version >= 124
    # id, reqId, (start, end below server version 196, in historicalDataEnd from then on), bar count
    header = 3 if raw.server_version >= 196 else 5
    assert (fields[0], int(fields[header - 1])) == ("17", 390)
    closes = fields[header + 4 :: per_bar]
    assert [i for i, close in enumerate(closes) if close == MALFORMED_PRICE] == [195]
    assert gateway.requests.outcomes() == ["bars 390"]
