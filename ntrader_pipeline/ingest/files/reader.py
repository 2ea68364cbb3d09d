"""Read the bars of many sessions from a file source with one lazy polars scan.

The scan (over all matched files) is filtered to the requested span before anything is parsed: the
filter compares the raw timestamp column with literals, so polars pushes it into the scan (Parquet
row groups outside the span are skipped; CSV rows outside it are dropped while reading). The span's
rows are collected once, checked and placed with polars expressions, and turned into Nautilus bars.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.instruments import Instrument

from ntrader_pipeline.ingest.files import placement, row_checks
from ntrader_pipeline.ingest.files.columns import FileLayout, file_layout, first_values
from ntrader_pipeline.ingest.files.errors import FileSourceError
from ntrader_pipeline.ingest.files.locations import RowLocator
from ntrader_pipeline.ingest.files.nautilus_bars import session_bars
from ntrader_pipeline.ingest.files.paths import matched_files
from ntrader_pipeline.ingest.files.row_checks import FILE, ROW, RowContext
from ntrader_pipeline.ingest.files.timestamps import (
    TimestampLayout,
    detect_layout,
    raw_span_filter,
    utc_stamps,
    written_dates,
)
from ntrader_pipeline.markets.file_source import BAR_FIELDS, FileFormat, FileSource
from ntrader_pipeline.markets.sessions import TradingSession

_SAMPLE_ROWS = 1_000  # rows the timestamp layout is detected from
_SLACK = dt.timedelta(days=1)  # the scan keeps a day either side; placing rows drops what is not asked for


@dataclass(frozen=True)
class _Scan:
    files: list[Path]
    file_format: FileFormat
    layout: FileLayout
    stamps: TimestampLayout
    frame: pl.LazyFrame


class FileBarReader:
    """Bars of one instrument × bar spec from the files of a FileSource."""

    def __init__(self, source: FileSource, instrument: Instrument, base_dir: Path) -> None:
        self.source = source
        self.instrument = instrument
        self.base_dir = Path(base_dir)
        self.spec = source.spec
        self.bar_type = BarType.from_str(self.spec.bar_type(instrument.id.value))

    def read_sessions(self, sessions: Sequence[TradingSession]) -> dict[dt.date, list[Bar]]:
        """Each session's bars in time order ([] for a session without rows); FileSourceError on bad rows."""
        if not sessions:
            return {}
        scan = self._scan(sessions)
        try:
            rows = scan.frame.collect(engine="streaming")
        except pl.exceptions.PolarsError as exc:
            raise FileSourceError(
                f"cannot read {scan.file_format} bar files {', '.join(map(str, scan.files))}: {exc}"
            ) from exc
        context = RowContext(
            locator=RowLocator(scan.files, scan.file_format, scan.layout.separator),
            columns=scan.layout.columns,
            layout=scan.stamps,
            timezone=self.source.timezone,
            bar_spec=str(self.spec),
            decimal_comma=scan.file_format == "csv" and scan.layout.separator != ",",
        )
        placed = self._place(rows, sessions, context)
        return session_bars(placed, sessions, self.bar_type, self.instrument)

    def plan(self, sessions: Sequence[TradingSession]) -> pl.LazyFrame:
        """The lazy query `read_sessions` collects (e.g. to `explain()` what reaches the scan)."""
        return self._scan(sessions).frame

    # -- internals ---------------------------------------------------------------------------

    def _scan(self, sessions: Sequence[TradingSession]) -> _Scan:
        files, file_format = matched_files(self.source, self.base_dir)
        layout = file_layout(files, file_format, self.source)
        raw = _scan_files(files, file_format, layout).select(
            FILE, ROW, *(pl.col(column).alias(field) for field, column in layout.columns.items())
        )
        stamps = self._timestamp_layout(files, file_format, layout)
        first, last = min(s.date for s in sessions), max(s.date for s in sessions)
        keep = pl.any_horizontal(pl.col(BAR_FIELDS).is_not_null())  # polars keeps blank lines as rows
        span = raw_span_filter(stamps, pl.col("timestamp"), first, last)
        raw = raw.filter(keep if span is None else keep & span)
        if self.spec.is_intraday:
            key = utc_stamps(stamps, pl.col("timestamp"), self.source.timezone).alias("stamp")
            low = dt.datetime.combine(first - _SLACK, dt.time(), tzinfo=dt.UTC)
            high = dt.datetime.combine(last + 2 * _SLACK, dt.time(), tzinfo=dt.UTC)
        else:
            key = written_dates(stamps, pl.col("timestamp"), self.source.timezone).alias("date")
            low, high = first, last + dt.timedelta(days=1)
        in_span = pl.col(key.meta.output_name()).is_between(pl.lit(low), pl.lit(high), closed="left")
        frame = raw.with_columns(key).filter(pl.col(key.meta.output_name()).is_null() | in_span)
        return _Scan(files, file_format, layout, stamps, frame)

    def _timestamp_layout(
        self, files: list[Path], file_format: FileFormat, layout: FileLayout
    ) -> TimestampLayout:
        # From the first file with rows: a glob may start with an empty (header-only) file.
        for file in files:
            sample = first_values(file, file_format, layout, "timestamp", _SAMPLE_ROWS)
            if sample.null_count() < len(sample):
                break
        else:
            raise FileSourceError(f"{', '.join(map(str, files))}: no rows with a timestamp; nothing to read")
        stamps = detect_layout(sample)
        if stamps is not None and (stamps.has_time or not self.spec.is_intraday):
            return stamps
        row = int(sample.is_not_null().arg_true()[0])
        value = sample[row]
        where = RowLocator(files, file_format, layout.separator).where_in_file(str(file), row)
        field = f"field timestamp (column {layout.columns['timestamp']!r})"
        if stamps is None:
            raise FileSourceError(
                f"{where}, {field}: cannot read {value!r} ({sample.dtype}) as a timestamp; expected text "
                "such as 2024-01-03 09:30:00, 2024-01-03T09:30:00-05:00, 20240103 09:30:00, "
                "01/03/2024 09:30 or 2024-01-03 (daily), epoch seconds or milliseconds, or a datetime or "
                "date column. Fix the column or map columns.timestamp to another one"
            )
        raise FileSourceError(
            f"{where}, {field}: {value!s} has no time of day, but the source's bar_spec is {self.spec}; "
            "set bar_spec: 1-DAY-LAST for daily bars, or map columns.timestamp to a date-time column"
        )

    def _place(
        self, rows: pl.DataFrame, sessions: Sequence[TradingSession], context: RowContext
    ) -> pl.DataFrame:
        if self.spec.is_intraday:
            row_checks.refuse_unreadable_stamps(rows, "stamp", context)
            placed = placement.place_intraday(rows, sessions, self.spec, self.source.timestamp_marks)
            row_checks.refuse_outside_hours(placed, context)
        else:
            row_checks.refuse_unreadable_stamps(rows, "date", context)
            placed = placement.place_daily(rows, sessions)
        ordered = row_checks.numbers(placed, context).sort("ts_event", maintain_order=True)
        row_checks.refuse_bars_nautilus_rejects(ordered, context, self.instrument.price_precision)
        row_checks.refuse_duplicates(ordered, context)
        return ordered


def _scan_files(files: list[Path], file_format: FileFormat, layout: FileLayout) -> pl.LazyFrame:
    sources = [str(f) for f in files]
    if file_format == "csv":
        # All text: values are parsed by our expressions, so a bad one becomes a located error.
        return pl.scan_csv(
            sources,
            separator=layout.separator,
            infer_schema=False,
            row_index_name=ROW,
            include_file_paths=FILE,
            glob=False,
        )
    return pl.scan_parquet(sources, row_index_name=ROW, include_file_paths=FILE, glob=False)
