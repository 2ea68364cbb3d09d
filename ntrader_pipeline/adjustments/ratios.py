"""Split ratios p:q of small integers, found by a rational approximation with a tolerance (no fixed list).

A p:q split gives p new shares for q old ones, so the price before ÷ the price after is p/q: 7:1 → 7,
50:1 → 50, 3:2 → 1.5, a 1:8 reverse split → 0.125. Real splits have a small side (1, 2, 3, 4 …) and the
other side at most 50, so the candidates are the fractions p/q in lowest terms with
`max(p, q) <= MAX_TERM` and `min(p, q) <= MAX_SMALL_TERM`. Among the candidates in an interval the
simplest wins: the smallest min(p, q), then the one nearest the observed value. That is the best rational
approximation within a tolerance, restricted to ratios companies actually declare.

Hand-worked: 1.5075 (a 3:2 split with a 0.5 % dividend on the same day) with the window [1.357, 1.509]
holds no integer; 3/2 (min 2) is the simplest fraction in it, 7/5 (min 5) and 10/7 are less simple.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

MAX_TERM = 50  # 50:1 (CMG 2024) and 1:50 reverse splits are the largest ratios recognised
MAX_SMALL_TERM = 10  # the small side of a split ratio (7:1, 3:2, 1:8, 5:4 …) is at most this
SPLIT_TOLERANCE = 0.03  # relative, for the quality rule: an overnight move on top of the split still matches
MIN_SPLIT_JUMP = 0.15  # |price ratio - 1| below this is a market move, never a split for the quality rule
QUALITY_SMALL_TERM = 4  # the quality rule flags only common ratios (2:1, 3:2, 5:4, 7:1, 1:8 …): a warning


@dataclass(frozen=True, slots=True)
class SplitRatio:
    new: int
    old: int

    @property
    def value(self) -> float:
        """Price before / price after (4.0 for a 4:1 split, 0.5 for a 1:2 reverse split)."""
        return self.new / self.old

    def __str__(self) -> str:
        return f"{self.new}:{self.old}"

    @classmethod
    def parse(cls, text: str) -> SplitRatio:
        new, _, old = text.partition(":")
        return cls(int(new), int(old))


@lru_cache(maxsize=1)
def _candidates() -> tuple[SplitRatio, ...]:
    """Every p:q in lowest terms, p ≠ q, max(p, q) ≤ MAX_TERM and min(p, q) ≤ MAX_SMALL_TERM."""
    found = []
    for p in range(1, MAX_TERM + 1):
        for q in range(1, MAX_TERM + 1):
            if p != q and math.gcd(p, q) == 1 and min(p, q) <= MAX_SMALL_TERM:
                found.append(SplitRatio(p, q))
    return tuple(found)


def simplest_ratio(
    low: float, high: float, near: float, max_small_term: int = MAX_SMALL_TERM
) -> SplitRatio | None:
    """The simplest split ratio with `low <= p/q <= high`: smallest min(p, q), then nearest `near` (in
    log terms); None when no candidate lies in the interval."""
    inside = [r for r in _candidates() if low <= r.value <= high and min(r.new, r.old) <= max_small_term]
    if not inside or near <= 0:
        return None
    return min(inside, key=lambda r: (min(r.new, r.old), abs(math.log(r.value / near))))


def match_split(price_ratio: float, tolerance: float = SPLIT_TOLERANCE) -> SplitRatio | None:
    """The common split ratio an overnight `price_ratio` (price before / price after) matches within
    `tolerance` (the quality rule's warning; corporate events use `events.detect_events`, which takes any
    ratio). Moves of less than MIN_SPLIT_JUMP are never splits."""
    if price_ratio <= 0 or abs(price_ratio - 1) < MIN_SPLIT_JUMP:
        return None
    low, high = price_ratio * (1 - tolerance), price_ratio * (1 + tolerance)
    return simplest_ratio(low, high, price_ratio, QUALITY_SMALL_TERM)
