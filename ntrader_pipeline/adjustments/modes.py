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
            Adjustment.SPLITS: (
                "split-adjusted (earlier prices ÷ split ratio, volumes × split ratio; back-adjusted: "
                "levels before a split are not traded prices)"
            ),
            Adjustment.SPLITS_AND_DIVIDENDS: (
                "split- and dividend-adjusted (earlier prices × the factor of the later splits and "
                "dividends, volumes × split ratio; back-adjusted: levels before an event are not traded "
                "prices)"
            ),
        }[self]
