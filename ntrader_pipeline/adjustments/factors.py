"""Adjustment factors per session from IB's daily closes: ADJUSTED_LAST / TRADES.

IB's ADJUSTED_LAST series is the TRADES series with every price before a split or cash dividend scaled
so the series is continuous; the latest session has factor 1. So for each session

    factor = adjusted_close / close          (the price multiplier to bring it in line with today)

and a change of factor from one session to the next is a corporate action on the later session (its
ex-date). A step that matches a split ratio (4:1 → ×4) is a split; any other step is a dividend (a
small one, ≈ 1 + dividend / close). The frame keeps the parts apart, so a backtest can adjust for splits
only, or for splits and dividends:

    split_factor × dividend_factor = factor
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from ntrader_pipeline.adjustments.ratios import match_split

FACTOR_SCHEMA = {
    "date": pl.Date,
    "close": pl.Float64,
    "adjusted_close": pl.Float64,
    "factor": pl.Float64,
    "split_factor": pl.Float64,
    "dividend_factor": pl.Float64,
    "split_ratio": pl.Utf8,  # "4:1" on a split's ex-date
    "dividend_step": pl.Float64,  # the factor step on a dividend's ex-date (else null)
}
_NO_CHANGE = 5e-4  # smaller factor steps are IB rounding adjusted prices to cents, not a corporate action


@dataclass(frozen=True, slots=True)
class CorporateAction:
    date: dt.date
    kind: str  # "split" or "dividend"
    detail: str  # "4:1" or "factor step 1.0062"

    def describe(self) -> str:
        return f"{self.date.isoformat()} {self.kind} {self.detail}"


def adjustment_factors(closes: pl.DataFrame, adjusted: pl.DataFrame) -> pl.DataFrame:
    """One row per session present in both frames (columns `date`, `close`), in date order."""
    joined = (
        closes.select("date", "close")
        .join(adjusted.select("date", pl.col("close").alias("adjusted_close")), on="date", how="inner")
        .filter((pl.col("close") > 0) & (pl.col("adjusted_close") > 0))
        .sort("date")
    )
    factors = (joined["adjusted_close"] / joined["close"]).to_list()
    n = len(factors)
    split_after = [1.0] * n  # product of 1/ratio over splits on later sessions
    ratios: list[str | None] = [None] * n
    dividend_steps: list[float | None] = [None] * n
    running = 1.0
    for i in range(n - 1, 0, -1):
        split_after[i] = running
        step = factors[i] / factors[i - 1]
        if abs(step - 1) < _NO_CHANGE:
            continue
        ratio = match_split(step)
        if ratio is not None:
            ratios[i] = str(ratio)
            running /= ratio.value
        else:
            dividend_steps[i] = step
    if n:
        split_after[0] = running
    return pl.DataFrame(
        {
            "date": joined["date"],
            "close": joined["close"],
            "adjusted_close": joined["adjusted_close"],
            "factor": factors,
            "split_factor": split_after,
            "dividend_factor": [f / s for f, s in zip(factors, split_after, strict=True)],
            "split_ratio": ratios,
            "dividend_step": dividend_steps,
        },
        schema=FACTOR_SCHEMA,
    )


def corporate_actions(factors: pl.DataFrame) -> list[CorporateAction]:
    """The splits and dividends a factor frame records, in date order."""
    actions = []
    for date, ratio, step in factors.select("date", "split_ratio", "dividend_step").iter_rows():
        if ratio is not None:
            actions.append(CorporateAction(date, "split", ratio))
        elif step is not None:
            actions.append(CorporateAction(date, "dividend", f"factor step {step:.4f}"))
    return actions
