"""Reading a 10-year 1-minute history of one instrument: month files vs one file per session.

Run: PYTHONPATH=$PWD .venv/bin/python benchmarks/catalog_read.py [--years N] [--repeats N]
Writes synthetic RTH 1-minute bars (`synthetic_bars`: NYSE sessions 2016-01-04.., 390 bars each, 210 on
half days, ~977,000 for 10 years) through the store (`write_sessions_bars`, one rewrite per month) into a
tmp catalog, and the same rows in the previous layout (one file per session, as Nautilus named and wrote
them) into another. Then, in alternating order, best of `--repeats`, prints seconds, bars/s and the ratio
to a bare `pyarrow.parquet.read_table` of the same files:
  - bare read_table of every file of the window (the floor);
  - the store's read path: `CatalogStore.read_bar_table` (lists the month files, reads them, keeps the
    window's sessions by the session index) — goal <= 1.5x bare;
  - the backtest's read path, `backtest.run._read_bars` (the rows decoded into Nautilus `Bar` objects,
    which the engine needs): cold (in-process caches dropped) and warm (decoded bars cached by file
    identity);
  - for the old layout: bare read of its per-session files and the old `store.read_bars`
    (`ParquetDataCatalog.bars(files=...)`).
"Cold" drops the in-process caches only; the OS page cache stays warm (the files were just written).
Never asserts on timing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from nautilus_trader.persistence.catalog import ParquetDataCatalog
from nautilus_trader.persistence.catalog.parquet import _timestamps_to_filename
from synthetic_bars import BAR_TYPE, FIRST_SESSION, session_bars, write_month_layout

from ntrader_pipeline.backtest.run import _read_bars
from ntrader_pipeline.catalog.file_cache import SETTLE_NS, clear_identity_caches
from ntrader_pipeline.catalog.month_files import SESSION_INDEX_KEY, session_index
from ntrader_pipeline.catalog.store import CatalogStore, session_bounds_ns
from ntrader_pipeline.markets.sessions import TradingSession, sessions_between


def write_session_layout(month_store: CatalogStore, old: CatalogStore) -> list[Path]:
    """The same rows as one file per session, named by the session's UTC day bounds (the old layout)."""
    directory = old.bar_directory(BAR_TYPE)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for path in month_store.bar_files(BAR_TYPE):
        table = pq.read_table(path)
        metadata = {k: v for k, v in table.schema.metadata.items() if k != SESSION_INDEX_KEY}
        for day, (first, rows) in session_index(table.schema, table.num_rows).items():
            start, end = session_bounds_ns(_session_of(day))
            target = directory / _timestamps_to_filename(start, end)
            pq.write_table(table.slice(first, rows).replace_schema_metadata(metadata), target)
            written.append(target)
    return written


def _session_of(day: dt.date) -> TradingSession:
    (session,) = sessions_between(day, day)
    return session


