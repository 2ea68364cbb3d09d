"""How fast `FileBarReader` turns a 5-year 1-minute CSV (~490k rows) into Nautilus bars, against a bare
`pl.read_csv` of the same file; also per-month reads, one session, Parquet, the Bar conversion paths
and peak memory. Prints figures; never fails on timing.

Run: .venv/bin/python benchmarks/file_import_rate.py
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from itertools import groupby
from pathlib import Path

import numpy as np
import polars as pl
from nautilus_trader.model.data import Bar
from nautilus_trader.model.objects import Price, Quantity

from ntrader_pipeline.ingest.files.instrument import file_instrument
from ntrader_pipeline.ingest.files.reader import FileBarReader
from ntrader_pipeline.ingest.files.samples import write_sample_file
from ntrader_pipeline.markets.file_source import FileSource
from ntrader_pipeline.markets.sessions import TradingSession, session_for, sessions_between

SYMBOL, START, END = "SPY", "2020-01-01", "2024-12-31"
CACHE = Path(tempfile.gettempdir()) / "ntrader_file_import_rate"
ONE_SESSION = "2024-07-03"


def sample_file(file_format: str) -> Path:
    path = CACHE / f"{SYMBOL}_{START}_{END}_1min.{file_format}"
    if not path.exists():
        started = time.perf_counter()
        write_sample_file(path, SYMBOL, START, END, format=file_format)  # type: ignore[arg-type]
        print(f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f}s")
    return path


def reader_for(path: Path) -> FileBarReader:
    source = FileSource(path=path.name, venue="XNAS")
    return FileBarReader(source, file_instrument(SYMBOL, source), path.parent)


def best_of(repeats: int, run: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def rate(label: str, seconds: float, rows: int, unit: str = "rows/s") -> str:
    return f"  {label:<46}{seconds:6.2f}s {rows / seconds:>11,.0f} {unit}"


def bar_count(read: dict) -> int:
    return sum(len(bars) for bars in read.values())


def per_month(reader: FileBarReader, sessions: list[TradingSession]) -> int:
    months = groupby(sessions, key=lambda s: (s.date.year, s.date.month))
    return sum(bar_count(reader.read_sessions(list(group))) for _, group in months)


def conversion_paths(path: Path) -> None:
    """The three ways to build Bars from the same arrays (the reader uses the first)."""
    frame = pl.read_csv(path).with_columns(pl.col("open", "high", "low", "close", "volume").cast(pl.Float64))
    columns = [frame[c].to_numpy(writable=True) for c in ("open", "high", "low", "close", "volume")]
    events = np.arange(frame.height, dtype=np.uint64) * np.uint64(60 * 10**9) + np.uint64(
        1_577_975_400 * 10**9
    )
    inits = events + np.uint64(60 * 10**9)
    bar_type = reader_for(path).bar_type
    raw_seconds, raw_bars = best_of(
        1, lambda: Bar.from_raw_arrays_to_list(bar_type, 2, 0, *columns, events, inits)
    )

    def comprehension() -> list[Bar]:
        rows = zip(*(c.tolist() for c in columns), events.tolist(), inits.tolist(), strict=True)
        return [
            Bar(bar_type, Price(o, 2), Price(h, 2), Price(lo, 2), Price(c, 2), Quantity(v, 0), e, i)
            for o, h, lo, c, v, e, i in rows
        ]

    loop_seconds, loop_bars = best_of(1, comprehension)
    identical = all(
        str(a) == str(b) and a.ts_init == b.ts_init
        for a, b in zip(raw_bars, loop_bars, strict=True)  # type: ignore[arg-type]
    )
    rows = frame.height
    print(rate("Bar.from_raw_arrays_to_list", raw_seconds, rows, "bars/s"))
    print(rate("[Bar(...) for ...]", loop_seconds, rows, "bars/s") + f"   identical bars: {identical}")


def peak_rss_growth_mb(mode: str, path: Path) -> float:
    """Peak resident memory above the starting level of a fresh process doing one read (Linux)."""
    done = subprocess.run(
        [sys.executable, __file__, "--memory", mode, str(path)], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_child(mode: str, path: Path) -> None:
    # Polled, not ru_maxrss: importing Nautilus peaks higher than these reads, hiding them.
    reader = reader_for(path)
    # Start polars' thread pools and the streaming engine first: their one-off memory is not the read's.
    pl.LazyFrame({"a": [1]}).filter(pl.col("a") > 0).collect(engine="streaming")
    pl.read_csv(b"a,b\n1,2\n")
    start = peak = _resident_bytes()
    done = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _resident_bytes())
            time.sleep(0.001)

    watcher = threading.Thread(target=poll)
    watcher.start()
    if mode == "bare":
        pl.read_csv(path) if path.suffix == ".csv" else pl.read_parquet(path)
    else:
        reader.read_sessions([session_for(ONE_SESSION)])
    done.set()
    watcher.join()
    print((max(peak, _resident_bytes()) - start) / 1e6)


def main() -> None:
    csv, parquet = sample_file("csv"), sample_file("parquet")
    sessions = sessions_between(START, END)
    rows = pl.scan_csv(csv).select(pl.len()).collect().item()
    print(f"{rows:,} rows, {len(sessions):,} sessions, {csv.stat().st_size / 1e6:.0f} MB CSV")
    reader = reader_for(csv)

    all_seconds, read = best_of(3, lambda: reader.read_sessions(sessions))
    assert bar_count(read) == rows  # type: ignore[arg-type]
    month_seconds, month_bars = best_of(1, lambda: per_month(reader, sessions))
    assert month_bars == rows
    bare_seconds, _ = best_of(3, lambda: pl.read_csv(csv))
    one_seconds, _ = best_of(5, lambda: reader.read_sessions([session_for(ONE_SESSION)]))
    pq_seconds, _ = best_of(3, lambda: reader_for(parquet).read_sessions(sessions))
    pq_one_seconds, _ = best_of(5, lambda: reader_for(parquet).read_sessions([session_for(ONE_SESSION)]))
    bare_pq_seconds, _ = best_of(3, lambda: pl.read_parquet(parquet))

    print("CSV")
    print(rate("(a) read_sessions, all sessions in one call", all_seconds, rows))
    print(rate("(b) read_sessions, one call per month", month_seconds, rows))
    print(rate("(c) bare pl.read_csv", bare_seconds, rows))
    print(f"  (a)/(c) time ratio: {all_seconds / bare_seconds:.1f}x  (Bars are built in (a), not in (c))")
    print(f"  one session ({ONE_SESSION}) from the 5-year file: {one_seconds * 1000:.0f} ms")
    print("Parquet")
    print(rate("read_sessions, all sessions in one call", pq_seconds, rows))
    print(rate("bare pl.read_parquet", bare_pq_seconds, rows))
    print(f"  one session from the 5-year file: {pq_one_seconds * 1000:.0f} ms")
    print("Bar conversion on the same arrays")
    conversion_paths(csv)
    print("Peak resident memory growth (fresh process, polled)")
    for path in (csv, parquet):
        bare, one = peak_rss_growth_mb("bare", path), peak_rss_growth_mb("one", path)
        print(f"  {path.suffix[1:]:8} bare full read {bare:5.0f} MB   one session {one:5.0f} MB")
    print(f"(measured {dt.datetime.now():%Y-%m-%d %H:%M})")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--memory":
        memory_child(sys.argv[2], Path(sys.argv[3]))
    else:
        main()
