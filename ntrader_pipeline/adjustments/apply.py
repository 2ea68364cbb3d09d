"""Apply stored adjustment factors to bars when a backtest reads them (the stored files stay as fetched).

- `none`: the bars as IB sent them; a split is a jump.
- `splits`: prices × split factor (a 4:1 split divides earlier prices by 4) and volumes ÷ split factor
  (four times the shares), so price × volume is unchanged.
- `splits_and_dividends`: prices × the whole factor (splits and dividends, built from the corporate
  events); volumes as for splits only, since a dividend changes no share count.

Every lookup is by the bar's SESSION date: a daily bar's `ts_event` is 00:00 UTC of its session (in New
York that is still the previous calendar day), so its session is the UTC date; an intraday bar's
`ts_event` is its open, inside the session, so its session is the New York date.

Adjusted prices and volumes are kept at full precision, not rounded back to cents or whole shares:
`adjusted_instrument` gives the backtest a copy of the instrument with ADJUSTED_PRICE_PRECISION decimals
for prices and ADJUSTED_SIZE_PRECISION for sizes (Nautilus requires bars to carry the instrument's
precisions), and adjusted bars are built with those. Orders still trade whole shares (the strategies
size in whole shares).

A session in the window without a factor is an error, never a silent factor of 1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.enums import AssetClass, BarAggregation, InstrumentClass
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Price, Quantity

from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.markets.calendars import EXCHANGE_TIMEZONE

ADJUSTED_PRICE_PRECISION = 8  # 1/28 of a $450 stock is 16.07142857…: 8 decimals keep every cent's move
ADJUSTED_SIZE_PRECISION = 4  # 7 shares before a 1:10 reverse split are 0.7 shares after
_EXCHANGE_TZ = ZoneInfo(EXCHANGE_TIMEZONE)
DAY_NS = 86_400 * 10**9
_DAILY_AGGREGATIONS = (BarAggregation.DAY, BarAggregation.WEEK, BarAggregation.MONTH)


class MissingFactorsError(ValueError):
    """Sessions a backtest needs have no stored adjustment factor."""


def session_multipliers(
    factors: pl.DataFrame, adjustment: Adjustment, dates: Sequence[dt.date]
) -> dict[dt.date, tuple[float, float]]:
    """(price multiplier, volume multiplier) per session date; MissingFactorsError naming the sessions
    without a factor."""
    rows = {d: (f, s) for d, f, s in factors.select("date", "factor", "split_factor").iter_rows()}
    missing = [d for d in dates if d not in rows]
    if missing:
        shown = ", ".join(d.isoformat() for d in missing[:10]) + (" …" if len(missing) > 10 else "")
        stored = f" (factors stored for {min(rows)} … {max(rows)})" if rows else ""
        raise MissingFactorsError(f"{len(missing)} sessions have no adjustment factor: {shown}{stored}")
    out = {}
    for date in dates:
        factor, split = rows[date]
        price = split if adjustment is Adjustment.SPLITS else factor
        out[date] = (price, 1.0 / split)
    return out


def is_daily(bar: Bar) -> bool:
    return bar.bar_type.spec.aggregation in _DAILY_AGGREGATIONS


def bar_session_date(bar: Bar) -> dt.date:
    """The date of the session a bar belongs to: the UTC date of a daily bar's `ts_event` (00:00 UTC of
    its session), the New York date of an intraday bar's open."""
    moment = dt.datetime.fromtimestamp(bar.ts_event / 1e9, dt.UTC)
    return moment.date() if is_daily(bar) else moment.astimezone(_EXCHANGE_TZ).date()


def adjusted_instrument(instrument: Instrument) -> Instrument:
    """The instrument a backtest of adjusted bars trades: the same id, currency and fees, with
    ADJUSTED_PRICE_PRECISION / ADJUSTED_SIZE_PRECISION (a generic equity spot instrument, since
    Nautilus' `Equity` fixes whole-share sizes)."""
    return Instrument(
        instrument_id=instrument.id,
        raw_symbol=instrument.raw_symbol,
        asset_class=AssetClass.EQUITY,
        instrument_class=InstrumentClass.SPOT,
        quote_currency=instrument.quote_currency,
        is_inverse=False,
        price_precision=ADJUSTED_PRICE_PRECISION,
        size_precision=ADJUSTED_SIZE_PRECISION,
        size_increment=Quantity(10**-ADJUSTED_SIZE_PRECISION, ADJUSTED_SIZE_PRECISION),
        multiplier=Quantity.from_int(1),
        margin_init=instrument.margin_init,
        margin_maint=instrument.margin_maint,
        maker_fee=instrument.maker_fee,
        taker_fee=instrument.taker_fee,
        ts_event=instrument.ts_event,
        ts_init=instrument.ts_init,
        price_increment=Price(10**-ADJUSTED_PRICE_PRECISION, ADJUSTED_PRICE_PRECISION),
        lot_size=Quantity(1, ADJUSTED_SIZE_PRECISION),
        info=dict(instrument.info or {}) | {"adjusted_from_precision": instrument.price_precision},
    )


