"""Bars assets, one per bar spec of the universe: IB or files → Nautilus catalog, one file per session.

Single-run backfills: a date range of one instrument is one run over one IB connection, and each
complete session is written as soon as it has arrived. When some sessions fail, the ones written
are still recorded as materialized before the step fails, so a retry only needs the rest.
"""

import time
from collections.abc import Callable

import dagster as dg
import structlog
from nautilus_trader.model.data import Bar

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.defs.partitions import (
    UNIVERSE,
    bar_partitions,
    closed_reason,
    instrument_sessions,
    split_bar_partition_keys,
)
from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource
from ntrader_pipeline.defs.run_tags import tag_bars_run
from ntrader_pipeline.ib.fetcher import IBFetcher
from ntrader_pipeline.ingest.errors import FetchError, IncompleteSessionError, SessionFetchFailedError
from ntrader_pipeline.ingest.file_sessions import FileSessions
from ntrader_pipeline.logs import get_logger
from ntrader_pipeline.markets.sessions import TradingSession, session_for
from ntrader_pipeline.markets.universe import BarSpec, InstrumentSpec

MARKET_DATA_GROUP = "market_data"


def bars_asset_name(spec: BarSpec) -> str:
    return f"bars_{spec.step}_{spec.aggregation.lower()}"


def _fetch_partitions(
    context: dg.AssetExecutionContext,
    ib: IBGatewayResource,
    store: CatalogStore,
    spec: BarSpec,
    written: dict[str, dict],
    failures: list[str],
) -> None:
    """Fetch and store every partition of the run, filling `written` ({key: metadata}) and `failures`.

    IB instruments share one connection, opened only when the run has any; a file-backed
    instrument's files are read once for all its sessions.
    """
    requested = split_bar_partition_keys(list(context.partition_keys))
    for instrument_id in list(requested):
        instrument_spec = UNIVERSE.instrument(instrument_id)
        if not UNIVERSE.provides(instrument_spec, spec):
            provided = (
                f"its file source has {instrument_spec.source.bar_spec}"
                if instrument_spec.source
                else f"IB instruments fetch {', '.join(str(s) for s in UNIVERSE.bar_specs)}"
            )
            failures.extend(
                f"{instrument_id} has no {spec} bars ({provided}): session {date} cannot be "
                f"materialized in {bars_asset_name(spec)}"
                for date in requested.pop(instrument_id)
            )
    for instrument_id, dates in list(requested.items()):
        # a date of the union calendar on which this instrument's own calendar is closed (SPY on a US
        # holiday that FX trades): recorded as closed, nothing fetched or written
        _, closed = instrument_sessions(instrument_id, dates)
        for date in closed:
            written[f"{date}|{instrument_id}"] = {"bars": 0, "closed": closed_reason(instrument_id, date)}
        open_dates = [d for d in dates if d not in closed]
        if open_dates:
            requested[instrument_id] = open_dates
        else:
            del requested[instrument_id]
    from_ib = {i: d for i, d in requested.items() if not UNIVERSE.instrument(i).from_files}
    if from_ib:
        with ib.fetcher() as fetcher:
            for instrument_id, dates in from_ib.items():
                instrument_spec = UNIVERSE.instrument(instrument_id)
                instrument = fetcher.instrument(instrument_spec)  # an unknown contract fails at once
                store.write_instrument(instrument)
                _store_ib_sessions(context, store, fetcher, instrument_spec, spec, dates, written, failures)
    for instrument_id, dates in requested.items():
        if instrument_id in from_ib:
            continue
        files = FileSessions(
            UNIVERSE.instrument(instrument_id), UNIVERSE.base_dir, [session_for(d) for d in dates]
        )
        store.write_instrument(files.instrument)
        _store_sessions(context, store, instrument_id, dates, written, failures, files.bars)


