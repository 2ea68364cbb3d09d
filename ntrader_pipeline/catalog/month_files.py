"""Month files: one Parquet file per instrument × bar type × calendar month of the session's date.

A month file is named by the month's UTC bounds the way Nautilus names files
(`2024-01-01T00-00-00-000000000Z_2024-01-31T23-59-59-999999999Z.parquet`), so ParquetDataCatalog
queries still find it and two months never overlap. Its rows are sorted by (session, ts_init) and its
schema metadata carries a session index, `ntrader_sessions` = {"YYYY-MM-DD": [first row, rows, digest]}:
which rows belong to which session is stored, not guessed from timestamps (an FX session opens the evening
before its date, so a UTC day does not tell its rows apart from the previous session's). The digest
hashes the session's rows, so a data version can cover exactly the sessions of a window from the footers.

Pure functions over pyarrow tables; the store does the locking and the atomic replace.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping

import numpy as np
import pyarrow as pa
from nautilus_trader.core.datetime import dt_to_unix_nanos

SESSION_INDEX_KEY = b"ntrader_sessions"
# A month file: from the first instant of a month's first day to the last nanosecond of its last day.
MONTH_FILE = re.compile(
    r"^(\d{4})-(\d{2})-01T00-00-00-000000000Z_(\d{4}-\d{2}-\d{2})T23-59-59-999999999Z\.parquet$"
)
# A file of the previous layout: one session, named by its UTC day bounds (from the date's midnight, or
# from the previous evening's open for FX and futures).
SESSION_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})T[0-9-]+Z_(\d{4}-\d{2}-\d{2})T23-59-59-999999999Z\.parquet$")

SessionIndex = dict[dt.date, tuple[int, int]]  # session date → (first row, row count)
_DIGEST_COLUMNS = ("open", "high", "low", "close", "volume", "ts_event", "ts_init")


class SessionIndexError(ValueError):
    """A month file's session index is missing or does not match its rows."""


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_bounds_ns(day: dt.date) -> tuple[int, int]:
    """The UTC calendar month holding `day`, in nanoseconds, both ends inclusive."""
    first = month_start(day)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    start = dt_to_unix_nanos(dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC))
    end = dt_to_unix_nanos(dt.datetime.combine(following, dt.time(), tzinfo=dt.UTC)) - 1
    return start, end


def month_file_name(day: dt.date) -> str:
    """The file name of the month holding `day` (Nautilus' `<start>_<end>.parquet`)."""
    first = month_start(day)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return f"{first.isoformat()}T00-00-00-000000000Z_{last.isoformat()}T23-59-59-999999999Z.parquet"


def month_of_file(name: str) -> dt.date | None:
    """The first day of the month a month file holds, None when `name` is no month file's name."""
    match = MONTH_FILE.match(name)
    if match is None:
        return None
    first = dt.date(int(match.group(1)), int(match.group(2)), 1)
    return first if month_file_name(first) == name else None


def session_of_file(name: str) -> dt.date | None:
    """The session date of a previous-layout session file, None for any other name."""
    if month_of_file(name) is not None:
        return None
    match = SESSION_FILE.match(name)
    if match is None:
        return None
    start, end = dt.date.fromisoformat(match.group(1)), dt.date.fromisoformat(match.group(2))
    return end if end - start <= dt.timedelta(days=1) else None


def encode_index(index: SessionIndex, digests: Mapping[dt.date, str]) -> bytes:
    return json.dumps({d.isoformat(): [*span, digests[d]] for d, span in sorted(index.items())}).encode()


def rows_digest(table: pa.Table) -> str:
    """A content hash of bar rows (the value bytes of every bar column, in order): equal rows give equal
    digests whatever file, slice or chunking they come from."""
    digest = hashlib.sha256()
    for name in _DIGEST_COLUMNS:
        column = table[name]
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        width = array.type.byte_width
        data = memoryview(array.buffers()[1]) if len(array) else memoryview(b"")
        digest.update(data[array.offset * width : (array.offset + len(array)) * width])
    return digest.hexdigest()[:32]


def session_digests(schema: pa.Schema) -> dict[dt.date, str]:
    """Each session's rows digest as stored in the index (see `rows_digest`); call `session_index` first
    to check the index."""
    raw = json.loads((schema.metadata or {})[SESSION_INDEX_KEY])
    return {dt.date.fromisoformat(k): str(v[2]) for k, v in raw.items() if len(v) > 2}


def session_index(schema: pa.Schema, num_rows: int, name: str = "month file") -> SessionIndex:
    """The session index stored in a month file's schema, checked against its row count."""
    raw = (schema.metadata or {}).get(SESSION_INDEX_KEY)
    if raw is None:
        raise SessionIndexError(f"{name} has no {SESSION_INDEX_KEY.decode()} session index")
    try:
        index = {dt.date.fromisoformat(k): (int(v[0]), int(v[1])) for k, v in json.loads(raw).items()}
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise SessionIndexError(f"{name} has an unreadable session index ({exc})") from None
    position = 0
    for day in sorted(index):
        first, rows = index[day]
        if first != position or rows <= 0:
            raise SessionIndexError(f"{name}: session {day} claims rows {first}..{first + rows - 1}")
        position += rows
    if position != num_rows:
        raise SessionIndexError(f"{name}: the session index covers {position} rows, the file has {num_rows}")
    return index


def session_rows(table: pa.Table, index: SessionIndex, days: Iterable[dt.date]) -> pa.Table:
    """The rows of the sessions `days` (those in the index), in file order."""
    spans = sorted(index[d] for d in set(days) if d in index)
    if len(spans) == len(index):
        return table
    return (
        pa.concat_tables([table.slice(first, rows) for first, rows in spans]) if spans else table.slice(0, 0)
    )


def merge_sessions(
    stored: pa.Table | None,
    stored_index: SessionIndex,
    replacements: Mapping[dt.date, pa.Table],
    metadata: Mapping[bytes, bytes],
) -> pa.Table:
    """`stored` without the sessions in `replacements`, plus those; sorted by (session, ts_init); the
    schema metadata is `metadata` (Nautilus' bar type and precisions) plus the new session index."""
    parts: dict[dt.date, pa.Table] = {}
    if stored is not None:
        plain = stored.replace_schema_metadata(None)
        for day, (first, rows) in stored_index.items():
            if day not in replacements:
                parts[day] = plain.slice(first, rows)
    for day, table in replacements.items():
        plain = table.replace_schema_metadata(None)
        order = np.argsort(plain["ts_init"].to_numpy(), kind="stable")
        parts[day] = plain.take(pa.array(order))
    days = sorted(parts)
    index: SessionIndex = {}
    position = 0
    for day in days:
        index[day] = (position, parts[day].num_rows)
        position += parts[day].num_rows
    digests = {day: rows_digest(parts[day]) for day in days}
    merged = pa.concat_tables([parts[d] for d in days]).combine_chunks()
    return merged.replace_schema_metadata({**metadata, SESSION_INDEX_KEY: encode_index(index, digests)})
