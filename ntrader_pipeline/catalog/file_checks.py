"""Is a stored file what the catalog needs? Truncated, zero-byte and foreign files found and named.

A month file that pyarrow cannot open (truncated by a full disk or a copy, zero bytes, not Parquet at
all), that holds something else than bars or whose session index does not match its rows must fail a
named quality rule (`file_readable`) that names the file, the session and the remedy, never surface as
pyarrow's `ArrowInvalid` deep inside a read. `verify_catalog` walks the whole catalog for
`ntrader catalog --verify`: it also reports files of the previous one-file-per-session layout (not
converted yet, or stored in both layouts) and files whose time ranges overlap.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from nautilus_trader.model.objects import FIXED_PRECISION_BYTES
from nautilus_trader.persistence.catalog.parquet import _parse_filename_timestamps

from ntrader_pipeline.catalog.month_files import (
    month_bounds_ns,
    month_of_file,
    rows_digest,
    session_digests,
    session_index,
    session_of_file,
)

FILE_READABLE_RULE = "file_readable"
INSTRUMENT_RULE = "instrument_defined"
BAR_COLUMNS = ("ts_event", "ts_init", "open", "high", "low", "close", "volume")
_PRICE_COLUMNS = ("open", "high", "low", "close", "volume")


def _open(path: Path) -> pq.ParquetFile:
    if hasattr(path, "fs"):  # a UPath on an object store
        return pq.ParquetFile(path.fs.open(path.path, "rb"))
    return pq.ParquetFile(str(path))


def _size(path: Path) -> int:
    return path.stat().st_size


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def bar_file_problem(path: Path, *, read_rows: bool = False) -> str | None:
    """Why `path` is not a readable Nautilus bar file (None when it is). Reads the footer and schema;
    with `read_rows` also decodes every row group (catches damage inside an intact footer)."""
    try:
        if _size(path) == 0:
            return "is empty (0 bytes)"
        parquet = _open(path)
        schema = parquet.schema_arrow
    except (pa.ArrowException, OSError, ValueError) as exc:
        return f"is truncated or not a Parquet file ({_first_line(exc)})"
    missing = [name for name in BAR_COLUMNS if name not in schema.names]
    if missing:
        columns = ", ".join(schema.names)
        return f"is not a bar file: it has no {', '.join(missing)} column(s) (columns: {columns})"
    for name in _PRICE_COLUMNS:
        field = schema.field(name)
        if not (pa.types.is_fixed_size_binary(field.type) and field.type.byte_width == FIXED_PRECISION_BYTES):
            return f"is not a bar file of this Nautilus build: column {name} is {field.type}"
    if read_rows:
        try:
            parquet.read(columns=list(BAR_COLUMNS))
        except (pa.ArrowException, OSError, ValueError) as exc:
            return f"cannot be decoded ({_first_line(exc)})"
    return None


def definition_problem(path: Path) -> str | None:
    """Why an instrument definition file cannot be read (None when it can)."""
    try:
        if _size(path) == 0:
            return "is empty (0 bytes)"
        _open(path).read()
    except (pa.ArrowException, OSError, ValueError) as exc:
        return f"is truncated or not a Parquet file ({_first_line(exc)})"
    return None


def rematerialize_hint(session_key: str, instrument_id: str) -> str:
    """The remedy for a damaged session: fetch it again (its month partition, narrowed to it)."""
    month = dt.date.fromisoformat(session_key).replace(day=1)
    return (
        f"re-materialize partition {month.isoformat()}|{instrument_id} (session {session_key}) to replace it"
    )


def month_rematerialize_hint(month: dt.date, instrument_id: str) -> str:
    """The remedy for a damaged month file: fetch its month's sessions again (each rewrite replaces it)."""
    return f"re-materialize partition {month.replace(day=1).isoformat()}|{instrument_id} to replace it"


@dataclass(frozen=True)
class FileProblem:
    """One file (or missing file) `ntrader catalog --verify` reports."""

    path: str
    problem: str
    remedy: str

    def describe(self) -> str:
        return f"{self.path} {self.problem}; {self.remedy}"


def verify_catalog(store) -> list[FileProblem]:  # type: ignore[no-untyped-def]
    """Every unreadable, foreign, unconverted or overlapping file under the catalog's bar directories,
    every unreadable definition file, and every instrument with stored bars but no definition."""
    from nautilus_trader.model.data import BarType

    problems: list[FileProblem] = []
    bar_root = store.path / "data" / "bar"
    bar_dirs = sorted(p for p in bar_root.iterdir() if p.is_dir()) if bar_root.exists() else []
    instruments_with_bars: dict[str, str] = {}
    for directory in bar_dirs:
        instrument_id = BarType.from_str(directory.name).instrument_id.value
        first_key = _verify_bar_directory(store, directory, instrument_id, problems)
        if first_key is not None:
            instruments_with_bars.setdefault(instrument_id, first_key)
    for instrument_id, session_key in sorted(instruments_with_bars.items()):
        problems += _definition_problems(store, instrument_id, session_key)
    return problems