def _store_ib_sessions(
    context: dg.AssetExecutionContext,
    store: CatalogStore,
    fetcher: IBFetcher,
    instrument_spec: InstrumentSpec,
    spec: BarSpec,
    dates: list[str],
    written: dict[str, dict],
    failures: list[str],
) -> None:
    """Write each session as soon as its response is in: its bars, or an explicit empty record when IB
    has no data for it; a session that exhausted its retries is noted and the run goes on."""
    instrument_id = instrument_spec.instrument_id
    bar_type = spec.bar_type(instrument_id)
    structlog.contextvars.bind_contextvars(run_id=context.run_id, instrument=instrument_id)
    for result in fetcher.sessions(instrument_spec, spec, instrument_sessions(instrument_id, dates)[0]):
        log = get_logger(__name__)
        if isinstance(result, SessionFetchFailedError):
            log.error("session_failed", error=str(result))
            failures.append(str(result))
            continue
        key = f"{result.session.key}|{instrument_id}"
        structlog.contextvars.bind_contextvars(partition=key)
        if result.is_empty:
            marker = store.write_empty_session(bar_type, result.session, result.empty_reason or "")
            stored = store.read_session_bars(bar_type, result.session) if marker is None else []
            log.warning("session_empty", reason=result.empty_reason, kept_bars=len(stored))
            written[key] = {
                "bars": len(stored),
                "bar_type": bar_type,
                "empty_reason": result.empty_reason,
                "file": str(marker or store.session_file(bar_type, result.session)),
                "attempts": result.attempts,
            }
            continue
        path = store.write_session_bars(result.bars[0].bar_type, result.session, result.bars)
        log.info("session_written", bars=len(result.bars), file=str(path), attempts=result.attempts)
        written[key] = {"bars": len(result.bars), "bar_type": bar_type, "file": str(path)}
        if result.attempts > 1:
            written[key]["attempts"] = result.attempts


def _store_sessions(
    context: dg.AssetExecutionContext,
    store: CatalogStore,
    instrument_id: str,
    dates: list[str],
    written: dict[str, dict],
    failures: list[str],
    session_bars: Callable[[TradingSession], list[Bar]],
) -> None:
    """Write each complete session as soon as it is there; note each incomplete one and go on."""
    for date in dates:
        key = f"{date}|{instrument_id}"
        structlog.contextvars.bind_contextvars(run_id=context.run_id, partition=key, instrument=instrument_id)
        log = get_logger(__name__)
        session = session_for(date)
        try:
            bars = session_bars(session)
        except IncompleteSessionError as exc:
            log.error("session_incomplete", error=str(exc))
            failures.append(str(exc))
            continue
        path = store.write_session_bars(bars[0].bar_type, session, bars)
        log.info("session_written", bars=len(bars), file=str(path))
        written[key] = {"bars": len(bars), "bar_type": str(bars[0].bar_type), "file": str(path)}


def build_bars_asset(spec: BarSpec) -> dg.AssetsDefinition:
    @dg.asset(
        name=bars_asset_name(spec),
        group_name=MARKET_DATA_GROUP,
        partitions_def=bar_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="ibkr",
        kinds={"nautilus", "parquet"},
        description=f"{spec} bars from IB (or an instrument's files), one catalog file per session.",
    )
    def _bars(
        context: dg.AssetExecutionContext, ib: IBGatewayResource, storage: StorageResource
    ) -> dg.MaterializeResult:
        started = time.monotonic()
        tag_bars_run(context)
        written: dict[str, dict] = {}
        failures: list[str] = []
        try:
            _fetch_partitions(context, ib, storage.catalog(), spec, written, failures)
        except FetchError as exc:  # no gateway, unknown contract, unreadable files: the rest cannot run
            failures.insert(0, str(exc))
        finally:
            structlog.contextvars.clear_contextvars()
        if failures:
            for key, metadata in written.items():
                context.log_event(
                    dg.AssetMaterialization(
                        asset_key=context.assets_def.key, partition=key, metadata=metadata
                    )
                )
            raise dg.Failure(
                description=(
                    f"{len(context.partition_keys) - len(written)} of {len(context.partition_keys)} {spec} "
                    f"sessions were not stored ({len(written)} were). First problem: {failures[0]}"
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
        empty = {k: m["empty_reason"] for k, m in written.items() if m.get("empty_reason")}
        if empty:
            metadata["empty_sessions"] = len(empty)
        return dg.MaterializeResult(metadata=metadata)

    return _bars


bars_assets = [build_bars_asset(spec) for spec in UNIVERSE.all_bar_specs]
