"""Refuse rows that cannot become bars of their session, naming file, line, field and the fix.

Every check is one polars expression over all rows; only a failing check looks up where its first
offending row is. Bar consistency (high >= low, ...) is left to the pipeline's pandera rules.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass

import polars as pl

from ntrader_pipeline.ingest.files.errors import FileSourceError
from ntrader_pipeline.ingest.files.locations import RowLocator
from ntrader_pipeline.ingest.files.timestamps import TimestampLayout, naive_local
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE

FILE, ROW = "__file", "__row"
NUMBER_FIELDS = ("open", "high", "low", "close", "volume")
_EXCHANGE_ZONE = zoneinfo.ZoneInfo(EXCHANGE_TIMEZONE)


@dataclass(frozen=True)
class RowContext:
    """What an error message needs to say where a row is and what it should have been."""

    locator: RowLocator
    columns: dict[str, str]
    layout: TimestampLayout
    timezone: str
    bar_spec: str
    decimal_comma: bool = False  # `;`-separated exports write 443,93

    def field(self, name: str) -> str:
        column = self.columns[name]
        return f"field {name}" if column == name else f"field {name} (column {column!r})"

    def where(self, row: dict) -> str:
        return self.locator.where(row[FILE], row[ROW])


def _first(offending: pl.DataFrame) -> dict:
    return offending.sort(ROW).row(0, named=True)


def _more(count: int, what: str) -> str:
    return f" ({count} such rows {what})" if count > 1 else ""


def refuse_unreadable_stamps(rows: pl.DataFrame, key: str, context: RowContext) -> None:
    """Rows whose timestamp did not read (`key` is null)."""
    bad = rows.filter(pl.col(key).is_null())
    if bad.is_empty():
        return
    row = _first(bad)
    raw = row["timestamp"]
    if raw is None:
        problem = "the timestamp is empty"
    elif _is_skipped_local_time(raw, context):
        problem = (
            f"{raw!r} is a local time that the daylight-saving change skips in {context.timezone}; "
            "check the source's timezone"
        )
    else:
        problem = (
            f"cannot read {raw!r} as a timestamp; this column reads as {context.layout.describe()} "
            "(detected from its first rows)"
        )
    raise FileSourceError(
        f"{context.where(row)}, {context.field('timestamp')}: {problem}. Fix the value or remove the "
        f"{context.locator.unit}{_more(bad.height, 'in the span read')}."
    )


def _is_skipped_local_time(raw: object, context: RowContext) -> bool:
    if context.layout.aware or context.layout.kind not in ("text", "datetime"):
        return False
    value = pl.select(naive_local(context.layout, pl.lit(raw))).item()
    return value is not None


def refuse_outside_hours(placed: pl.DataFrame, context: RowContext) -> None:
    """Intraday bars must open at or after the session open and end by its close."""
    outside = placed.filter(
        (pl.col("ts_event") < pl.col("session_open")) | (pl.col("ts_init") > pl.col("session_close"))
    )
    if outside.is_empty():
        return
    row = _first(outside)
    local = _exchange_time
    raise FileSourceError(
        f"{context.where(row)}, {context.field('timestamp')}: {row['timestamp']!s} is a {context.bar_spec} "
        f"bar from {local(row['ts_event']):%Y-%m-%d %H:%M} to {local(row['ts_init']):%H:%M} "
        f"{EXCHANGE_TIMEZONE}, outside session {row['session']}'s regular trading hours "
        f"{local(row['session_open']):%H:%M}-{local(row['session_close']):%H:%M} "
        f"({row['session_open']:%H:%M}-{row['session_close']:%H:%M} UTC). The catalog holds "
        "regular-hours bars only: remove extended-hours rows from the file (or check the source's "
        f"timezone and timestamp_marks){_more(outside.height, 'in the sessions read')}.",
        sessions=outside["session"],
    )


def _exchange_time(value: dt.datetime) -> dt.datetime:
    return value.astimezone(_EXCHANGE_ZONE)


def numbers(placed: pl.DataFrame, context: RowContext) -> pl.DataFrame:
    """Open, high, low, close and volume as floats; refuses empty, non-numeric or negative-volume values."""

    def as_float(field: str) -> pl.Expr:
        value = pl.col(field)
        if context.decimal_comma and placed.schema[field] == pl.String:
            value = value.str.replace(",", ".", literal=True)
        return value.cast(pl.Float64, strict=False).alias(f"{field}_number")

    converted = placed.with_columns(as_float(f) for f in NUMBER_FIELDS)
    unusable = [
        pl.col(f"{f}_number").is_null() | ~pl.col(f"{f}_number").is_finite() for f in NUMBER_FIELDS
    ] + [pl.col("volume_number") < 0]
    bad = converted.filter(pl.any_horizontal(unusable))
    if not bad.is_empty():
        row = _first(bad)
        field, problem = next(
            (f, p) for f in NUMBER_FIELDS if (p := _number_problem(f, row[f], row[f"{f}_number"]))
        )
        raise FileSourceError(
            f"{context.where(row)}, {context.field(field)}: {problem}. Fix the value or remove the "
            f"{context.locator.unit}{_more(bad.height, 'in the sessions read')}.",
            sessions=bad["session"],
        )
    return converted.drop(NUMBER_FIELDS).rename({f"{f}_number": f for f in NUMBER_FIELDS})


def refuse_bars_nautilus_rejects(placed: pl.DataFrame, context: RowContext, precision: int) -> None:
    """high below open/low/close or low above open/close, at the instrument's precision.

    Not a duplicate of the pandera rule of the same meaning: Nautilus refuses to serialize such a bar,
    so the catalog write would fail (unlocated) before pandera could see it.
    """
    price = {f: pl.col(f).round(precision) for f in ("open", "high", "low", "close")}
    broken = {
        "high": pl.any_horizontal(price["high"] < price[f] for f in ("open", "low", "close")),
        "low": pl.any_horizontal(price["low"] > price[f] for f in ("open", "close")),
    }
    bad = placed.filter(broken["high"] | broken["low"])
    if bad.is_empty():
        return
    row = _first(bad)
    prices = ", ".join(f"{f} {row[f]:.{precision}f}" for f in ("open", "high", "low", "close"))
    field = "high" if row["high"] < max(row["open"], row["low"], row["close"]) else "low"
    raise FileSourceError(
        f"{context.where(row)}, {context.field(field)}: the bar's {prices} has a {field} that does not "
        "bound the other prices, and Nautilus refuses such a bar. Fix the row or remove the "
        f"{context.locator.unit}{_more(bad.height, 'in the sessions read')}.",
        sessions=bad["session"],
    )


def _number_problem(field: str, value: object, number: float | None) -> str | None:
    if value is None or value == "":
        return "the value is empty"
    if number is None or not math.isfinite(number):
        return f"{value!r} is not a number"
    if field == "volume" and number < 0:
        return f"{value!r} is a negative volume"
    return None


def refuse_duplicates(ordered: pl.DataFrame, context: RowContext) -> None:
    """Two rows for the same bar (same ts_event), e.g. overlapping files or a repeated line.

    `ordered` is sorted by ts_event, so repeats are neighbours (cheaper than a hash-based is_duplicated).
    """
    event = pl.col("ts_event")
    repeated = ordered.filter((event == event.shift(1)) | (event == event.shift(-1)))
    if repeated.is_empty():
        return
    first = _first(repeated)
    second = _first(repeated.filter((pl.col("ts_event") == first["ts_event"]) & (pl.col(ROW) != first[ROW])))
    opening = _exchange_time(first["ts_event"])
    written = (
        ""
        if first["timestamp"] == second["timestamp"]
        else f"; written {first['timestamp']} and {second['timestamp']}"
    )
    count = repeated["ts_event"].n_unique()
    more = f" ({count} timestamps repeat in the sessions read)" if count > 1 else ""
    where = context.locator.where_both((first[FILE], first[ROW]), (second[FILE], second[ROW]))
    raise FileSourceError(
        f"{where}, {context.field('timestamp')}: both rows are the {context.bar_spec} bar opening "
        f"{opening:%Y-%m-%d %H:%M:%S} {EXCHANGE_TIMEZONE} ({first['ts_event']:%H:%M:%S} UTC{written}). "
        f"Keep one of them{more}.",
        sessions=repeated["session"],
    )
