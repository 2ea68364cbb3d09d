"""Gated, adjusted bars kept in the process between sweep points.

A sweep runs many points on the same instrument, window and bars: reading and gating the catalog once per
process, not once per point, is what makes a point cost about one engine run. In-process and Celery
workers run step after step in one long-lived process, so they reuse the entry; the multiprocess
executor starts a process per step and reads afresh each time (still correct, only slower).

An entry is keyed by the identity (path, size, mtime, inode) of every file in the directories it read —
the instrument's and the index's bar files, their empty-session markers, the instrument's definition and
its adjustment factors (`catalog.file_cache`) — so a file replaced, added or removed reads and gates
everything again, and a point never runs on bars the gate did not pass. Files changed in the last two
seconds and object-store catalogs are not cached (see `catalog.file_cache`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.backtest.run import BacktestInputs, load_backtest_inputs
from ntrader_pipeline.catalog.file_cache import (
    IdentityCache,
    directory_identity,
    file_identity,
    is_local,
    settled,
)
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import sessions_between

# One year of 1-minute bars is ~100k Bar objects (tens of MB): a few instruments' worth is plenty.
_INPUTS = IdentityCache(maxsize=4)


def cached_backtest_inputs(
    declaration: BacktestDeclaration,
    instrument_id: str,
    store: CatalogStore,
    asset_hint: str,
    *,
    max_missing_fraction: Mapping[str, float | None] | None = None,
) -> tuple[BacktestInputs, bool]:
    """`load_backtest_inputs`, reused while its files are unchanged; returns (inputs, reused)."""
    read: list[BacktestInputs] = []

    def load() -> BacktestInputs:
        read.append(
            load_backtest_inputs(
                declaration, instrument_id, store, asset_hint, max_missing_fraction=max_missing_fraction
            )
        )
        return read[0]

    if not is_local(store.path):
        return load(), False
    thresholds = max_missing_fraction or {}
    files = _identities(declaration, instrument_id, store)
    key = (
        str(store.path.resolve()),
        instrument_id,
        declaration.bar_spec,
        declaration.window,
        declaration.index_instrument,
        declaration.adjustment,
        thresholds.get(instrument_id),
        thresholds.get(declaration.index_instrument),
        files,
    )
    inputs = _INPUTS.get_or_compute(key, load, cacheable=settled(i for group in files for i in group))
    return inputs, not read


def _identities(declaration: BacktestDeclaration, instrument_id: str, store: CatalogStore) -> tuple:
    spec = declaration.spec
    sessions = sessions_between(declaration.window.start, declaration.window.end)
    groups = []
    for needed in dict.fromkeys([instrument_id, declaration.index_instrument]):
        bar_type = spec.bar_type(needed)
        groups.append(directory_identity(store.bar_directory(bar_type)))
        if sessions:
            groups.append(directory_identity(store.empty_marker(bar_type, sessions[0]).parent))
    groups.append(tuple(file_identity(path) for path in store.definition_files(instrument_id)))
    if declaration.adjustment is not Adjustment.NONE:
        groups.append((file_identity(store.adjustment_file(instrument_id)),))
    return tuple(groups)
