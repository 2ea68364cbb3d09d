"""The catalog files a declared backtest reads for one instrument over its window, and their data
version: what decides whether a re-fetch makes the backtest out of date (a session outside the window
does not)."""

from __future__ import annotations

from pathlib import Path

from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.backtest.versions import CatalogFile, catalog_files, data_version
from ntrader_pipeline.catalog.hash_index import HashIndex
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import sessions_between


def window_files(store: CatalogStore, declaration: BacktestDeclaration, instrument_id: str) -> list[Path]:
    """Bar files of the instrument and its benchmark index over the window, their definitions, and the
    adjustment factors when the backtest adjusts."""
    sessions = sessions_between(declaration.window.start, declaration.window.end)
    spec = declaration.spec
    paths: list[Path] = []
    for needed in dict.fromkeys([instrument_id, declaration.index_instrument]):
        paths += store.bar_files(spec.bar_type(needed), sessions)
        paths += store.definition_files(needed)
    if (
        declaration.adjustment is not Adjustment.NONE
        and (factors := store.adjustment_file(instrument_id)).exists()
    ):
        paths.append(factors)
    return paths


def window_data_version(
    store: CatalogStore, declaration: BacktestDeclaration, instrument_id: str
) -> tuple[str, list[CatalogFile]]:
    """(data version, files) of the backtest's inputs; unchanged files are not re-hashed."""
    index = HashIndex(store.path) if isinstance(store.path, Path) else None
    files = catalog_files(store.path, window_files(store, declaration, instrument_id), index)
    if index is not None:
        index.save()
    return data_version(files), files
