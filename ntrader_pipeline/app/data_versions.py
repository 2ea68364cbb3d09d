"""The data version of an instrument's stored bars: a hash of its catalog files (what the sweeps depend
on). Unchanged files are not re-hashed (`catalog.hash_index`)."""

from ntrader_pipeline.app.outcomes import StepOutcome
from ntrader_pipeline.backtest.versions import catalog_files, data_version
from ntrader_pipeline.catalog.hash_index import HashIndex
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.universe import BarSpec


def instrument_files_version(store: CatalogStore, spec: BarSpec, instrument_id: str) -> StepOutcome:
    paths = store.bar_files(spec.bar_type(instrument_id)) + store.definition_files(instrument_id)
    index = HashIndex(store.path) if store.location.is_local else None
    files = catalog_files(store.path, paths, index)
    if index is not None:
        index.save()
    version = data_version(files)
    return StepOutcome(
        metadata={"files": len(files), "bytes": sum(f.bytes for f in files), "data_version": version},
        data_version=version,
    )
