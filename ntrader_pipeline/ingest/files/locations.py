"""Where a scanned row sits in its file, for error messages only (never on the happy path).

The multi-file scan numbers rows across all files; a CSV row's line is its row in the file + 2 (the
header is line 1, and polars keeps blank lines as rows); a Parquet row is named by row group and row.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from ntrader_pipeline.markets.file_source import FileFormat


class RowLocator:
    def __init__(self, files: list[Path], file_format: FileFormat, separator: str = ",") -> None:
        self.files = [str(f) for f in files]
        self.file_format = file_format
        self.separator = separator

    @property
    def unit(self) -> str:
        """What a row is called in the file: a CSV line or a Parquet row."""
        return "line" if self.file_format == "csv" else "row"

    def where(self, file: str, row: int) -> str:
        """`<file> line <n>` (CSV) or `<file> row group <g>, row <r> (...)` (Parquet) of a scan row."""
        return self.where_in_file(file, self._in_file(file, row))

    def where_in_file(self, file: str, local_row: int) -> str:
        return f"{file} {self._position(file, local_row)}"

    def where_both(self, first: tuple[str, int], second: tuple[str, int]) -> str:
        if first[0] != second[0]:
            return f"{self.where(*first)} and {self.where(*second)}"
        rows = [self._in_file(*first), self._in_file(*second)]
        if self.file_format == "csv":
            return f"{first[0]} lines {rows[0] + 2} and {rows[1] + 2}"
        return f"{first[0]} {self._position(first[0], rows[0])} and {self._position(first[0], rows[1])}"

    def _position(self, file: str, local_row: int) -> str:
        if self.file_format == "csv":
            return f"line {local_row + 2}"
        group, in_group = self._row_group(file, local_row)
        return f"row group {group}, row {in_group} (row {local_row} of the file)"

    def _in_file(self, file: str, row: int) -> int:
        preceding = self.files[: self.files.index(file)] if file in self.files else []
        return row - sum(self._row_count(f) for f in preceding)

    @cache  # noqa: B019 - a locator lives for one error message
    def _row_count(self, file: str) -> int:
        if self.file_format == "parquet":
            return pq.ParquetFile(file).metadata.num_rows
        scan = pl.scan_csv(file, infer_schema=False, separator=self.separator)
        return int(scan.select(pl.len()).collect().item())

    def _row_group(self, file: str, row: int) -> tuple[int, int]:
        metadata = pq.ParquetFile(file).metadata
        start = 0
        for group in range(metadata.num_row_groups):
            size = metadata.row_group(group).num_rows
            if row < start + size:
                return group, row - start
            start += size
        return metadata.num_row_groups - 1, row - start
