"""Adjustment factors per session, built from the corporate events (see `events`).

For a session d, with the events E whose ex-date is after d:

    split_factor(d)    = Π 1 / (p/q)_E          (a 4:1 split later: earlier prices ÷ 4)
    dividend_factor(d) = Π (1 - D_E / C_E)      (C_E: the unadjusted close before E's ex-date)
    factor(d)          = split_factor × dividend_factor

So the factors are piecewise constant between ex-dates, the newest session's factor is exactly 1, and
IB's cent rounding of ADJUSTED_LAST never enters a return. This is *back*-adjustment: price levels
before an event are rescaled with information from after it (see docs/concepts/back-adjustment.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from ntrader_pipeline.adjustments.events import EVENT_SCHEMA, describe_event, detect_events, events_of

FACTOR_SCHEMA = {
    "date": pl.Date,
    "close": pl.Float64,  # TRADES close (unadjusted), for reference
    "adjusted_close": pl.Float64,  # IB's ADJUSTED_LAST close from the refresh's one request
    "factor": pl.Float64,
    "split_factor": pl.Float64,
    "dividend_factor": pl.Float64,
}


@dataclass(frozen=True, slots=True)
class CorporateAction:
    date: dt.date
    kind: str  # "split", "dividend", "split+dividend" (or "unexplained")
    detail: str  # "7:1", "0.4512 (0.38 %)", "3:2 + dividend 0.2500 (0.50 %)"

    def describe(self) -> str:
        return f"{self.date.isoformat()} {self.kind} {self.detail}"


def factors_from_events(daily: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """FACTOR_SCHEMA rows for the sessions of `daily` (date, close, adjusted_close) from `events`."""
    dates = daily["date"].to_list()
    split = [1.0] * len(dates)
    dividend = [1.0] * len(dates)
    for event in events_of(events):
        for i, date in enumerate(dates):
            if date < event.ex_date:
                split[i] *= event.split_factor
                dividend[i] *= 1 - event.dividend_share
    return pl.DataFrame(
        {
            "date": dates,
            "close": daily["close"],
            "adjusted_close": daily["adjusted_close"],
            "factor": [s * d for s, d in zip(split, dividend, strict=True)],
            "split_factor": split,
            "dividend_factor": dividend,
        },
        schema=FACTOR_SCHEMA,
    )


def joined_daily(trades: pl.DataFrame, adjusted: pl.DataFrame) -> pl.DataFrame:
    """TRADES daily rows (date, open, close, volume) with the ADJUSTED_LAST close, sessions in both."""
    columns = [c for c in ("date", "open", "close", "volume") if c in trades.columns]
    return (
        trades.select(columns)
        .join(adjusted.select("date", pl.col("close").alias("adjusted_close")), on="date", how="inner")
        .filter((pl.col("close") > 0) & (pl.col("adjusted_close") > 0))
        .sort("date")
    )


def adjustment_factors(trades: pl.DataFrame, adjusted: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(factors, events) for the sessions present in both frames."""
    daily = joined_daily(trades, adjusted)
    events = detect_events(daily) if daily.height else pl.DataFrame(schema=EVENT_SCHEMA)
    return factors_from_events(daily, events), events


def corporate_actions(events: pl.DataFrame) -> list[CorporateAction]:
    """The events as (date, kind, detail) records, in date order (for manifests and reports)."""
    actions = []
    for row in events.sort("ex_date").iter_rows(named=True):
        text = describe_event(row)
        detail = text.split(" ", 2)[2] if row["kind"] != "unexplained" else str(row["note"])
        actions.append(CorporateAction(row["ex_date"], row["kind"], detail))
    return actions
