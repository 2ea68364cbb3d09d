"""The data version of what a declared backtest reads for one instrument over its window: what decides
whether a re-fetch makes the backtest out of date.

Bars count by session: each stored session's content digest (kept in its month file's footer), so a
session outside the window changes nothing even when it lands in a month file the window shares. The
instrument definitions and the adjustment factors count by file content (through the catalog's hash
index: unchanged files are not re-hashed).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.backtest.versions import canonical_json, catalog_files
from ntrader_pipeline.catalog.hash_index import HashIndex
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import sessions_between


def _needed(declaration: BacktestDeclaration, instrument_id: str) -> list[str]:
    return list(dict.fromkeys([instrument_id, declaration.index_instrument]))


def _other_files(store: CatalogStore, declaration: BacktestDeclaration, instrument_id: str) -> list[Path]:
    """Definitions of the instrument and its index, and its factors when the backtest adjusts."""
    paths = [p for needed in _needed(declaration, instrument_id) for p in store.definition_files(needed)]
    factors = store.adjustment_file(instrument_id)
    if declaration.adjustment is not Adjustment.NONE and factors.exists():
        paths.append(factors)
    return paths


def window_data_version(
    store: CatalogStore, declaration: BacktestDeclaration, instrument_id: str
) -> tuple[str, dict[str, int]]:
    """(data version, counts: sessions, files) of the backtest's inputs over its window."""
    sessions = sessions_between(declaration.window.start, declaration.window.end)
    rows: list[tuple[str, str, str]] = []
    month_files = 0
    for needed in _needed(declaration, instrument_id):
        bar_type = declaration.spec.bar_type(needed)
        digests = store.session_digests(bar_type, sessions)
        rows += [(str(bar_type), day.isoformat(), digest) for day, digest in digests.items()]
        month_files += len(store.bar_files(bar_type, sessions))
    index = HashIndex(store.path) if store.location.is_local else None
    files = catalog_files(store.path, _other_files(store, declaration, instrument_id), index)
    if index is not None:
        index.save()
    rows += [("file", f.path, f.sha256) for f in files]
    version = hashlib.sha256(canonical_json(sorted(rows)).encode()).hexdigest()[:16]
    return version, {"sessions": len(rows) - len(files), "files": month_files + len(files)}
