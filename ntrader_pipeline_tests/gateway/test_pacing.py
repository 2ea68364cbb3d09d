"""IB's historical-data pacing rules: each at the boundary that passes and the one that violates; hard
rules for bars of 30 s or less, a soft throttle for larger bars."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from ntrader_pipeline.gateway import EmbeddedGateway, Fault
from ntrader_pipeline.gateway.faults import PACING_VIOLATION
from ntrader_pipeline.gateway.pacing import (
    MAX_OPEN_REQUESTS,
    SOFT_DELAY_S,
    SOFT_LIMIT,
    SOFT_WINDOW_S,
    HistoricalPacing,
    HistoricalQuery,
    PacingViolation,
)
from ntrader_pipeline_tests.gateway.conftest import fixed_clock
from ntrader_pipeline_tests.gateway.ib_raw_client import RawIbClient, stock

SPY = ("0", "SPY", "STK", "SMART", "ARCA", "USD", "")
QQQ = ("0", "QQQ", "STK", "SMART", "NASDAQ", "USD", "")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def request(
    n: int = 0, *, contract: tuple[str, ...] = SPY, bar_seconds: int = 30, what: str = "TRADES"
) -> HistoricalQuery:
    """The n-th distinct request (different end times are different requests); 30 s bars by default, the
    size IB's hard pacing rules are for."""
    return HistoricalQuery(
        contract=contract,
        exchange="SMART",
        what_to_show=what,
        bar_size="30 secs" if bar_seconds == 30 else "1 min",
        bar_seconds=bar_seconds,
        duration="1 D",
        end_date_time=f"202401{n // 20 + 1:02d} {n % 20:02d}:00:00 UTC",
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pacing(clock: FakeClock) -> HistoricalPacing:
    return HistoricalPacing(clock)


def admit(pacing: HistoricalPacing, paced: HistoricalQuery) -> str | None:
    """None when admitted (and released at once, as an answered request), else the broken rule."""
    try:
        pacing.admit(paced)
    except PacingViolation as violation:
        return violation.rule
    pacing.release()
    return None


def test_identical_request_within_15_seconds(pacing: HistoricalPacing, clock: FakeClock) -> None:
    assert admit(pacing, request(1)) is None
    clock.now += 14.99
    assert admit(pacing, request(1)) == "identical"
    assert admit(pacing, request(2)) is None  # a different end time is a different request
    clock.now += 15.0  # 15 s after the rejected one: IB counted it, so the window restarts from there
    assert admit(pacing, request(1)) is None


def test_identical_means_every_field(pacing: HistoricalPacing, clock: FakeClock) -> None:
    base = request(1)
    assert admit(pacing, base) is None
    for changed in (
        dataclasses.replace(base, contract=QQQ),
        dataclasses.replace(base, bar_size="15 secs", bar_seconds=15),
        dataclasses.replace(base, what_to_show="MIDPOINT"),
        dataclasses.replace(base, duration="2 D"),
    ):
        clock.now += 1.0  # stay clear of the 2 s burst rule
        assert admit(pacing, changed) is None


def test_sixth_request_for_one_contract_and_tick_type_within_2_seconds(
    pacing: HistoricalPacing, clock: FakeClock
) -> None:
    for n in range(5):
        assert admit(pacing, request(n)) is None
        clock.now += 0.1
    clock.now = 1000.0 + 1.999  # the first of the five is still within 2 s
    assert admit(pacing, request(5)) == "burst"
    # other contracts and other tick types have their own count
    assert admit(pacing, request(6, contract=QQQ)) is None
    assert admit(pacing, request(7, what="MIDPOINT")) is None


def test_sixth_request_exactly_2_seconds_after_the_first_passes(
    pacing: HistoricalPacing, clock: FakeClock
) -> None:
    for n in range(5):
        assert admit(pacing, request(n)) is None
    clock.now += 2.0
    assert admit(pacing, request(5)) is None


def test_rejected_requests_count_toward_the_burst_window(pacing: HistoricalPacing, clock: FakeClock) -> None:
    for n in range(5):
        assert admit(pacing, request(n)) is None
    clock.now += 1.5
    assert admit(pacing, request(5)) == "burst"
    clock.now += 0.6  # the first five are now 2.1 s old, but the rejected sixth is 0.6 s old
    for n in range(6, 10):
        assert admit(pacing, request(n)) is None
    assert admit(pacing, request(10)) == "burst"


def small_bar_requests(pacing: HistoricalPacing, clock: FakeClock, count: int) -> list[str | None]:
    """`count` distinct small-bar requests 2.5 s apart (clear of the burst rule)."""
    results = []
    for n in range(count):
        results.append(admit(pacing, request(n, bar_seconds=30)))
        clock.now += 2.5
    return results


def test_sixty_first_small_bar_request_within_10_minutes(pacing: HistoricalPacing, clock: FakeClock) -> None:
    assert small_bar_requests(pacing, clock, 60) == [None] * 60  # 60 requests over 150 s
    assert admit(pacing, request(60, bar_seconds=30)) == "small_bars"
    assert admit(pacing, request(61, bar_seconds=60)) is None  # 1-minute bars are not limited


def test_larger_bars_are_throttled_never_refused(pacing: HistoricalPacing, clock: FakeClock) -> None:
    """IB lifted the hard limits for bars of 1 minute and larger; a soft throttle slows an over-eager
    client instead: identical and burst requests are answered, later."""
    throttles = []
    for _ in range(SOFT_LIMIT + 3):
        throttles.append(pacing.admit(request(1, bar_seconds=60)))  # the identical request, again and again
        pacing.release()
    assert throttles[:SOFT_LIMIT] == [0.0] * SOFT_LIMIT
    assert throttles[SOFT_LIMIT:] == [SOFT_DELAY_S, 2 * SOFT_DELAY_S, 3 * SOFT_DELAY_S]
    assert admit(pacing, request(2, bar_seconds=60, contract=QQQ)) is None  # other contracts: their own count
    clock.now += SOFT_WINDOW_S
    assert pacing.admit(request(1, bar_seconds=60)) == 0.0


def test_sixty_first_small_bar_request_after_10_minutes_passes(
    pacing: HistoricalPacing, clock: FakeClock
) -> None:
    assert small_bar_requests(pacing, clock, 60) == [None] * 60
    clock.now = 1000.0 + 600.0  # the first is exactly 10 minutes old
    assert admit(pacing, request(60, bar_seconds=30)) is None


def test_more_than_50_open_requests(pacing: HistoricalPacing, clock: FakeClock) -> None:
    contracts = [(str(i), f"S{i}", "STK", "SMART", "", "USD", "") for i in range(MAX_OPEN_REQUESTS + 1)]
    for contract in contracts[:MAX_OPEN_REQUESTS]:
        pacing.admit(request(contract=contract, bar_seconds=60))  # open, not answered: any bar size counts
    assert pacing.open_requests == MAX_OPEN_REQUESTS
    with pytest.raises(PacingViolation, match="open_requests"):
        pacing.admit(request(contract=contracts[-1], bar_seconds=60))
    pacing.release()  # one answered: the next may open
    clock.now += 20
    pacing.admit(request(contract=contracts[-1], bar_seconds=60))
    assert pacing.open_requests == MAX_OPEN_REQUESTS


@pytest.fixture
def paced_gateway() -> Iterator[EmbeddedGateway]:
    with EmbeddedGateway(clock=fixed_clock, pacing=True) as running:
        yield running


END = "20240104 21:00:00 UTC"


def test_pacing_over_the_wire(paced_gateway: EmbeddedGateway) -> None:
    with RawIbClient(paced_gateway.host, paced_gateway.port) as raw:
        raw.start_api()
        # sub-minute bars are valid requests that count for pacing, but the gateway does not serve them
        [error] = raw.historical_data(1, stock("SPY", "ARCA"), END, "1800 S", "30 secs").errors_for(1)
        assert error.code == 321 and "not served" in error.text
        [error] = raw.historical_data(2, stock("SPY", "ARCA"), END, "1800 S", "30 secs").errors_for(2)
        assert (error.code, error.text) == PACING_VIOLATION  # identical small-bar request within 15 s
        # 1-minute bars: IB's hard limits are lifted, the identical request is answered
        for req_id in (3, 4):
            assert (
                len(raw.historical_data(req_id, stock("SPY", "ARCA"), END, "1 D", "1 min").bars[req_id])
                == 390
            )
    assert paced_gateway.requests.outcomes() == ["error 321", "error 162", "bars 390", "bars 390"]
    assert paced_gateway.pacing is not None and paced_gateway.pacing.open_requests == 0


def test_delayed_requests_stay_open_until_answered(paced_gateway: EmbeddedGateway) -> None:
    paced_gateway.faults.script("SPY", Fault(delay=0.3), times=1)
    with RawIbClient(paced_gateway.host, paced_gateway.port) as raw:
        raw.start_api()
        raw.eclient.reqHistoricalData(1, stock("SPY", "ARCA"), END, "1 D", "1 min", "TRADES", 1, 2, False, [])
        assert len(raw.historical_data(2, stock("QQQ", "NASDAQ"), END, "1 D", "1 min").bars[2]) == 390
        pacing = paced_gateway.pacing
        assert pacing is not None and pacing.open_requests == 1
        raw.pump_until(lambda w: 1 in w.history_ended)
    assert pacing.open_requests == 0


def test_pacing_is_off_by_default(paced_gateway: EmbeddedGateway) -> None:
    with EmbeddedGateway(clock=fixed_clock) as lenient, RawIbClient(lenient.host, lenient.port) as raw:
        raw.start_api()
        for req_id in range(1, 8):
            assert (
                len(raw.historical_data(req_id, stock("SPY", "ARCA"), END, "1 D", "1 min").bars[req_id])
                == 390
            )
        assert lenient.pacing is None
