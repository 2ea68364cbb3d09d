"""Readers over real sample files, and the synthetic bars they must reproduce."""

from __future__ import annotations

from pathlib import Path

from nautilus_trader.model.data import Bar

from ntrader_pipeline.gateway.synthetic import BarSeries
from ntrader_pipeline.ingest.files.instrument import file_instrument
from ntrader_pipeline.ingest.files.reader import FileBarReader
from ntrader_pipeline.markets.file_source import FileSource

SYMBOL = "SPY"
NS = 1_000_000_000


def reader(base_dir: Path, path: str, **fields: object) -> FileBarReader:
    source = FileSource(path=path, venue="XNAS", **fields)
    return FileBarReader(source, file_instrument(SYMBOL, source), base_dir)


def ohlcv(bars: list[Bar]) -> list[tuple[float, ...]]:
    # Through Decimal: as_double() of a large fixed-point raw value can be off in the last bit.
    return [tuple(float(v.as_decimal()) for v in (b.open, b.high, b.low, b.close, b.volume)) for b in bars]


def series_ohlcv(series: BarSeries) -> list[tuple[float, ...]]:
    columns = (series.open, series.high, series.low, series.close, series.volume.astype(float))
    return list(zip(*(c.tolist() for c in columns), strict=True))


def rewrite_line(path: Path, line: int, text: str) -> None:
    """Replace 1-based `line` (the header is line 1)."""
    lines = path.read_text().splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n")


def line_of(path: Path, line: int) -> str:
    return path.read_text().splitlines()[line - 1]


def as_written(bars: list[Bar]) -> list[tuple[str, int]]:
    """What the catalog stores of a bar (Bar's own == ignores ts_init)."""
    return [(str(b), b.ts_init) for b in bars]
