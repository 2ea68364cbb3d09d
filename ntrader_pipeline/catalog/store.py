"""Idempotent, atomic ParquetDataCatalog writes: one file per instrument × bar type × session.

Each session is written with fixed UTC day-boundary `start`/`end`, so a rewrite lands on the same file
name and replaces it. Nautilus writes files in place, so we let it write into a staging catalog on the
same filesystem and `os.replace` the finished file: a killed run leaves the old file or none. The
staging directory a killed writer leaves behind is removed by the next write, once it is older than
`STALE_STAGING_S` (so a concurrent writer's directory is never touched).

A session IB has no data for (halt, new listing) is recorded explicitly as a small JSON marker
`empty/<bar type>/<date>.json` holding IB's reason, so "no data" is never confused with "not fetched";
writing bars for the session later removes the marker.

Split/dividend adjustment factors of an instrument (see `adjustments.factors`) are one Parquet file per
instrument, `adjustments/<instrument id>.parquet`, written whole, and its corporate events (ex-date, kind,
split ratio, dividend) beside them in `adjustments/events/<instrument id>.parquet`; the bar files stay as
fetched.

On an object store (`s3://bucket/prefix`) the staging catalog is a local temp dir and each finished
file is uploaded with one PUT, which S3 makes visible atomically: the same guarantee, no rename needed.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pyarrow as pa
from nautilus_trader.core.datetime import dt_to_unix_nanos
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from ntrader_pipeline.catalog.location import CatalogLocation
from ntrader_pipeline.logs import get_logger
from ntrader_pipeline.markets.sessions import TradingSession

_STAGING = ".staging"
STALE_STAGING_S = 600.0  # a session's write takes seconds; older staging directories are leftovers
_EMPTY = "empty"
_HEAD = "head_timestamps"
_ADJUSTMENTS = "adjustments"
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

        Paths as `session_file` gives them: `pathlib.Path` for a local catalog, `UPath` on an object store.
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

    # -- bars --------------------------------------------------------------------------------

    def bar_directory(self, bar_type: BarType | str) -> Path:
        return self._store_path(self.catalog._make_path(data_cls=Bar, identifier=str(bar_type)))

    def session_file(self, bar_type: BarType | str, session: TradingSession) -> Path:
        start, end = session_bounds_ns(session)
        from nautilus_trader.persistence.catalog.parquet import _timestamps_to_filename

        return self.bar_directory(bar_type) / _timestamps_to_filename(start, end)

    def write_session_bars(self, bar_type: BarType, session: TradingSession, bars: Sequence[Bar]) -> Path:
        """Replace the session's file with `bars` (all of `bar_type`, all inside the session's UTC day)."""
        if not bars:
            raise CatalogWriteError(f"no {bar_type} bars for session {session.key}: nothing to write")
        start, end = session_bounds_ns(session)
        for bar in bars:
            if bar.bar_type != bar_type:
                raise CatalogWriteError(
                    f"bar of {bar.bar_type} handed to the {bar_type} session {session.key}"
                )
            if not start <= bar.ts_init <= end:
                raise CatalogWriteError(
                    f"{bar_type} bar at ts_init={bar.ts_init} lies outside session {session.key}'s UTC day"
                )
        with _location_errors(self.path, f"write session {session.key} of {bar_type}"):
            self._atomic_write(list(bars), start=start, end=end)
        self.empty_marker(bar_type, session).unlink(missing_ok=True)
        return self.session_file(bar_type, session)

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

    def read_session_bars(self, bar_type: BarType | str, session: TradingSession) -> list[Bar]:
        path = self.session_file(bar_type, session)
        if not path.exists():
            return []
        return self.catalog.bars(bar_types=[str(bar_type)], files=[self._catalog_file(path)])

    def read_bars(self, bar_type: BarType | str, sessions: Iterable[TradingSession]) -> list[Bar]:
        files = [self._catalog_file(p) for s in sessions if (p := self.session_file(bar_type, s)).exists()]
        if not files:
            return []
        return self.catalog.bars(bar_types=[str(bar_type)], files=files)

    def bar_files(self, bar_type: BarType | str, sessions: Iterable[TradingSession]) -> list[Path]:
        """The stored files holding `sessions` of `bar_type`."""
        return [p for s in sessions if (p := self.session_file(bar_type, s)).exists()]

    def has_session(self, bar_type: BarType | str, session: TradingSession) -> bool:
        return self.session_file(bar_type, session).exists()

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
