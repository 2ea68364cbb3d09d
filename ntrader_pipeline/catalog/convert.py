"""`ntrader catalog --convert`: merge one-file-per-session bar files into month files.

Per bar type and month, under the month file's lock: read every session file of the previous layout,
merge the sessions the month file does not hold yet into it (one atomic rewrite), read the month file
back and delete a session file only once its rows there are equal to the file's, column by column.
A crash leaves session files whose rows are already in the month file; the next run finds them equal and
deletes them, so a re-run finishes the job and a run over a converted catalog changes nothing. A session
file whose rows differ from the month file's copy, or that cannot be read, is kept and reported
(`ntrader catalog --verify` names it too).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ntrader_pipeline.catalog.file_checks import bar_file_problem
from ntrader_pipeline.catalog.month_files import month_file_name, session_index, session_of_file, session_rows
from ntrader_pipeline.catalog.store import CatalogStore


@dataclass
class ConversionReport:
    merged: int = 0  # sessions copied into a month file by this run
    deleted: int = 0  # session files removed after their rows were found in the month file
    months_written: int = 0
    kept: list[str] = field(default_factory=list)  # session files left in place, with the reason

    def describe(self) -> str:
        if not (self.merged or self.deleted or self.kept):
            return "convert: nothing to convert (every bar file is a month file)"
        text = (
            f"convert: {self.merged} session(s) merged into {self.months_written} month file(s), "
            f"{self.deleted} session file(s) removed"
        )
        return text + "".join(f"\n  kept {line}" for line in self.kept)


def convert_catalog(store: CatalogStore) -> ConversionReport:
    """Convert every bar directory of a local catalog; see the module docstring."""
    report = ConversionReport()
    bar_root = store.path / "data" / "bar"
    if not bar_root.exists():
        return report
    for directory in sorted(p for p in bar_root.iterdir() if p.is_dir()):
        by_month: dict[str, dict[dt.date, Path]] = {}
        for path in sorted(directory.glob("*.parquet")):
            if (session := session_of_file(path.name)) is not None:
                by_month.setdefault(month_file_name(session), {})[session] = path
        for name, files in sorted(by_month.items()):
            month_path = directory / name
            with store.month_lock(month_path):
                _convert_month(store, month_path, files, report)
    return report


def _convert_month(
    store: CatalogStore, month_path: Path, files: dict[dt.date, Path], report: ConversionReport
) -> None:
    tables: dict[dt.date, pa.Table] = {}
    for session, path in sorted(files.items()):
        if reason := bar_file_problem(path, read_rows=True):
            report.kept.append(f"{path}: {reason}; re-fetch the session instead")
            continue
        tables[session] = pq.read_table(path)
    stored = _month_index(month_path)
    if stored is None:
        report.kept.extend(f"{files[s]}: its month file {month_path.name} cannot be read" for s in tables)
        return
    missing = {s: t for s, t in tables.items() if s not in stored}
    if missing:
        store.rewrite_month(month_path, missing)
        report.merged += len(missing)
        report.months_written += 1
    table = pq.read_table(month_path)
    index = session_index(table.schema, table.num_rows, str(month_path))
    for session, original in tables.items():
        if _plain(session_rows(table, index, [session])).equals(_plain(original.sort_by("ts_init"))):
            files[session].unlink()
            report.deleted += 1
        else:
            report.kept.append(
                f"{files[session]}: its rows differ from session {session} in {month_path.name} (the month "
                "file was written after it); delete the session file once you have checked which is right"
            )


def _month_index(path: Path) -> dict[dt.date, tuple[int, int]] | None:
    """The month file's session index ({} when there is no month file yet, None when unreadable)."""
    if not path.exists():
        return {}
    try:
        parquet = pq.ParquetFile(path)
        return session_index(parquet.schema_arrow, parquet.metadata.num_rows, str(path))
    except (pa.ArrowException, OSError, ValueError):
        return None


def _plain(table: pa.Table) -> pa.Table:
    return table.replace_schema_metadata(None).combine_chunks()
