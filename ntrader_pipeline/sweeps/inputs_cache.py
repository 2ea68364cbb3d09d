"""Gated, adjusted bars kept in the process between sweep points.

A sweep runs many points on the same instrument, window and bars: reading and gating the catalog once per
process, not once per point, is what makes a point cost about one engine run. In-process and Celery
workers run step after step in one long-lived process, so they reuse the entry; the multiprocess
executor starts a process per step and reads afresh each time (still correct, only slower).

An entry is reused only while every file it was built from is unchanged: same path, size and mtime for
each session file, empty-session marker, instrument definition and adjustment factor file (catalog
writes replace files atomically, so a rewrite changes the mtime). A changed or new file reads and gates
everything again, so a point never runs on bars the gate did not pass.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.backtest.run import BacktestInputs, load_backtest_inputs
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import sessions_between

# One year of 1-minute bars is ~100k Bar objects (tens of MB): a few instruments' worth is plenty.
MAX_ENTRIES = 4

_entries: OrderedDict[tuple, tuple[tuple, BacktestInputs]] = OrderedDict()
_lock = threading.Lock()


def cached_backtest_inputs(
    declaration: BacktestDeclaration,
    instrument_id: str,
    store: CatalogStore,
    asset_hint: str,
    *,
    max_missing_fraction: Mapping[str, float | None] | None = None,
) -> tuple[BacktestInputs, bool]:
    """`load_backtest_inputs`, reused while its files are unchanged; returns (inputs, reused)."""
    thresholds = max_missing_fraction or {}
    key = (
        str(store.path),
        instrument_id,
        declaration.bar_spec,
        declaration.window.start,
        declaration.window.end,
        declaration.index_instrument,
        declaration.adjustment,
        thresholds.get(instrument_id),
        thresholds.get(declaration.index_instrument),
    )
    fingerprint = _fingerprint(declaration, instrument_id, store)
    with _lock:
        entry = _entries.get(key)
        if entry is not None and entry[0] == fingerprint:
            _entries.move_to_end(key)
            return entry[1], True
    inputs = load_backtest_inputs(
        declaration, instrument_id, store, asset_hint, max_missing_fraction=max_missing_fraction
    )
    with _lock:
        _entries[key] = (fingerprint, inputs)
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return inputs, False


def clear() -> None:
    with _lock:
        _entries.clear()


def _fingerprint(declaration: BacktestDeclaration, instrument_id: str, store: CatalogStore) -> tuple:
    spec = declaration.spec
    paths: list[Path] = [*store.definition_files(instrument_id)]
    if declaration.adjustment is not Adjustment.NONE:
        paths.append(store.adjustment_file(instrument_id))
    for session in sessions_between(declaration.window.start, declaration.window.end):
        for needed in dict.fromkeys([instrument_id, declaration.index_instrument]):
            bar_type = spec.bar_type(needed)
            paths += [store.session_file(bar_type, session), store.empty_marker(bar_type, session)]
    return tuple((str(path), *_identity(path)) for path in paths)


def _identity(path: Path) -> tuple[int, int] | tuple[None, None]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None, None
    return stat.st_size, getattr(stat, "st_mtime_ns", int(stat.st_mtime * 1e9))
