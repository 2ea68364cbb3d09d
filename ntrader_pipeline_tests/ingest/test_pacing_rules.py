"""The pacing limiter on an injected clock: IB's hard rules for bars of 30 s or less, a soft per-contract
rate for larger bars, the open-request cap for all; its state is shared through the file."""

import pytest

from ntrader_pipeline.ib.pacing import PacedRequest, PacingLimiter, PacingRules, PacingWaitError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _limiter(path, clock, **kwargs) -> PacingLimiter:
    return PacingLimiter(path, clock=clock, sleep=clock.sleep, **kwargs)


def _request(contract: str = "SPY", end: str = "1", bar_seconds: int = 30) -> PacedRequest:
    return PacedRequest(f"{contract}|{end}", f"{contract}|TRADES", bar_seconds)


def test_identical_request_waits_15_seconds(tmp_path):
    clock = FakeClock()
    limiter = _limiter(tmp_path / "p.sqlite", clock)
    with limiter.slot(_request()):
        pass
    clock.now += 5
    with limiter.slot(_request()):
        pass
    assert 10 <= sum(clock.slept) <= 10.2


def test_sixth_request_for_a_contract_within_2_seconds_waits(tmp_path):
    clock = FakeClock()
    limiter = _limiter(tmp_path / "p.sqlite", clock)
    for i in range(5):
        limiter.acquire(_request(end=str(i)))
        clock.now += 0.1
    assert clock.slept == []
    limiter.acquire(_request("QQQ", end="x"))  # another contract is not held back
    assert clock.slept == []
    limiter.acquire(_request(end="5"))
    assert 1.5 <= sum(clock.slept) <= 1.7  # until the first of the five is 2 s old


def test_small_bars_allow_60_requests_per_10_minutes(tmp_path):
    clock = FakeClock()
    rules = PacingRules(per_contract_limit=1000, max_open=1000)
    limiter = _limiter(tmp_path / "p.sqlite", clock, rules=rules)
    for i in range(60):
        limiter.acquire(_request(end=str(i), bar_seconds=5))
        clock.now += 1
    assert clock.slept == []
    limiter.acquire(_request(end="minute bars", bar_seconds=60))  # 1-minute bars are not "small"
    assert clock.slept == []
    limiter.acquire(_request(end="60", bar_seconds=30))
    assert 540 <= sum(clock.slept) <= 541


def test_open_requests_are_capped(tmp_path):
    clock = FakeClock()
    limiter = _limiter(tmp_path / "p.sqlite", clock, rules=PacingRules(max_open=2, per_contract_limit=1000))
    first = limiter.acquire(_request(end="a"))
    limiter.acquire(_request(end="b"))
    assert limiter.delay_for(_request(end="c")) > 0
    limiter.release(first)
    assert limiter.delay_for(_request(end="c")) == 0


def test_state_is_shared_through_the_file(tmp_path):
    clock = FakeClock()
    path = tmp_path / "p.sqlite"
    _limiter(path, clock).acquire(_request())
    other_process = _limiter(path, clock)
    assert other_process.delay_for(_request()) == pytest.approx(15.05)


def test_a_wait_past_the_bound_fails_naming_the_request(tmp_path):
    clock = FakeClock()
    limiter = _limiter(tmp_path / "p.sqlite", clock, max_wait_s=5)
    limiter.acquire(PacedRequest("SPY|1", "SPY|TRADES", 30, "SPY.ARCA 30-SECOND-LAST 1 D"))
    with pytest.raises(PacingWaitError, match=r"SPY.ARCA 30-SECOND-LAST 1 D: .* past the 5 s bound"):
        limiter.acquire(PacedRequest("SPY|1", "SPY|TRADES", 30, "SPY.ARCA 30-SECOND-LAST 1 D"))


def test_larger_bars_keep_only_a_soft_per_contract_rate(tmp_path):
    clock = FakeClock()
    limiter = _limiter(tmp_path / "p.sqlite", clock)
    for _ in range(limiter.rules.soft_limit):
        limiter.acquire(_request(bar_seconds=60))  # even the identical request: IB lifted that rule
    assert clock.slept == []
    limiter.acquire(_request("QQQ", bar_seconds=60))  # another contract has its own rate
    assert clock.slept == []
    limiter.acquire(_request(bar_seconds=60))
    assert 1.0 <= sum(clock.slept) <= 1.1  # until the first of the window is soft_window_s old
