"""Idempotent, atomic ParquetDataCatalog writes: one file per instrument × bar type × calendar month.

A session's bars go into the file of its date's month (see `catalog.month_files`: named by the month's
UTC bounds as Nautilus names files, rows sorted by session then ts_init, a session index in the footer).
Writing a session reads the month file, drops that session's rows, adds the new ones and replaces the
whole file: locally through a staging file on the same filesystem and `os.replace` (a killed run leaves
the old file), under an `fcntl.flock` per month file so concurrent writers of one month never lose a
session. The other sessions' rows are copied unchanged; writing the same bars twice gives the same file.
Staging files a killed writer leaves behind are removed by the next write, once older than
`STALE_STAGING_S` (so a concurrent writer's file is never touched).

A session IB has no data for (halt, new listing) is recorded explicitly as a small JSON marker
`empty/<bar type>/<date>.json` holding IB's reason, so "no data" is never confused with "not fetched";
writing bars for the session later removes the marker.

Split/dividend adjustment factors of an instrument (see `adjustments.factors`) are one Parquet file per
instrument, `adjustments/<instrument id>.parquet`, written whole, and its corporate events (ex-date, kind,
split ratio, dividend) beside them in `adjustments/events/<instrument id>.parquet`; the bar files stay as
fetched.

On an object store (`s3://bucket/prefix`) each finished file is uploaded with one PUT, which S3 makes
visible atomically: the same guarantee, no rename needed. There is no cross-host lock there: two hosts
writing sessions of the same month at once can lose one (the last PUT wins); run one writer per instrument.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from nautilus_trader.core.datetime import dt_to_unix_nanos
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import FIXED_PRECISION_BYTES
from nautilus_trader.persistence.catalog import ParquetDataCatalog
from nautilus_trader.serialization.arrow.serializer import ArrowSerializer

from ntrader_pipeline.catalog.file_cache import IdentityCache, file_identity, is_local, settled
from ntrader_pipeline.catalog.frames import decode_bar_table
from ntrader_pipeline.catalog.location import CatalogLocation
from ntrader_pipeline.catalog.month_files import (
    SESSION_INDEX_KEY,
    SessionIndex,
    merge_sessions,
    month_file_name,
    month_of_file,
    session_digests,
    session_index,
    session_rows,
)
from ntrader_pipeline.logs import get_logger
from ntrader_pipeline.markets.sessions import TradingSession

_STAGING = ".staging"
STALE_STAGING_S = 600.0  # a session's write takes seconds; older staging directories are leftovers
_EMPTY = "empty"
_HEAD = "head_timestamps"
_ADJUSTMENTS = "adjustments"
_LOCKS = ".locks"
_PRICE_FIELDS = ("open", "high", "low", "close", "volume")
# IB stamps definitions with the fetch time and trading hours around the request date.
_VOLATILE_INSTRUMENT_FIELDS = ("ts_event", "ts_init", "info")


class CatalogWriteError(ValueError):
    """Bars handed to the catalog do not belong where they are being written."""


class CatalogLocationError(OSError):
    """The catalog location cannot be created or written (read-only, not a directory, disk full): one
    line naming the path and the variable; nothing half-written is left behind."""


CATALOG_VARIABLE = "NTRADER_CATALOG"


@contextmanager
def _location_errors(root: object, what: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if isinstance(exc, CatalogLocationError):
            raise
        cause = exc.strerror or str(exc) or type(exc).__name__
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        raise CatalogLocationError(
            f"{CATALOG_VARIABLE}={root}: cannot {what}: {cause}{where}; nothing was written. Point "
            f"{CATALOG_VARIABLE} at a writable location with free space, then re-materialize."
        ) from None


def session_bounds_ns(session: TradingSession) -> tuple[int, int]:
    """The UTC calendar day of the session in nanoseconds, both ends inclusive; from the open when the
    session opens the evening before (FX, futures)."""
    day_after = dt_to_unix_nanos(session.date_start) + 86_400 * 1_000_000_000
    return dt_to_unix_nanos(session.day_start), day_after - 1


class CatalogStore:
    def __init__(self, path: Path | str) -> None:
        self.location = CatalogLocation.parse(path)
        if self.location.is_local:
            self.path = Path(path)
            with _location_errors(self.path, "create the catalog directory"):
                self.path.mkdir(parents=True, exist_ok=True)
            self.catalog = ParquetDataCatalog(str(self.path))
        else:
            self.path = self.location.path()  # a UPath: same API as Path, on the object store
            self.catalog = ParquetDataCatalog(
                self.location.root,
                fs_protocol=self.location.protocol,
                fs_storage_options=self.location.storage_options,
                fs_rust_storage_options=self.location.rust_storage_options,
            )

    # -- instruments -------------------------------------------------------------------------

    def instrument(self, instrument_id: str) -> Instrument | None:
        found = self.catalog.instruments(instrument_ids=[instrument_id])
        return found[0] if found else None

    def definition_files(self, instrument_id: str) -> list[Path]:
        """The Parquet files holding `instrument_id`'s definition, sorted; empty when it is not stored.

        Paths as `month_file` gives them: `pathlib.Path` for a local catalog, `UPath` on an object store.
        """
        try:
            instrument = self.instrument(instrument_id)
        except (pa.ArrowException, OSError, ValueError):  # an unreadable definition file: still listed
            from ntrader_pipeline.catalog.file_checks import definition_file_paths

            return definition_file_paths(self, instrument_id)
        if instrument is None:
            return []
        directory = self.catalog._make_path(data_cls=type(instrument), identifier=instrument_id)
        fs = self.catalog.fs
        fs.invalidate_cache(directory)  # the listing may predate a write through another client
        return sorted(self._store_path(name) for name in fs.glob(f"{directory}/*.parquet"))

    def write_instrument(self, instrument: Instrument) -> bool:
        """Store the definition once; returns False when an identical one is already there.

        IB stamps definitions with the fetch time, so a plain rewrite would add a second copy.
        """
        try:
            existing = self.instrument(instrument.id.value)
        except (pa.ArrowException, OSError, ValueError):  # truncated or zero-byte file: replaced below
            existing = None
        if existing is not None and _definition(existing) == _definition(instrument):
            return False
        # A fixed file name, so a changed definition replaces the old one (Nautilus reads 0 as unset).
        with _location_errors(self.path, f"write the instrument definition of {instrument.id}"):
            self._atomic_write([instrument], start=1, end=1, replace_directory=True)
        return True

    # -- bars: one month file per bar type × calendar month (see catalog.month_files) ----------

    def bar_directory(self, bar_type: BarType | str) -> Path:
        return self._store_path(self.catalog._make_path(data_cls=Bar, identifier=str(bar_type)))

    def month_file(self, bar_type: BarType | str, session: TradingSession | dt.date) -> Path:
        """The month file that holds (or would hold) the session: the month of the session's date."""
        day = session.date if isinstance(session, TradingSession) else session
        return self.bar_directory(bar_type) / month_file_name(day)

    def bar_files(
        self, bar_type: BarType | str, sessions: Iterable[TradingSession] | None = None
    ) -> list[Path]:
        """The existing month files holding `sessions` (all of the bar type's month files when None),
        sorted by month; one directory listing. Paths as `month_file` gives them."""
        directory = self.bar_directory(bar_type)
        try:
            names = {p.name for p in directory.iterdir()}
        except (FileNotFoundError, NotADirectoryError):
            return []
        if sessions is None:
            return sorted(directory / n for n in names if month_of_file(n) is not None)
        months = {(s.date.year, s.date.month) for s in sessions}  # a name per month, not per session
        wanted = sorted(month_file_name(dt.date(year, month, 1)) for year, month in months)
        return [directory / n for n in wanted if n in names]

    def session_index(self, path: Path) -> SessionIndex:
        """Which rows of a month file belong to which session (from its footer; cached by file identity
        locally). Raises OSError/ArrowException when unreadable, SessionIndexError when it has no index."""
        return self._footer(path)[0]

    def session_digests(
        self, bar_type: BarType | str, sessions: Iterable[TradingSession]
    ) -> dict[dt.date, str]:
        """A content digest of each stored session of `sessions` (from the month files' footers, cached by
        file identity): equal rows, equal digest. A data version over exactly a window's sessions, which
        does not change when a session outside the window lands in the same month file."""
        sessions = list(sessions)
        wanted = {s.date for s in sessions}
        digests: dict[dt.date, str] = {}
        for path in self.bar_files(bar_type, sessions):
            digests.update((d, h) for d, h in self._footer(path)[1].items() if d in wanted)
        return dict(sorted(digests.items()))

    def _footer(self, path: Path) -> tuple[SessionIndex, dict[dt.date, str]]:
        if not is_local(path):
            return _read_footer(path)
        identity = file_identity(path)
        if identity is None:
            raise FileNotFoundError(path)
        return _INDEXES.get_or_compute(identity, lambda: _read_footer(path), cacheable=settled([identity]))

    def stored_session_dates(self, bar_type: BarType | str) -> set[dt.date]:
        """Every session date stored for the bar type (month files whose footer cannot be read are
        skipped here; `ntrader catalog --verify` and the quality checks name them)."""
        dates: set[dt.date] = set()
        for path in self.bar_files(bar_type):
            if (index := self._index_or_none(path)) is not None:
                dates.update(index)
        return dates

    def has_session(self, bar_type: BarType | str, session: TradingSession) -> bool:
        """True when the session's rows are stored; also when its month file exists but cannot be read
        (its sessions are then unreadable, not missing: the quality check fails them by name)."""
        path = self.month_file(bar_type, session)
        if not path.exists():
            return False
        index = self._index_or_none(path)
        return index is None or session.date in index

    def stored_sessions(
        self, bar_type: BarType | str, sessions: Iterable[TradingSession]
    ) -> list[TradingSession]:
        """The sessions of `sessions` that `has_session` would call stored, with one listing and one
        footer read per month file (not per session: on an object store each is a request)."""
        sessions = list(sessions)
        indexes = {p.name: self._index_or_none(p) for p in self.bar_files(bar_type, sessions)}
        stored = []
        for session in sessions:
            name = month_file_name(session.date)
            if name in indexes and ((index := indexes[name]) is None or session.date in index):
                stored.append(session)
        return stored

    def write_session_bars(self, bar_type: BarType, session: TradingSession, bars: Sequence[Bar]) -> Path:
        """Replace the session's rows in its month file with `bars` (all of `bar_type`, all inside the
        session's UTC day); the month's other sessions keep their rows byte for byte. Returns the file."""
        return self.write_sessions_bars(bar_type, {session: bars})[0]

    def write_sessions_bars(
        self, bar_type: BarType, bars_by_session: Mapping[TradingSession, Sequence[Bar]]
    ) -> list[Path]:
        """`write_session_bars` for several sessions: one rewrite per month file touched; returns the
        month files written, in month order."""
        by_month: dict[Path, dict[dt.date, pa.Table]] = {}
        for session, bars in sorted(bars_by_session.items(), key=lambda item: item[0].date):
            _check_session_bars(bar_type, session, bars)
            table = _bars_table(bars)
            by_month.setdefault(self.month_file(bar_type, session), {})[session.date] = table
        for path, replacements in by_month.items():
            keys = ", ".join(d.isoformat() for d in replacements)
            what = f"write session{'s' if len(replacements) > 1 else ''} {keys} of {bar_type}"
            with _location_errors(self.path, what), self.month_lock(path):
                self.rewrite_month(path, replacements)
        for session in bars_by_session:
            self.empty_marker(bar_type, session).unlink(missing_ok=True)
        return list(by_month)

    def read_bar_table(
        self,
        bar_type: BarType | str,
        sessions: Iterable[TradingSession],
        *,
        session_column: str | None = None,
    ) -> pa.Table:
        """The stored rows of `sessions` as one Arrow table in Nautilus' bar schema (empty when none is
        stored), sorted by session then ts_init. `session_column` names an optional int32 column holding
        each row's position in `sessions`."""
        sessions = list(sessions)
        wanted = {s.date for s in sessions}
        position = {s.date: i for i, s in enumerate(sessions)}
        tables, labels, metadata = [], [], {}
        for path in self.bar_files(bar_type, sessions):
            table = _read_table(path)
            metadata = table.schema.metadata or {}
            index = session_index(table.schema, table.num_rows, str(path))
            tables.append(session_rows(table, index, wanted).replace_schema_metadata(None))
            if session_column:
                spans = sorted((span, day) for day, span in index.items() if day in wanted)
                labels += [np.full(rows, position[day], dtype=np.int32) for (_, rows), day in spans]
        merged = pa.concat_tables(tables) if tables else EMPTY_BAR_TABLE
        merged = merged.replace_schema_metadata({k: v for k, v in metadata.items() if k != SESSION_INDEX_KEY})
        if session_column:
            column = np.concatenate(labels) if labels else np.zeros(0, dtype=np.int32)
            merged = merged.append_column(session_column, pa.array(column, pa.int32()))
        return merged

    def read_bar_frame(
        self,
        bar_type: BarType | str,
        sessions: Iterable[TradingSession],
        *,
        session_column: str | None = None,
    ) -> pl.DataFrame:
        """`read_bar_table` decoded to the bar frame (see `catalog.frames`), straight from the stored rows."""
        table = self.read_bar_table(bar_type, sessions, session_column=session_column)
        return decode_bar_table(table, keep=[session_column] if session_column else [])

    def read_bars(self, bar_type: BarType | str, sessions: Iterable[TradingSession]) -> list[Bar]:
        """The stored bars of `sessions` as Nautilus `Bar`s, in time order."""
        table = self.read_bar_table(bar_type, sessions)
        if table.num_rows == 0:
            return []
        return ParquetDataCatalog._handle_table_nautilus(table, Bar)

    def read_session_bars(self, bar_type: BarType | str, session: TradingSession) -> list[Bar]:
        return self.read_bars(bar_type, [session])

    # -- explicitly empty sessions -------------------------------------------------------------

    def empty_marker(self, bar_type: BarType | str, session: TradingSession) -> Path:
        return self.path / _EMPTY / str(bar_type) / f"{session.key}.json"

    def write_empty_session(
        self, bar_type: BarType | str, session: TradingSession, reason: str
    ) -> Path | None:
        """Record that IB has no data for the session; returns the marker, or None when bars are already
        stored for it (nothing stored is dropped because of a later "no data")."""
        if self.has_session(bar_type, session):
            return None
        marker = self.empty_marker(bar_type, session)
        text = json.dumps({"bar_type": str(bar_type), "session": session.key, "reason": reason}, indent=2)
        if not self.location.is_local:
            marker.write_text(text + "\n")  # one PUT: atomic on an object store
            return marker
        temporary = marker.with_name(f".{marker.name}.{os.getpid()}.tmp")
        with _location_errors(self.path, f"record session {session.key} of {bar_type} as empty"):
            marker.parent.mkdir(parents=True, exist_ok=True)
            try:
                temporary.write_text(text + "\n")
                os.replace(temporary, marker)
            finally:
                temporary.unlink(missing_ok=True)
        return marker

    def empty_reason(self, bar_type: BarType | str, session: TradingSession) -> str | None:
        """IB's reason when the session is recorded as having no data, else None."""
        marker = self.empty_marker(bar_type, session)
        try:
            return str(json.loads(marker.read_text())["reason"])
        except FileNotFoundError:
            return None

    # -- head timestamps: the earliest data IB has per instrument and what-to-show ---------------

    def head_timestamp_file(self, instrument_id: str, what_to_show: str) -> Path:
        return self.path / _HEAD / instrument_id / f"{what_to_show.upper()}.json"

    def head_timestamp(self, instrument_id: str, what_to_show: str) -> dt.datetime | None:
        """The stored earliest data point (UTC), or None when IB was not asked yet."""
        try:
            text = self.head_timestamp_file(instrument_id, what_to_show).read_text()
        except FileNotFoundError:
            return None
        return dt.datetime.fromisoformat(json.loads(text)["head_timestamp"]).astimezone(dt.UTC)

    def write_head_timestamp(self, instrument_id: str, what_to_show: str, head: dt.datetime) -> Path:
        """Keep IB's answer to reqHeadTimeStamp (one small JSON file per instrument and what-to-show)."""
        path = self.head_timestamp_file(instrument_id, what_to_show)
        text = json.dumps(
            {
                "instrument_id": instrument_id,
                "what_to_show": what_to_show.upper(),
                "head_timestamp": head.astimezone(dt.UTC).isoformat(),
            },
            indent=2,
        )
        if not self.location.is_local:
            path.write_text(text + "\n")
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(text + "\n")
        os.replace(temporary, path)
        return path

    def empty_session_dates(self, bar_type: BarType | str) -> list[dt.date]:
        directory = self.path / _EMPTY / str(bar_type)
        return sorted(dt.date.fromisoformat(p.stem) for p in directory.glob("*.json"))

    def empty_bar_types(self) -> list[str]:
        root = self.path / _EMPTY
        return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.exists() else []

    # -- adjustment factors --------------------------------------------------------------------

    def adjustment_file(self, instrument_id: str) -> Path:
        return self.path / _ADJUSTMENTS / f"{instrument_id.replace('/', '_')}.parquet"

    def events_file(self, instrument_id: str) -> Path:
        return self.path / _ADJUSTMENTS / "events" / f"{instrument_id.replace('/', '_')}.parquet"

    def write_adjustment_factors(
        self, instrument_id: str, factors: pl.DataFrame, events: pl.DataFrame | None = None
    ) -> Path:
        """Replace the instrument's factor frame (one row per session) and, when given, its corporate
        events (written first, so factors never sit beside older events); atomic like the bar files."""
        if events is not None:
            self._write_frame(self.events_file(instrument_id), events)
        return self._write_frame(self.adjustment_file(instrument_id), factors)

    def corporate_events(self, instrument_id: str) -> pl.DataFrame | None:
        """The instrument's stored corporate events (adjustments.events.EVENT_SCHEMA), or None."""
        target = self.events_file(instrument_id)
        if not target.exists():
            return None
        return pl.read_parquet(io.BytesIO(target.read_bytes()))

    def _write_frame(self, target: Path, frame: pl.DataFrame) -> Path:
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        if not self.location.is_local:
            target.write_bytes(buffer.getvalue())  # one PUT: atomic on an object store
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        temporary.write_bytes(buffer.getvalue())
        os.replace(temporary, target)
        return target

    def adjustment_factors(self, instrument_id: str) -> pl.DataFrame | None:
        """The instrument's stored factor frame, or None when none was computed."""
        target = self.adjustment_file(instrument_id)
        if not target.exists():
            return None
        return pl.read_parquet(io.BytesIO(target.read_bytes()))

    # -- internals ---------------------------------------------------------------------------

    def _store_path(self, catalog_path: str) -> Path:
        """A path as the Nautilus catalog's filesystem names it (no protocol) → this store's path type."""
        if self.location.is_local:
            return Path(catalog_path)
        return self.path / catalog_path.removeprefix(self.location.root).lstrip("/")

    def _catalog_file(self, path: Path) -> str:
        """A file as the Nautilus catalog names it: the local path, or `bucket/key` on an object store."""
        return str(path) if self.location.is_local else path.path

    def _index_or_none(self, path: Path) -> SessionIndex | None:
        try:
            return self.session_index(path)
        except FileNotFoundError:
            return {}
        except (pa.ArrowException, OSError, ValueError):
            return None

    @contextmanager
    def month_lock(self, path: Path) -> Iterator[None]:
        """Writers of the same month file take turns (each reads, merges and replaces the whole file).
        Local catalogs only: an object store has no lock, see docs/concepts/catalog-layout.md."""
        if not self.location.is_local:
            yield
            return
        lock = self.path / _LOCKS / path.parent.name / f"{path.name}.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with lock.open("a") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def rewrite_month(self, path: Path, replacements: Mapping[dt.date, pa.Table]) -> None:
        """Merge `replacements` into the month file and replace it whole (caller holds the lock)."""
        stored, index = self._stored_month(path)
        metadata = next(iter(replacements.values())).schema.metadata or {}
        merged = merge_sessions(stored, index, replacements, metadata)
        if not self.location.is_local:
            buffer = pa.BufferOutputStream()
            pq.write_table(merged, buffer)
            self.path.fs.pipe_file(path.path, buffer.getvalue().to_pybytes())  # one PUT: atomic
            self.path.fs.invalidate_cache(path.parent.path)
            return
        staging_root = self.path / _STAGING
        staging_root.mkdir(exist_ok=True)
        remove_stale_staging(staging_root)
        descriptor, name = tempfile.mkstemp(dir=staging_root, suffix=".parquet")
        os.close(descriptor)
        try:
            pq.write_table(merged, name)
            os.chmod(name, 0o644)  # mkstemp creates 0600; the catalog is shared
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(name, path)
        finally:
            Path(name).unlink(missing_ok=True)

    def _stored_month(self, path: Path) -> tuple[pa.Table | None, SessionIndex]:
        """The month file's rows and session index; (None, {}) when there is none, or when it cannot be
        read (its sessions are lost already: the rewrite replaces it, and says so)."""
        try:
            table = _read_table(path)
            return table, session_index(table.schema, table.num_rows, str(path))
        except FileNotFoundError:
            return None, {}
        except (pa.ArrowException, OSError, ValueError) as exc:
            get_logger(__name__).warning("unreadable_month_file_replaced", file=str(path), error=str(exc))
            return None, {}

    def _atomic_write(self, data: list, *, start: int, end: int, replace_directory: bool = False) -> None:
        if not self.location.is_local:
            self._upload_write(data, start=start, end=end, replace_directory=replace_directory)
            return
        staging_root = self.path / _STAGING
        staging_root.mkdir(exist_ok=True)
        remove_stale_staging(staging_root)
        staging = Path(tempfile.mkdtemp(dir=staging_root))
        try:
            ParquetDataCatalog(str(staging)).write_data(data, start=start, end=end, skip_disjoint_check=True)
            for written in staging.rglob("*.parquet"):
                target = self.path / written.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                if replace_directory:
                    for stale in target.parent.glob("*.parquet"):
                        if stale.name != target.name:
                            stale.unlink()
                os.replace(written, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _upload_write(self, data: list, *, start: int, end: int, replace_directory: bool) -> None:
        """Object store: stage locally, then one PUT per file (atomic on S3; no partial object is visible)."""
        fs = self.path.fs
        with tempfile.TemporaryDirectory(prefix="ntrader-staging-") as staging:
            ParquetDataCatalog(staging).write_data(data, start=start, end=end, skip_disjoint_check=True)
            for written in Path(staging).rglob("*.parquet"):
                target = self.path / written.relative_to(staging).as_posix()
                if replace_directory:
                    for stale in target.parent.glob("*.parquet"):
                        if stale.name != target.name:
                            stale.unlink()
                fs.put_file(str(written), target.path)
                fs.invalidate_cache(target.parent.path)


def remove_stale_staging(staging_root: Path, older_than_s: float = STALE_STAGING_S) -> list[Path]:
    """Remove what killed writers left in `staging_root` (not modified for `older_than_s`)."""
    cutoff = time.time() - older_than_s
    removed = []
    for leftover in staging_root.iterdir():
        try:
            if leftover.lstat().st_mtime >= cutoff:
                continue
        except FileNotFoundError:  # another writer removed it meanwhile
            continue
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
        removed.append(leftover)
    if removed:
        get_logger(__name__).warning(
            "staging_leftovers_removed", directory=str(staging_root), removed=[p.name for p in removed]
        )
    return removed


def _definition(instrument: Instrument) -> dict:
    as_dict = type(instrument).to_dict(instrument)
    return {k: v for k, v in as_dict.items() if k not in _VOLATILE_INSTRUMENT_FIELDS}


# Session indexes of month files, keyed by file identity: has_session/stored_session_dates read footers once.
_INDEXES = IdentityCache(maxsize=4096)

EMPTY_BAR_TABLE = pa.schema(
    [
        *(pa.field(name, pa.binary(FIXED_PRECISION_BYTES), nullable=False) for name in _PRICE_FIELDS),
        pa.field("ts_event", pa.uint64(), nullable=False),
        pa.field("ts_init", pa.uint64(), nullable=False),
    ]
).empty_table()


def _open_parquet(path: Path) -> pq.ParquetFile:
    if is_local(path):
        return pq.ParquetFile(str(path))
    return pq.ParquetFile(path.fs.open(path.path, "rb"))


def _read_table(path: Path) -> pa.Table:
    if is_local(path):
        return pq.read_table(str(path))
    return pq.read_table(path.path, filesystem=path.fs)


def _read_footer(path: Path) -> tuple[SessionIndex, dict[dt.date, str]]:
    parquet = _open_parquet(path)
    schema = parquet.schema_arrow
    return session_index(schema, parquet.metadata.num_rows, str(path)), session_digests(schema)


def _check_session_bars(bar_type: BarType, session: TradingSession, bars: Sequence[Bar]) -> None:
    if not bars:
        raise CatalogWriteError(f"no {bar_type} bars for session {session.key}: nothing to write")
    start, end = session_bounds_ns(session)
    for bar in bars:
        if bar.bar_type != bar_type:
            raise CatalogWriteError(f"bar of {bar.bar_type} handed to the {bar_type} session {session.key}")
        if not start <= bar.ts_init <= end:
            raise CatalogWriteError(
                f"{bar_type} bar at ts_init={bar.ts_init} lies outside session {session.key}'s UTC day"
            )


def _bars_table(bars: Sequence[Bar]) -> pa.Table:
    """Bars in Nautilus' Arrow schema (with its bar type and precision metadata)."""
    table = ArrowSerializer.serialize_batch(list(bars), data_cls=Bar)
    return pa.Table.from_batches([table]) if isinstance(table, pa.RecordBatch) else table
