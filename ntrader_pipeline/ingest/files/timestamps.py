"""Reading the timestamp column: detect its layout once from the first rows, then parse it vectorized.

Layouts: text (ISO, `YYYY-MM-DD HH:MM:SS`, IB's `YYYYMMDD  HH:MM:SS`, US `MM/DD/YYYY HH:MM`, dates),
epoch integers (s, ms, us or ns, told apart by magnitude), and native datetime/date columns. Naive
stamps are local times in the source's time zone; stamps with an offset or zone keep it.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Literal

import polars as pl

UTC_NS = pl.Datetime("ns", "UTC")
_EPOCH_DIGITS = r"^-?\d{9,19}$"  # 8 digits is a YYYYMMDD date, not an epoch
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}

# (strptime pattern, carries an offset, has a time of day). Fast patterns come first: `%.f` (optional
# fractional seconds) parses 3x slower, so it is picked only when the plain pattern does not fit.
_TEXT_PATTERNS: tuple[tuple[str, bool, bool], ...] = (
    ("%Y-%m-%d %H:%M:%S", False, True),
    ("%Y-%m-%dT%H:%M:%S", False, True),
    ("%Y-%m-%d %H:%M:%S%#z", True, True),
    ("%Y-%m-%dT%H:%M:%S%#z", True, True),
    ("%Y-%m-%d %H:%M:%S%.f", False, True),
    ("%Y-%m-%dT%H:%M:%S%.f", False, True),
    ("%Y-%m-%d %H:%M:%S%.f%#z", True, True),
    ("%Y-%m-%dT%H:%M:%S%.f%#z", True, True),
    ("%Y-%m-%d %H:%M", False, True),
    ("%Y-%m-%dT%H:%M", False, True),
    ("%Y%m%d %H:%M:%S", False, True),  # also IB's two-space "20240103  09:30:00"
    ("%Y%m%d %H:%M", False, True),
    ("%Y/%m/%d %H:%M:%S", False, True),
    ("%Y/%m/%d %H:%M", False, True),
    ("%m/%d/%Y %H:%M:%S", False, True),
    ("%m/%d/%Y %H:%M", False, True),
    ("%Y-%m-%d", False, False),
    ("%Y%m%d", False, False),
    ("%Y/%m/%d", False, False),
    ("%m/%d/%Y", False, False),
)
# Text that starts with one of these dates sorts in time order, so a plain string range on the raw
# column selects a date span (and is pushed into the scan before any parsing).
_SORTABLE_DATE_PREFIXES = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d")


@dataclass(frozen=True)
class TimestampLayout:
    kind: Literal["text", "epoch", "datetime", "date"]
    pattern: str | None = None
    aware: bool = False
    has_time: bool = True
    epoch_unit: Literal["s", "ms", "us", "ns"] | None = None
    zone: str | None = None  # a native datetime column's own time zone
    integer: bool = False  # epochs stored as integers (not text digits)

    def describe(self) -> str:
        if self.kind == "text":
            return f"text in the format {self.pattern}"
        if self.kind == "epoch":
            return f"epoch {self.epoch_unit} integers"
        return f"native {self.kind} values{f' in {self.zone}' if self.zone else ''}"

    @property
    def date_prefix(self) -> str | None:
        if self.kind != "text" or self.pattern is None:
            return None
        return next((p for p in _SORTABLE_DATE_PREFIXES if self.pattern.startswith(p)), None)


def detect_layout(sample: pl.Series) -> TimestampLayout | None:
    """The layout that reads the most of `sample` (the first rows); None when nothing reads."""
    dtype = sample.dtype
    if isinstance(dtype, pl.Datetime):
        return TimestampLayout("datetime", aware=dtype.time_zone is not None, zone=dtype.time_zone)
    if dtype == pl.Date:
        return TimestampLayout("date", has_time=False)
    values = sample.drop_nulls()
    if dtype.is_integer():
        return TimestampLayout("epoch", aware=True, epoch_unit=_epoch_unit(values.abs().max()), integer=True)
    if dtype != pl.String or values.is_empty():
        return None
    if values.str.contains(_EPOCH_DIGITS).all():
        longest = int(values.str.strip_prefix("-").str.len_chars().max())  # type: ignore[arg-type]
        return TimestampLayout("epoch", aware=True, epoch_unit=_epoch_unit(10 ** (longest - 1)))
    counts = [
        values.str.to_datetime(pattern, strict=False, time_unit="ns").is_not_null().sum()
        for pattern, _, _ in _TEXT_PATTERNS
    ]
    best = max(range(len(counts)), key=lambda i: (counts[i], -i))
    if counts[best] == 0:
        return None
    pattern, aware, has_time = _TEXT_PATTERNS[best]
    return TimestampLayout("text", pattern=pattern, aware=aware, has_time=has_time)


def _epoch_unit(magnitude: object) -> Literal["s", "ms", "us", "ns"]:
    value = float(magnitude) if isinstance(magnitude, int | float) else 0.0
    if value < 1e11:
        return "s"
    if value < 1e14:
        return "ms"
    return "us" if value < 1e17 else "ns"


def naive_local(layout: TimestampLayout, raw: pl.Expr) -> pl.Expr:
    """Naive stamps as written (text and native naive layouts only)."""
    if layout.kind == "text":
        return raw.str.to_datetime(layout.pattern, strict=False, time_unit="ns")
    return raw.cast(pl.Datetime("ns"))


def utc_stamps(layout: TimestampLayout, raw: pl.Expr, timezone: str) -> pl.Expr:
    """UTC nanosecond stamps; null where a value does not read (or is a local time a DST change skips)."""
    if layout.kind == "epoch":
        epoch = pl.from_epoch(raw.cast(pl.Int64, strict=False), time_unit=layout.epoch_unit or "s")
        return epoch.cast(pl.Datetime("ns")).dt.replace_time_zone("UTC")
    if layout.aware:
        parsed = (
            raw.str.to_datetime(layout.pattern, strict=False, time_unit="ns")
            if layout.kind == "text"
            else raw
        )
        return parsed.dt.convert_time_zone("UTC").cast(UTC_NS)
    # A fall-back hour is outside any session, so "earliest" is harmless; a skipped hour cannot be a bar.
    local = naive_local(layout, raw).dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
    return local.dt.convert_time_zone("UTC")


def written_dates(layout: TimestampLayout, raw: pl.Expr, timezone: str) -> pl.Expr:
    """The calendar date as written in the file (a daily bar's session date, whatever its offset)."""
    if layout.kind == "date":
        return raw
    if layout.kind == "epoch":
        return utc_stamps(layout, raw, timezone).dt.date()
    if layout.kind == "text" and layout.aware:
        # The local date before the offset: "2024-01-03T00:00:00Z" and "...-05:00" both name 2024-01-03.
        return raw.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    return (raw if layout.kind == "datetime" else naive_local(layout, raw)).dt.date()


def raw_span_filter(layout: TimestampLayout, raw: pl.Expr, first: dt.date, last: dt.date) -> pl.Expr | None:
    """A cheap filter on the raw column keeping rows written within a day of [first, last].

    It compares the column as stored with literals, so polars pushes it into the scan (Parquet row
    group statistics prune, CSV rows are dropped while reading). None when the layout has no such
    order. Null stamps pass: they are reported, not silently dropped.
    """
    low, high = first - dt.timedelta(days=1), last + dt.timedelta(days=2)
    if layout.date_prefix is not None:
        span = (raw >= low.strftime(layout.date_prefix)) & (raw < high.strftime(layout.date_prefix))
    elif layout.kind == "date":
        span = raw.is_between(low, high, closed="left")
    elif layout.kind == "datetime":
        zone = zoneinfo.ZoneInfo(layout.zone) if layout.zone else None
        bounds = [dt.datetime.combine(d, dt.time(), tzinfo=zone) for d in (low, high)]
        span = raw.is_between(pl.lit(bounds[0]), pl.lit(bounds[1]), closed="left")
    elif layout.kind == "epoch" and layout.integer:
        per_second = _PER_SECOND[layout.epoch_unit or "s"]
        bounds = [
            int(dt.datetime.combine(d, dt.time(), tzinfo=dt.UTC).timestamp()) * per_second
            for d in (low, high)
        ]
        span = raw.is_between(bounds[0], bounds[1], closed="left")
    else:
        return None
    return raw.is_null() | span
