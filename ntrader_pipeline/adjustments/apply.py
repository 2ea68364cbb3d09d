"""Apply stored adjustment factors to bars when a backtest reads them (the stored files stay as fetched).

- `none`: the bars as IB sent them; a split is a jump.
- `splits`: prices × split factor (a 4:1 split divides earlier prices by 4) and volumes ÷ split factor
  (four times the shares), so price × volume is unchanged.
- `splits_and_dividends`: prices × the whole factor (IB's ADJUSTED_LAST ÷ TRADES close); volumes as for
  splits only, since a dividend changes no share count.

A session in the window without a factor is an error, never a silent factor of 1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import polars as pl
from nautilus_trader.model.data import Bar
from nautilus_trader.model.objects import Price, Quantity

from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.markets.calendars import EXCHANGE_TIMEZONE


class MissingFactorsError(ValueError):
    """Sessions a backtest needs have no stored adjustment factor."""


def session_multipliers(
    factors: pl.DataFrame, adjustment: Adjustment, dates: Sequence[dt.date]
) -> dict[dt.date, tuple[float, float]]:
    """(price multiplier, volume multiplier) per session date; MissingFactorsError naming the dates
    without a factor."""
    rows = {d: (f, s) for d, f, s in factors.select("date", "factor", "split_factor").iter_rows()}
    missing = [d for d in dates if d not in rows]
    if missing:
        shown = ", ".join(d.isoformat() for d in missing[:10]) + (" …" if len(missing) > 10 else "")
        raise MissingFactorsError(f"{len(missing)} sessions have no adjustment factor: {shown}")
    out = {}
    for date in dates:
        factor, split = rows[date]
        price = split if adjustment is Adjustment.SPLITS else factor
        out[date] = (price, 1.0 / split)
    return out


def bar_session_date(bar: Bar) -> dt.date:
    """The exchange-local date of the session a bar belongs to (its open, in New York)."""
    return (
        dt.datetime.fromtimestamp(bar.ts_event / 1e9, dt.UTC).astimezone(ZoneInfo(EXCHANGE_TIMEZONE)).date()
    )


def adjust_bars(bars: Sequence[Bar], factors: pl.DataFrame | None, adjustment: Adjustment) -> list[Bar]:
    """The bars with the adjustment applied (new objects; the inputs are untouched)."""
    if adjustment is Adjustment.NONE or not bars:
        return list(bars)
    if factors is None:
        raise MissingFactorsError("no adjustment factors are stored for the instrument")
    dates = sorted({bar_session_date(b) for b in bars})
    multipliers = session_multipliers(factors, adjustment, dates)
    adjusted = []
    for bar in bars:
        price, volume = multipliers[bar_session_date(bar)]
        if price == 1.0 and volume == 1.0:
            adjusted.append(bar)
            continue
        precision = bar.open.precision
        adjusted.append(
            Bar(
                bar.bar_type,
                Price(bar.open.as_double() * price, precision),
                Price(bar.high.as_double() * price, precision),
                Price(bar.low.as_double() * price, precision),
                Price(bar.close.as_double() * price, precision),
                Quantity(bar.volume.as_double() * volume, bar.volume.precision),
                bar.ts_event,
                bar.ts_init,
            )
        )
    return adjusted


def adjust_frame(frame: pl.DataFrame, factors: pl.DataFrame | None, adjustment: Adjustment) -> pl.DataFrame:
    """The same for a bar frame (`catalog.frames` columns), e.g. for a report or an index series."""
    if adjustment is Adjustment.NONE or frame.is_empty():
        return frame
    if factors is None:
        raise MissingFactorsError("no adjustment factors are stored for the instrument")
    dated = frame.with_columns(
        pl.col("ts_event").dt.convert_time_zone(EXCHANGE_TIMEZONE).dt.date().alias("_date")
    )
    multipliers = session_multipliers(factors, adjustment, sorted(set(dated["_date"].to_list())))
    table = pl.DataFrame(
        {
            "_date": list(multipliers),
            "_price": [m[0] for m in multipliers.values()],
            "_volume": [m[1] for m in multipliers.values()],
        },
        schema={"_date": pl.Date, "_price": pl.Float64, "_volume": pl.Float64},
    )
    joined = dated.join(table, on="_date", how="left", maintain_order="left")
    return joined.with_columns(
        *(pl.col(c) * pl.col("_price") for c in ("open", "high", "low", "close")),
        pl.col("volume") * pl.col("_volume"),
    ).drop("_date", "_price", "_volume")
