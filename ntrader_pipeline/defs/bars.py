"""Bars assets, one per bar spec of the universe: IB → Nautilus catalog, one file per session.

Single-run backfills: a date range of one instrument is one run over one IB connection, and each
complete session is written as soon as it has arrived. When some sessions fail, the ones written
are still recorded as materialized before the step fails, so a retry only needs the rest.
"""

import time

import dagster as dg
import structlog

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.defs.partitions import UNIVERSE, bar_partitions, split_bar_partition_keys
from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource
from ntrader_pipeline.ingest.errors import IncompleteSessionError
from ntrader_pipeline.ingest.ib_connection import IBConnection
from ntrader_pipeline.ingest.session_bars import fetch_session_bars
from ntrader_pipeline.logs import get_logger
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.markets.universe import BarSpec

MARKET_DATA_GROUP = "market_data"


def bars_asset_name(spec: BarSpec) -> str:
    return f"bars_{spec.step}_{spec.aggregation.lower()}"


def _fetch_partitions(
    context: dg.AssetExecutionContext, connection: IBConnection, store: CatalogStore, spec: BarSpec
) -> tuple[dict[str, dict], list[str]]:
    """Fetch and store every partition of the run; returns ({key: metadata}, [failure messages])."""
    written: dict[str, dict] = {}
    failures: list[str] = []
    for instrument_id, dates in split_bar_partition_keys(list(context.partition_keys)).items():
        instrument_spec = UNIVERSE.instrument(instrument_id)
        instrument = connection.fetch_instrument(instrument_spec)  # an unknown contract fails at once
        store.write_instrument(instrument)
        for date in dates:
            key = f"{date}|{instrument_id}"
            structlog.contextvars.bind_contextvars(
                run_id=context.run_id, partition=key, instrument=instrument_id
            )
            log = get_logger(__name__)
            session = session_for(date)
            try:
                bars = fetch_session_bars(connection, instrument_spec, spec, session)
            except IncompleteSessionError as exc:
                log.error("session_incomplete", error=str(exc))
                failures.append(str(exc))
                continue
            path = store.write_session_bars(bars[0].bar_type, session, bars)
            log.info("session_written", bars=len(bars), file=str(path))
            written[key] = {"bars": len(bars), "bar_type": str(bars[0].bar_type), "file": str(path)}
    structlog.contextvars.clear_contextvars()
    return written, failures


def build_bars_asset(spec: BarSpec) -> dg.AssetsDefinition:
    @dg.asset(
        name=bars_asset_name(spec),
        group_name=MARKET_DATA_GROUP,
        partitions_def=bar_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="ibkr",
        kinds={"nautilus", "parquet"},
        description=f"{spec} bars from Interactive Brokers, one catalog file per instrument × session.",
    )
    def _bars(
        context: dg.AssetExecutionContext, ib: IBGatewayResource, storage: StorageResource
    ) -> dg.MaterializeResult:
        started = time.monotonic()
        with ib.connection() as connection:
            written, failures = _fetch_partitions(context, connection, storage.catalog(), spec)
        if failures:
            for key, metadata in written.items():
                context.log_event(
                    dg.AssetMaterialization(
                        asset_key=context.assets_def.key, partition=key, metadata=metadata
                    )
                )
            raise dg.Failure(
                description=(
                    f"{len(failures)} of {len(context.partition_keys)} {spec} sessions are incomplete; "
                    f"{len(written)} complete sessions were stored. First: {failures[0]}"
                ),
                metadata={"failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures))},
            )
        metadata: dict[str, object] = {
            "sessions": len(written),
            "bars": sum(m["bars"] for m in written.values()),
            "fetch_seconds": round(time.monotonic() - started, 3),
        }
        if len(written) == 1:
            metadata.update(next(iter(written.values())))
        return dg.MaterializeResult(metadata=metadata)

    return _bars


bars_assets = [build_bars_asset(spec) for spec in UNIVERSE.bar_specs]