def _verify_bar_directory(
    store, directory: Path, instrument_id: str, problems: list[FileProblem]
) -> str | None:  # type: ignore[no-untyped-def]
    """Append the directory's problems; returns a session key stored there (for the remedy), if any."""
    files = sorted(p for p in directory.iterdir() if not p.is_dir())
    indexes: dict[dt.date, set[dt.date]] = {}  # month → its sessions
    any_key = None
    for path in files:
        month = month_of_file(path.name)
        if month is None:
            continue
        any_key = any_key or month.isoformat()
        reason = bar_file_problem(path, read_rows=True)
        if reason is None:
            try:
                indexes[month] = set(store.session_index(path))
                reason = _digest_mismatch(path)
            except (pa.ArrowException, OSError, ValueError) as exc:
                reason = f"cannot be read by session ({exc})"
        if reason:
            hint = month_rematerialize_hint(month, instrument_id)
            problems.append(FileProblem(str(path), f"({directory.name} month {month:%Y-%m}) {reason}", hint))
    for path in files:
        if month_of_file(path.name) is not None:
            continue
        session = session_of_file(path.name)
        if session is None:
            problems.append(
                FileProblem(
                    str(path),
                    f"is not a month file of {directory.name}",
                    "move it out of the catalog (Nautilus reads every file in a bar directory)",
                )
            )
            continue
        any_key = any_key or session.isoformat()
        both = session in indexes.get(session.replace(day=1), set())
        problems.append(
            FileProblem(
                str(path),
                f"({directory.name} session {session}) is a file of the one-file-per-session layout"
                + (", and the session is also in its month file" if both else ", not converted"),
                "run `ntrader catalog --convert` (it merges it into its month file, checks, then deletes it)",
            )
        )
    problems += _overlaps(directory, files)
    return any_key


def _digest_mismatch(path: Path) -> str | None:
    """The sessions whose rows no longer match the digest stored with them (edited in place)."""
    table = _open(path).read()
    index = session_index(table.schema, table.num_rows, str(path))
    stored = session_digests(table.schema)
    changed = [
        day.isoformat()
        for day, (first, rows) in sorted(index.items())
        if day in stored and rows_digest(table.slice(first, rows)) != stored[day]
    ]
    if not changed:
        return None
    return f"has rows that do not match their session's digest: {', '.join(changed)} (changed after writing)"


def _overlaps(directory: Path, files: list[Path]) -> list[FileProblem]:
    """Month files whose name ranges overlap another month file's (never written by the store)."""
    intervals = sorted(
        (bounds, path)
        for path in files
        if month_of_file(path.name) is None
        and session_of_file(path.name) is None
        and (bounds := _parse_filename_timestamps(path.name)) is not None
    )
    intervals += sorted(
        (month_bounds_ns(month), path) for path in files if (month := month_of_file(path.name)) is not None
    )
    intervals.sort()
    found = []
    for (previous, previous_path), (current, path) in itertools.pairwise(intervals):
        if current[0] <= previous[1]:
            found.append(
                FileProblem(
                    str(path),
                    f"overlaps {previous_path.name} in {directory.name} (Nautilus would read both)",
                    "move the file that is not a month file out of the catalog",
                )
            )
    return found


def _definition_problems(store, instrument_id: str, session_key: str) -> list[FileProblem]:  # type: ignore[no-untyped-def]
    files = definition_file_paths(store, instrument_id)
    if not files:
        return [
            FileProblem(
                f"{store.path}/data/<instrument class>/{instrument_id}",
                f"is missing: the instrument definition of {instrument_id} is not in the catalog",
                rematerialize_hint(session_key, instrument_id) + " (any of its partitions stores it)",
            )
        ]
    return [
        FileProblem(
            str(path),
            f"(instrument definition of {instrument_id}) {reason}",
            rematerialize_hint(session_key, instrument_id),
        )
        for path in files
        if (reason := definition_problem(path))
    ]


def definition_file_paths(store, instrument_id: str) -> list[Path]:  # type: ignore[no-untyped-def]
    """An instrument's definition files found by directory name (`data/<class>/<id>/*.parquet`), so they
    are found even when one cannot be read (CatalogStore.definition_files reads them through Nautilus)."""
    data_root = store.path / "data"
    if not data_root.exists():
        return []
    found = []
    for class_dir in data_root.iterdir():
        if class_dir.name == "bar" or not class_dir.is_dir():
            continue
        directory = class_dir / instrument_id
        if directory.is_dir():
            found.extend(p for p in directory.iterdir() if p.name.endswith(".parquet"))
    return sorted(found)
