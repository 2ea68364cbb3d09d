"""How long IB takes to answer a historical request: a base latency plus a per-bar cost, and a soft
throttle that slows answers while many requests are open at once.

Real IB answers in seconds, not milliseconds. ib_insync issue 268 timed one client against IB: "1 D" of
1-minute bars (390 bars) in 0.59 s, "5 D" (1,950 bars) in 8.31 s, "6 D" and "10 D" timed out after 60 s.
The defaults reproduce the one-session figure, the request the pipeline makes (0.4 s + 390 × 0.5 ms =
0.595 s); they under-state the multi-day answers, which grow faster than linearly at IB (one more
reason the pipeline asks one session per request; docs/how-to/backfill-at-scale.md).

IB lifts the hard pacing rules for bars of 1 minute and larger but keeps a soft throttle it does not
quantify ("The maximum number of simultaneous open historical data requests from the API is 50. In
practice, it will probably be more efficient to have a much smaller number of requests pending at a
time", IB's Historical Data Limitations; users see answers go from ~0.5 s to 5-20 s after a burst of
requests, ib_insync issue 390). The emulation's own numbers: up to `throttle_free_open` open requests
are answered at full speed; each request open beyond that when one arrives adds `throttle_step_s` to
its answer, up to `throttle_max_s`. Bars of 30 s or less keep IB's hard rules instead (pacing.py).

Answers are delayed per request on the gateway's event loop (connection.py answers a delayed request from
its own task), so a slow answer holds up no other request or connection.
"""

from __future__ import annotations

from dataclasses import dataclass

SMALL_BAR_MAX_SECONDS = 30  # bars this small are governed by the hard pacing rules, not the throttle


@dataclass(frozen=True, slots=True)
class AnswerTime:
    """Why an answer comes when it does: the model's latency and the throttle's extra hold-back."""

    latency_s: float
    throttle_s: float

    @property
    def total_s(self) -> float:
        return self.latency_s + self.throttle_s


@dataclass(frozen=True, slots=True)
class AnswerTimeModel:
    """IB's answer time per historical request (see the module doc for the defaults' sources)."""

    base_s: float = 0.4
    per_bar_s: float = 0.0005
    throttle_free_open: int = 10
    throttle_step_s: float = 0.25
    throttle_max_s: float = 10.0

    def __post_init__(self) -> None:
        for name in ("base_s", "per_bar_s", "throttle_step_s", "throttle_max_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"answer-time model: {name} must be 0 or more, got {getattr(self, name)}")
        if self.throttle_free_open < 1:
            raise ValueError(
                f"answer-time model: throttle_free_open must be at least 1, got {self.throttle_free_open}"
            )

    def answer_time(self, bars: int, open_requests: int, bar_seconds: int) -> AnswerTime:
        """For an answer of `bars` bars to a request that arrived while `open_requests` historical
        requests were open (itself included)."""
        latency = self.base_s + self.per_bar_s * bars
        if bar_seconds <= SMALL_BAR_MAX_SECONDS:
            return AnswerTime(latency, 0.0)
        over = max(0, open_requests - self.throttle_free_open)
        return AnswerTime(latency, min(self.throttle_max_s, over * self.throttle_step_s))
