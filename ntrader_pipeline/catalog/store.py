"""Idempotent, atomic ParquetDataCatalog writes: one file per instrument × bar type × session.

Each session is written with fixed UTC day-boundary `start`/`end`, so a rewrite lands on the same file
name and replaces it. Nautilus writes files in place, so we let it write into a staging catalog on the
same filesystem and `os.replace` the finished file: a killed run leaves the old file or none.

On an object store (`s3://bucket/prefix`) the staging catalog is a local temp dir and each finished
file is uploaded with one PUT, which S3 makes visible atomically: the same guarantee, no rename needed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from nautilus_trader.core.datetime import dt_to_unix_nanos
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from ntrader_pipeline.catalog.location import CatalogLocation
from ntrader_pipeline.markets.sessions import TradingSession

_STAGING = ".staging"
# IB stamps definitions with the fetch time and trading hours around the request date.
_VOLATILE_INSTRUMENT_FIELDS = ("ts_event", "ts_init", "info")


class CatalogWriteError(ValueError):
    """Bars handed to the catalog do not belong where they are being written."""


def session_bounds_ns(session: TradingSession) -> tuple[int, int]:
    """The UTC calendar day of the session in nanoseconds, both ends inclusive."""
    start = dt_to_unix_nanos(session.day_start)
    return start, start + 86_400 * 1_000_000_000 - 1


class CatalogStore:
    def __init__(self, path: Path | str) -> None:
        self.location = CatalogLocation.parse(path)
        if self.location.is_local:
            self.path = Path(path)
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

    def write_instrument(self, instrument: Instrument) -> bool:
        """Store the definition once; returns False when an identical one is already there.

        IB stamps definitions with the fetch time, so a plain rewrite would add a second copy.
        """
        existing = self.instrument(instrument.id.value)
        if existing is not None and _definition(existing) == _definition(instrument):
            return False
        # A fixed file name, so a changed definition replaces the old one (Nautilus reads 0 as unset).
        self._atomic_write([instrument], start=1, end=1, replace_directory=True)
        return True

    # -- bars --------------------------------------------------------------------------------

    def bar_directory(self, bar_type: BarType | str) -> Path:
        directory = self.catalog._make_path(data_cls=Bar, identifier=str(bar_type))
        if self.location.is_local:
            return Path(directory)
        return self.path / directory.removeprefix(self.location.root).lstrip("/")

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
        self._atomic_write(list(bars), start=start, end=end)
        return self.session_file(bar_type, session)

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

    def has_session(self, bar_type: BarType | str, session: TradingSession) -> bool:
        return self.session_file(bar_type, session).exists()

    # -- internals ---------------------------------------------------------------------------

    def _catalog_file(self, path: Path) -> str:
        """A file as the Nautilus catalog names it: the local path, or `bucket/key` on an object store."""
        return str(path) if self.location.is_local else path.path

    def _atomic_write(self, data: list, *, start: int, end: int, replace_directory: bool = False) -> None:
        if not self.location.is_local:
            self._upload_write(data, start=start, end=end, replace_directory=replace_directory)
            return
        staging_root = self.path / _STAGING
        staging_root.mkdir(exist_ok=True)
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


def _definition(instrument: Instrument) -> dict:
    as_dict = type(instrument).to_dict(instrument)
    return {k: v for k, v in as_dict.items() if k not in _VOLATILE_INSTRUMENT_FIELDS}