def _columns(bars: Sequence[Bar]) -> dict[str, np.ndarray]:
    n = len(bars)
    columns = {
        name: np.fromiter((getattr(b, name).as_double() for b in bars), dtype=np.float64, count=n)
        for name in ("open", "high", "low", "close", "volume")
    }
    for name in ("ts_event", "ts_init"):
        columns[name] = np.fromiter((getattr(b, name) for b in bars), dtype=np.uint64, count=n)
    return columns


def _rebuilt(
    bar_type: BarType, columns: dict[str, np.ndarray], price: np.ndarray, volume: np.ndarray
) -> list[Bar]:
    """Bars at ADJUSTED_PRICE_PRECISION / ADJUSTED_SIZE_PRECISION from scaled columns (vectorized)."""
    return Bar.from_raw_arrays_to_list(
        bar_type,
        ADJUSTED_PRICE_PRECISION,
        ADJUSTED_SIZE_PRECISION,
        *(np.ascontiguousarray(columns[c] * price) for c in ("open", "high", "low", "close")),
        np.ascontiguousarray(columns["volume"] * volume),
        columns["ts_event"],
        columns["ts_init"],
    )


def _session_days(ts_event: np.ndarray, daily: bool) -> np.ndarray:
    """`bar_session_date` for an array of `ts_event` (ns UTC), as datetime64[D]."""
    if daily:
        return (ts_event // DAY_NS).astype("datetime64[D]")
    stamps = pl.Series(ts_event.astype(np.int64)).cast(pl.Datetime("ns", "UTC"))
    return stamps.dt.convert_time_zone(EXCHANGE_TIMEZONE).dt.date().to_numpy().astype("datetime64[D]")


def adjust_bars(bars: Sequence[Bar], factors: pl.DataFrame | None, adjustment: Adjustment) -> list[Bar]:
    """The bars with the adjustment applied, at full precision (new objects; the inputs are untouched).
    Every bar of an adjusted series has the adjusted precisions, also where the factor is 1. Vectorized:
    the bars' columns are scaled as arrays and the bars rebuilt in one call."""
    if adjustment is Adjustment.NONE or not bars:
        return list(bars)
    if factors is None:
        raise MissingFactorsError("no adjustment factors are stored for the instrument")
    bar_type = bars[0].bar_type
    if any(b.bar_type != bar_type for b in bars):
        raise ValueError(f"adjust_bars takes bars of one bar type; got {bar_type} and others")
    columns = _columns(bars)
    days, index = np.unique(_session_days(columns["ts_event"], is_daily(bars[0])), return_inverse=True)
    multipliers = session_multipliers(factors, adjustment, [d.item() for d in days])
    table = np.array([multipliers[d.item()] for d in days], dtype=np.float64)
    return _rebuilt(bar_type, columns, table[index, 0], table[index, 1])


def frame_session_dates(frame: pl.DataFrame, *, daily: bool) -> pl.Expr:
    """The session date of each row of a bar frame (`ts_event` in UTC), as for `bar_session_date`."""
    ts = pl.col("ts_event")
    return (ts.dt.date() if daily else ts.dt.convert_time_zone(EXCHANGE_TIMEZONE).dt.date()).alias("_date")


def adjust_frame(
    frame: pl.DataFrame, factors: pl.DataFrame | None, adjustment: Adjustment, *, daily: bool
) -> pl.DataFrame:
    """The same for a bar frame (`catalog.frames` columns; `daily` for daily bars), unrounded."""
    if adjustment is Adjustment.NONE or frame.is_empty():
        return frame
    if factors is None:
        raise MissingFactorsError("no adjustment factors are stored for the instrument")
    dated = frame.with_columns(frame_session_dates(frame, daily=daily))
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
        pl.col("volume").cast(pl.Float64) * pl.col("_volume"),
    ).drop("_date", "_price", "_volume")