def month_write_costs(root: Path) -> None:
    """One month (~21 sessions) backfilled session by session (a rewrite each) vs in one call."""
    rng = np.random.default_rng(11)
    month = sessions_between(dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    bars = {s: session_bars(s, rng) for s in month}
    one_by_one = CatalogStore(root / "one-by-one")
    started = time.perf_counter()
    for session, session_bars_ in bars.items():
        one_by_one.write_session_bars(BAR_TYPE, session, session_bars_)
    each = time.perf_counter() - started
    together = CatalogStore(root / "together")
    started = time.perf_counter()
    together.write_sessions_bars(BAR_TYPE, bars)
    once = time.perf_counter() - started
    started = time.perf_counter()
    one_by_one.write_session_bars(BAR_TYPE, month[10], bars[month[10]])
    refetch = time.perf_counter() - started
    print(
        f"write one month ({len(month)} sessions, {sum(map(len, bars.values())):,} bars): session by session "
        f"{each:.2f} s ({each / len(month) * 1000:.0f} ms a session), write_sessions_bars {once:.2f} s; "
        f"re-fetching one session of the full month {refetch * 1000:.0f} ms"
    )


def best_of(repeats: int, runs: dict[str, Callable[[], int]], before: Callable[[], None]) -> dict[str, float]:
    """Best wall time per run, the runs alternating (forward, then backward) so none always goes first."""
    best = dict.fromkeys(runs, float("inf"))
    names = list(runs)
    counts = {}
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else reversed(names):
            before()
            started = time.perf_counter()
            counts[name] = runs[name]()
            best[name] = min(best[name], time.perf_counter() - started)
    if len(set(counts.values())) != 1:
        raise AssertionError(f"the read paths disagree on the number of bars: {counts}")
    return best


def bare(paths: list[Path]) -> int:
    return sum(pq.read_table(str(p)).num_rows for p in paths)


def report(title: str, floor: str, times: dict[str, float], bars: int, files: int) -> None:
    print(f"\n{title} ({files} files, {bars:,} bars)")
    print(f"  {'read path':<52} {'seconds':>8} {'bars/s':>12} {'x bare':>7}")
    for name, seconds in times.items():
        print(f"  {name:<52} {seconds:>8.3f} {bars / seconds:>12,.0f} {seconds / times[floor]:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    last = dt.date(FIRST_SESSION.year + args.years - 1, 12, 31)
    sessions = sessions_between(FIRST_SESSION, last)
    with tempfile.TemporaryDirectory(prefix="catalog-read-") as root:
        month_write_costs(Path(root))
        store, old = CatalogStore(Path(root) / "months"), CatalogStore(Path(root) / "sessions")
        write_s = write_month_layout(store, sessions)
        old_files = write_session_layout(store, old)
        month_files = store.bar_files(BAR_TYPE, sessions)
        bars = bare(month_files)
        print(f"{len(sessions)} sessions {sessions[0].key}..{sessions[-1].key}, {bars:,} bars")
        print(f"files: {len(month_files)} month files (was {len(old_files)} session files)")
        print(f"write through the store: {write_s:.1f} s ({len(month_files)} month rewrites)")
        time.sleep(SETTLE_NS / 1e9)  # files younger than this are read but never cached (file_cache)

        cold = {
            "bare pyarrow read_table": lambda: bare(store.bar_files(BAR_TYPE, sessions)),
            "store.read_bar_table (Arrow rows)": lambda: store.read_bar_table(BAR_TYPE, sessions).num_rows,
            "backtest _read_bars, cold (Nautilus Bar objects)": lambda: len(
                _read_bars(store, BAR_TYPE, sessions)
            ),
        }
        times = best_of(args.repeats, cold, clear_identity_caches)
        warm_bars = lambda: len(_read_bars(store, BAR_TYPE, sessions))  # noqa: E731
        warm_bars()
        times["backtest _read_bars, warm (decoded bars cached)"] = best_of(
            args.repeats, {"warm": warm_bars}, lambda: None
        )["warm"]
        report("month files (new layout)", "bare pyarrow read_table", times, bars, len(month_files))

        old_catalog = ParquetDataCatalog(str(old.path))
        old_runs = {
            "bare pyarrow read_table": lambda: bare(old_files),
            "old store.read_bars: catalog.bars(files=...) (Bars)": lambda: len(
                old_catalog.bars(bar_types=[str(BAR_TYPE)], files=[str(p) for p in old_files])
            ),
        }
        old_times = best_of(max(1, args.repeats - 1), old_runs, clear_identity_caches)
        report(
            "one file per session (old layout)", "bare pyarrow read_table", old_times, bars, len(old_files)
        )
        old_bars = old_times["old store.read_bars: catalog.bars(files=...) (Bars)"]
        new_bars = times["backtest _read_bars, cold (Nautilus Bar objects)"]
        print(
            "\nbefore/after: bare read "
            f"{old_times['bare pyarrow read_table']:.3f} s -> {times['bare pyarrow read_table']:.3f} s; "
            f"backtest read (Bars, cold) {old_bars:.3f} s -> {new_bars:.3f} s"
        )


if __name__ == "__main__":
    main()
