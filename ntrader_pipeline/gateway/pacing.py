"""IB's historical-data pacing rules, so clients can be tested against the limits a real gateway enforces.

IB's "Historical Data Limitations" page lists the pacing violations for bars of 30 seconds or less; for
bars of 1 minute and larger it says those hard limits have been lifted and a soft throttle remains. So a
request is answered with 162 "Historical data request pacing violation" when
1. its bars are 30 seconds or smaller and an identical request (same contract, bar size, what-to-show,
   duration and end time) came within 15 s;
2. its bars are 30 seconds or smaller and it is the 6th such request for the same contract, exchange and
   tick type (what-to-show) within 2 s;
3. its bars are 30 seconds or smaller and it is the 61st such request within 10 minutes;
4. 50 historical requests are already open (received and not yet answered or cancelled), whatever the bars.
A client that asks for larger bars faster than `SOFT_LIMIT` per contract and tick type within
`SOFT_WINDOW_S` is throttled instead: its answer comes later (`admit` returns the delay), never a 162.
IB publishes no numbers for its soft throttle; these are the emulation's own.

"Within" means strictly less than the window ago: a request exactly 2 s after the first of five passes.
IB counts every request made, including the ones it rejects for pacing, so rejected requests stay in the
windows (a client that keeps hammering stays rejected). Requests rejected earlier for other reasons
(unknown contract, invalid fields) never reach the pacing check and do not count.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

IDENTICAL_WINDOW_S = 15.0
BURST_WINDOW_S = 2.0
BURST_LIMIT = 5  # the 6th request within the window is a violation
SMALL_BAR_WINDOW_S = 600.0
SMALL_BAR_LIMIT = 60  # the 61st small-bar request within 10 minutes is a violation
SMALL_BAR_MAX_SECONDS = 30
MAX_OPEN_REQUESTS = 50
SOFT_LIMIT = 10  # larger bars: requests per contract and tick type within SOFT_WINDOW_S before throttling
SOFT_WINDOW_S = 1.0
SOFT_DELAY_S = 0.25  # per request over the limit, up to SOFT_MAX_DELAY_S
SOFT_MAX_DELAY_S = 2.0

MonotonicClock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class HistoricalQuery:
    """What the pacing rules look at in a historical request (strings normalised by the caller)."""

    contract: tuple[str, ...]  # e.g. (sec_type, symbol, exchange, primary_exchange, currency)
    exchange: str
    what_to_show: str
    bar_size: str
    bar_seconds: int
    duration: str
    end_date_time: str

    @property
    def identity(self) -> tuple[object, ...]:
        return (self.contract, self.bar_size, self.what_to_show, self.duration, self.end_date_time)

    @property
    def burst_key(self) -> tuple[object, ...]:
        return (self.contract, self.exchange, self.what_to_show)


class PacingViolation(Exception):
    """Which rule a request broke (`rule` is one of identical, burst, small_bars, open_requests)."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail


class HistoricalPacing:
    """Thread-safe pacing state for one gateway (all its connections share one IB login's limits).

    `admit` counts the request and raises `PacingViolation` or opens it, returning how long its answer is
    held back by the soft throttle (0 mostly); `release` closes an admitted request once it has been
    answered or cancelled. `clock` is monotonic seconds; tests inject one."""

    def __init__(self, clock: MonotonicClock = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last_identical: dict[tuple[object, ...], float] = {}
        self._bursts: dict[tuple[object, ...], deque[float]] = {}
        self._small_bars: deque[float] = deque()
        self._large_bars: dict[tuple[object, ...], deque[float]] = {}
        self._open = 0

    @property
    def open_requests(self) -> int:
        with self._lock:
            return self._open

    def admit(self, request: HistoricalQuery) -> float:
        with self._lock:
            now = self._clock()
            violation = self._violation(request, now)
            throttle = self._throttle(request, now)
            self._count(request, now)
            if violation is not None:
                raise violation
            self._open += 1
            return throttle

    def _throttle(self, request: HistoricalQuery, now: float) -> float:
        if request.bar_seconds <= SMALL_BAR_MAX_SECONDS:
            return 0.0
        recent = _prune(self._large_bars.get(request.burst_key), now, SOFT_WINDOW_S)
        over = len(recent) + 1 - SOFT_LIMIT
        return min(SOFT_MAX_DELAY_S, over * SOFT_DELAY_S) if over > 0 else 0.0

    def release(self) -> None:
        with self._lock:
            self._open = max(0, self._open - 1)

    def _violation(self, request: HistoricalQuery, now: float) -> PacingViolation | None:
        if self._open >= MAX_OPEN_REQUESTS:
            return PacingViolation("open_requests", f"{self._open} historical requests are still open")
        if request.bar_seconds > SMALL_BAR_MAX_SECONDS:
            return None  # hard limits lifted for bars of 1 minute and larger: throttled instead
        last = self._last_identical.get(request.identity)
        if last is not None and now - last < IDENTICAL_WINDOW_S:
            return PacingViolation("identical", f"the same request was made {now - last:.1f} s ago")
        burst = _prune(self._bursts.get(request.burst_key), now, BURST_WINDOW_S)
        if len(burst) >= BURST_LIMIT:
            return PacingViolation(
                "burst",
                f"{len(burst)} requests for this contract and tick type within {BURST_WINDOW_S:.0f} s",
            )
        small = _prune(self._small_bars, now, SMALL_BAR_WINDOW_S)
        if len(small) >= SMALL_BAR_LIMIT:
            return PacingViolation(
                "small_bars", f"{len(small)} requests for bars <= 30 s within {SMALL_BAR_WINDOW_S:.0f} s"
            )
        return None

    def _count(self, request: HistoricalQuery, now: float) -> None:
        if request.bar_seconds > SMALL_BAR_MAX_SECONDS:
            self._large_bars.setdefault(request.burst_key, deque()).append(now)
            return
        self._last_identical[request.identity] = now
        self._bursts.setdefault(request.burst_key, deque()).append(now)
        self._small_bars.append(now)
        # forget identities older than their window so a long-running gateway does not grow without bound
        if len(self._last_identical) > 10_000:
            self._last_identical = {
                k: t for k, t in self._last_identical.items() if now - t < IDENTICAL_WINDOW_S
            }


def _prune(times: deque[float] | None, now: float, window: float) -> deque[float]:
    """Drop instants at least `window` old from the left of `times` (kept in arrival order)."""
    if times is None:
        return deque()
    while times and now - times[0] >= window:
        times.popleft()
    return times
