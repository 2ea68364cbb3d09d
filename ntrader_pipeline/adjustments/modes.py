"""How a backtest's bars are adjusted for corporate actions (see `adjustments.apply`)."""

from __future__ import annotations

from enum import StrEnum


class Adjustment(StrEnum):
    NONE = "none"
    SPLITS = "splits"
    SPLITS_AND_DIVIDENDS = "splits_and_dividends"

    def describe(self) -> str:
        return {
            Adjustment.NONE: "unadjusted (bars as IB sent them; splits and dividends show as price jumps)",
            Adjustment.SPLITS: "split-adjusted (earlier prices ÷ split ratio, volumes × split ratio)",
            Adjustment.SPLITS_AND_DIVIDENDS: (
                "split- and dividend-adjusted (prices × IB's ADJUSTED_LAST/TRADES factor, "
                "volumes × split ratio)"
            ),
        }[self]
