"""Which file column holds each bar field: the source's mapping, else the common layouts by name.

Names match case-insensitively (a BOM, spaces and `<>` around names are ignored), so `Date,Open,...`,
`timestamp,open,...` and `<DATE>,<OPEN>,...` all read without a mapping.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import polars as pl

from ntrader_pipeline.ingest.files.errors import FileSourceError
from ntrader_pipeline.markets.file_source import BAR_FIELDS, FileFormat, FileSource

_TIMESTAMP_NAMES = ("timestamp", "datetime", "date_time", "date time", "ts_event", "ts", "t")
_FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c"),
    "volume": ("volume", "vol", "v"),
}
_SEPARATORS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class FileLayout:
    """The shared header of a source's files and the column of each bar field in it."""

    columns: dict[str, str]
    header: tuple[str, ...]
    separator: str = ","


def file_layout(files: list[Path], file_format: FileFormat, source: FileSource) -> FileLayout:
    """Map the bar fields onto the first file's header; every file must share that header."""
    separator = _csv_separator(files[0]) if file_format == "csv" else ","
    header = _header(files[0], file_format, separator)
    for other in files[1:]:
        other_header = _header(other, file_format, separator)
        if other_header != header:
            raise FileSourceError(
                f"{other} has columns [{', '.join(other_header)}] but {files[0]} has "
                f"[{', '.join(header)}]; the files of one source need the same header (give the "
                "others their own file source)"
            )
    return FileLayout(_map_columns(files[0], file_format, header, source.columns or {}), header, separator)


def _normalized(name: str) -> str:
    return name.replace("\ufeff", "").strip().strip("<>").strip().lower()


def _csv_separator(path: Path) -> str:
    """The most frequent of `, ; tab |` in the header line (European exports use `;`)."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            first = handle.readline()
    except OSError as exc:
        raise FileSourceError(f"cannot read bar file {path}: {exc}") from exc
    return max(_SEPARATORS, key=first.count) if first.strip() else ","


def _header(path: Path, file_format: FileFormat, separator: str) -> tuple[str, ...]:
    try:
        if file_format == "csv":
            header = pl.read_csv(_first_lines(path, 1), n_rows=0, infer_schema=False, separator=separator)
            return tuple(header.columns)
        return tuple(pl.read_parquet_schema(path))
    except pl.exceptions.NoDataError as exc:
        raise FileSourceError(f"bar file {path} is empty; it needs a header line and rows") from exc
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise FileSourceError(f"cannot read the header of {file_format} bar file {path}: {exc}") from exc


def _map_columns(
    path: Path, file_format: FileFormat, header: tuple[str, ...], mapping: dict[str, str]
) -> dict[str, str]:
    by_name: dict[str, list[str]] = {}
    for column in header:
        by_name.setdefault(_normalized(column), []).append(column)
    found: dict[str, str] = {}
    for field in BAR_FIELDS:
        if field in mapping:
            column = _named_column(mapping[field], header, by_name)
        elif field == "timestamp":
            column = _timestamp_column(path, by_name)
        else:
            _refuse_ambiguous(path, field, by_name, _FIELD_NAMES[field])
            column = next((by_name[n][0] for n in _FIELD_NAMES[field] if n in by_name), None)
        if column is None:
            raise _missing_column(path, file_format, field, header, mapping, found)
        found[field] = column
    return found


def _named_column(wanted: str, header: tuple[str, ...], by_name: dict[str, list[str]]) -> str | None:
    if wanted in header:
        return wanted
    matches = by_name.get(_normalized(wanted), [])
    return matches[0] if len(matches) == 1 else None


def _timestamp_column(path: Path, by_name: dict[str, list[str]]) -> str | None:
    _refuse_ambiguous(path, "timestamp", by_name, (*_TIMESTAMP_NAMES, "date", "time"))
    for name in _TIMESTAMP_NAMES:
        if name in by_name:
            return by_name[name][0]
    if "date" in by_name and "time" in by_name:
        raise FileSourceError(
            f"{path} line 1 (header), field timestamp: the date and the time of day are in separate "
            f"columns ({by_name['date'][0]}, {by_name['time'][0]}), which a file source cannot combine; "
            "write them as one timestamp column (e.g. 2024-01-03 09:30:00)"
        )
    for name in ("date", "time"):
        if name in by_name:
            return by_name[name][0]
    return None


def _refuse_ambiguous(path: Path, field: str, by_name: dict[str, list[str]], names: tuple[str, ...]) -> None:
    for name in names:
        if len(by_name.get(name, ())) > 1:
            raise FileSourceError(
                f"{path} line 1 (header), field {field}: columns {', '.join(by_name[name])} differ only in "
                f"case or spacing; set columns: {{{field}: <column>}} in the file source to pick one"
            )


def _missing_column(
    path: Path,
    file_format: FileFormat,
    field: str,
    header: tuple[str, ...],
    mapping: dict[str, str],
    found: dict[str, str],
) -> FileSourceError:
    where = "line 1 (header)" if file_format == "csv" else "schema"
    if field in mapping:
        problem = f"the mapped column {mapping[field]!r} is not in the file"
    else:
        problem = f"no column looks like {field}"
    looks_like_data = any(name[:1].isdigit() for name in header)
    hint = (
        "; the first line looks like data: add a header line such as timestamp,open,high,low,close,volume"
        if looks_like_data
        else ""
    )
    mapped = ", ".join(f"{k}: {v}" for k, v in found.items())
    return FileSourceError(
        f"{path} {where}, field {field}: {problem}; the file's columns are [{', '.join(header)}]. "
        f"Set columns: {{{field}: <one of them>}} in the file source"
        f"{f' (found so far: {mapped})' if mapped else ''}{hint}"
    )


def first_values(
    path: Path, file_format: FileFormat, layout: FileLayout, field: str, count: int
) -> pl.Series:
    """The first `count` values of a field's column, read without loading the file."""
    column = layout.columns[field]
    if file_format == "parquet":
        return pl.scan_parquet(path).select(column).head(count).collect().to_series()
    head = _first_lines(path, count + 1)
    return pl.read_csv(head, infer_schema=False, separator=layout.separator, columns=[column]).to_series()


def _first_lines(path: Path, count: int) -> io.BytesIO:
    # polars' CSV reader takes in the whole file even for `n_rows`: hand it just the head instead.
    with path.open("rb") as handle:
        return io.BytesIO(b"".join(islice(handle, count)))
