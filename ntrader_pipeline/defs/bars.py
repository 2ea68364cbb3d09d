"""Bars assets, one per bar spec of the universe: IB or files → Nautilus catalog, one file per session.

Single-run backfills: a date range of one instrument is one run over one IB connection, and each
complete session is written as soon as it has arrived. Each stored session is recorded at once as a
runtime materialization of its partition (bars, attempts, file), so the UI's partition and backfill
views fill in while the run goes on, and the sessions written before a failure, an interrupt or a
killed run stay recorded: a retry only needs the rest. The run's log gets a progress line every few
sessions (done/total, bars, ETA).

When the range completes, the step returns a `MaterializeResult` as well: Dagster needs the output for
the blocking `bar_quality` check and for downstream steps, and records it for every partition of the
range. So a partition has two materialization events (the live one with the session's metadata, then
the run's summary); its status counts it once.
"""

import time

import dagster as dg
import structlog

from ntrader_pipeline.defs.partitions import BarPartitions, bar_partition_key, split_bar_partition_keys
from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource
from ntrader_pipeline.defs.run_guard import RUN_PID_TAG, StepWatchdog
from ntrader_pipeline.defs.run_tags import tag_bars_run
from ntrader_pipeline.ingest.errors import FetchError
from ntrader_pipeline.ingest.run import SessionRecord, SessionStatus, ingest_sessions
from ntrader_pipeline.markets.bar_specs import bars_asset_name
from ntrader_pipeline.markets.universe import BarSpec, Universe

MARKET_DATA_GROUP = "market_data"
PROGRESS_EVERY = 10  # sessions between progress lines in the run's log (and the last session)


class Progress:
    """Done/total, bars and an ETA from the mean time per settled session so far."""

    def __init__(self, total: int, every: int = PROGRESS_EVERY) -> None:
        self.total, self.every = total, every
        self.done = self.bars = 0
        self._started = time.monotonic()

    def add(self, bars: int) -> str | None:
        """Count a settled session; returns the progress line when one is due."""
        self.done += 1
        self.bars += bars
        if self.done % self.every and self.done != self.total:
            return None
        elapsed = time.monotonic() - self._started
        eta = elapsed / self.done * (self.total - self.done)
        return (
            f"progress: {self.done}/{self.total} sessions, {self.bars} bars, {elapsed:.0f} s elapsed, "
            f"ETA {eta:.0f} s"
        )


def session_metadata(record: SessionRecord) -> dict[str, object]:
    """A stored session's partition metadata: bars and file, or why there is nothing to store."""
    if record.status is SessionStatus.CLOSED:
        return {"bars": 0, "closed": record.detail}
    if record.status is SessionStatus.NOT_LISTED:
        return {"bars": 0, "not_listed": record.detail}
    metadata: dict[str, object] = {"bars": record.bars, "bar_type": record.bar_type, "file": record.file}
    if record.expected_bars is not None:  # expected vs present: IB sends no bar for a minute without trades
        metadata["expected_bars"] = record.expected_bars
        metadata["missing_bars"] = record.missing_bars
        metadata["longest_gap"] = record.longest_gap
    if record.status is SessionStatus.EMPTY:
        metadata["empty_reason"] = record.detail
    if record.attempts > 1 or record.status is SessionStatus.EMPTY:
        metadata["attempts"] = record.attempts
    return metadata


def build_bars_asset(spec: BarSpec, universe: Universe, partitions: BarPartitions) -> dg.AssetsDefinition:
    @dg.asset(
        name=bars_asset_name(spec),
        group_name=MARKET_DATA_GROUP,
        partitions_def=partitions.bars,
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
        requested = split_bar_partition_keys(context.partition_keys)
        progress = Progress(len(context.partition_keys))
        run_pid = context.instance.get_run_by_id(context.run_id).tags.get(RUN_PID_TAG, "")
        structlog.contextvars.bind_contextvars(run_id=context.run_id)
        try:
            with StepWatchdog(int(run_pid) if run_pid.isdigit() else None) as watchdog:
                sessions = ingest_sessions(universe, spec, requested, storage.catalog_store(), ib.fetcher)
                for record in sessions:
                    if not record.stored:
                        failures.append(record.detail or f"{record.instrument_id} {record.date}: not stored")
                    else:
                        key = bar_partition_key(record.date, record.instrument_id)
                        written[key] = session_metadata(record)
                        if progress.total > 1:  # one session: the step's result says it all
                            context.log_event(
                                dg.AssetMaterialization(
                                    asset_key=context.assets_def.key,
                                    partition=key,
                                    metadata={**written[key], "attempts": record.attempts},
                                )
                            )
                    line = progress.add(record.bars)
                    if line:
                        context.log.info(line)
                    if watchdog.stop_reason():
                        sessions.close()  # closes the IB connection
                        raise dg.Failure(
                            description=(
                                f"{spec} bars stopped after {progress.done} of {progress.total} sessions: "
                                f"{watchdog.stop_reason()}. The {len(written)} sessions written are "
                                "recorded; re-materialize the rest."
                            )
                        )
        except FetchError as exc:  # no gateway, unknown contract, unreadable files: the rest cannot run
            failures.insert(0, str(exc))
        finally:
            structlog.contextvars.clear_contextvars()
        if failures:
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
        not_listed = sum(1 for m in written.values() if m.get("not_listed"))
        if not_listed:
            metadata["not_listed_sessions"] = not_listed
        sparse = {k: m for k, m in written.items() if m.get("missing_bars")}
        if sparse:
            metadata["sparse_sessions"] = len(sparse)
            metadata["missing_bars"] = sum(m["missing_bars"] for m in sparse.values())
            metadata["sparse"] = dg.MetadataValue.md(
                "| session | bars | expected | missing | longest gap |\n|---|---|---|---|---|\n"
                + "\n".join(
                    f"| {k} | {m['bars']} | {m['expected_bars']} | {m['missing_bars']} | {m['longest_gap']} |"
                    for k, m in sorted(sparse.items())
                )
            )
        return dg.MaterializeResult(metadata=metadata)

    return _bars


def build_bars_assets(universe: Universe, partitions: BarPartitions) -> list[dg.AssetsDefinition]:
    return [build_bars_asset(spec, universe, partitions) for spec in universe.all_bar_specs]
