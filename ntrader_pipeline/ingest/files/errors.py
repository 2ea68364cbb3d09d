"""The file source's failure, naming the file, the line (Parquet: row group and row), field and fix."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ntrader_pipeline.ingest.errors import FetchError


class FileSourceError(FetchError):
    """A bar file is missing, unreadable, or has a row that cannot become a bar of the requested session.

    `sessions` lists the sessions whose rows are at fault when that is known (bad values, rows outside
    hours, duplicates), so a caller can record those as failed and read the others again.
    """

    def __init__(self, message: str, sessions: Iterable[dt.date] = ()) -> None:
        super().__init__(message)
        self.sessions: tuple[dt.date, ...] = tuple(sorted(set(sessions)))
