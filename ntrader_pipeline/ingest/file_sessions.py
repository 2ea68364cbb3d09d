"""Sessions of a file-backed instrument: read once per run, then judged complete one by one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from nautilus_trader.model.data import Bar
from nautilus_trader.model.instruments import Instrument

from ntrader_pipeline.ingest.completeness import complete_session
from ntrader_pipeline.ingest.files.instrument import file_instrument
from ntrader_pipeline.ingest.files.reader import FileBarReader
from ntrader_pipeline.markets.sessions import TradingSession
from ntrader_pipeline.markets.universe import InstrumentSpec


class FileSessions:
    """All requested sessions of one file source, read in one scan (a single-run backfill reads the
    files once); `bars(session)` returns a complete session or raises IncompleteSessionError."""

    def __init__(self, spec: InstrumentSpec, base_dir: Path, sessions: Sequence[TradingSession]) -> None:
        assert spec.source is not None, f"{spec.instrument_id} gets its bars from IB, not files"
        self.spec = spec
        self.source = spec.source
        self.instrument: Instrument = file_instrument(spec.symbol, self.source)
        self._base_dir = base_dir
        reader = FileBarReader(self.source, self.instrument, base_dir)
        self._read: dict[dt.date, list[Bar]] = reader.read_sessions(sessions)

    def bars(self, session: TradingSession) -> list[Bar]:
        return complete_session(
            self._read.get(session.date, []),
            self.spec.instrument_id,
            self.source.spec,
            session,
            cause=f"rows are missing from {self.source.resolve(self._base_dir)}",
            remedy="add the missing rows to the files (or check the source's timezone and timestamp_marks)",
        )
