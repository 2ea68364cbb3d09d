"""Split ratios: which overnight price ratio looks like a split (2:1, 3:1, 4:1, 3:2, 1:2 …)."""

from __future__ import annotations

from dataclasses import dataclass

# (new shares, old shares): a 4:1 split turns one share into four, so the price drops to a quarter.
SPLIT_RATIOS: tuple[tuple[int, int], ...] = (
    (2, 1), (3, 1), (4, 1), (5, 1), (8, 1), (10, 1), (20, 1),
    (3, 2), (5, 4),
    (1, 2), (1, 3), (1, 4), (1, 5), (1, 8), (1, 10), (1, 20), (2, 3),
)  # fmt: skip
SPLIT_TOLERANCE = 0.03  # relative: an overnight move on top of the split still matches


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


def match_split(price_ratio: float, tolerance: float = SPLIT_TOLERANCE) -> SplitRatio | None:
    """The split ratio that `price_ratio` (price before / price after) matches within `tolerance`."""
    if price_ratio <= 0:
        return None
    best = min(SPLIT_RATIOS, key=lambda r: abs(price_ratio / (r[0] / r[1]) - 1))
    if abs(price_ratio / (best[0] / best[1]) - 1) <= tolerance:
        return SplitRatio(*best)
    return None
