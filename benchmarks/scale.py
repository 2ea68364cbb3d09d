"""Scale benchmark (issue 18): three partition designs for a universe of N instruments × a decade, measured
against Dagster itself (definitions from `benchmarks/scale_defs.py`, not the product's `defs/`).

Run: .venv/bin/python benchmarks/scale.py [--instruments 500] [--first 2016-01-04] [--last 2025-12-31]
     [--storage sqlite|postgres|both] [--only partitions,storage,catalog,backtest] [--repeats 2]
     [--materialized-instruments 20]
Quick run: .venv/bin/python benchmarks/scale.py --instruments 50 --storage sqlite

Candidates: A session × instrument (one asset), B month × instrument (one asset), C one asset per instrument
with session partitions. Sections (`--only`):
- partitions: partitions per asset, number of assets, definitions build time, and the time and peak memory
  to list every asset's partition keys, each in a fresh child process (peak = ru_maxrss of the child minus
  its RSS before listing); repeated `--repeats` times in alternating candidate order (A B C, C B A…),
  medians printed.
- storage: per storage (SQLite as the repo's dagster.yaml, PostgreSQL as deploy/dagster.postgres.yaml on a
  throwaway cluster): records "everything materialized" (B: every month × instrument; A and C: the first
  `--materialized-instruments` instruments × every session, a stated subset), then times the code server's
  load of the definitions and the GraphQL queries the asset page runs (`PartitionHealthQuery` with
  `assetPartitionStatuses`, `AssetStaleStatusQuery` with `partitionStats`, copied from the UI bundle of
  dagster-webserver 1.13.27), cold (the asset's status cache wiped first, so Dagster rebuilds it from the
  event log) and warm, alternating candidate order per repeat.
- catalog: files per instrument-decade and materialization events per nightly, by arithmetic.
- backtest: the declared `sma_cross` backtest of one instrument over the whole history (`--first`..`--last`)
  on synthetic 1-minute bars written through the store (`scale_backtest.py`, each step in its own child
  process): month files it read, bars, wall time (inputs vs engine and artefacts), µs a bar, peak RSS.
Never asserts on timing. More measurements can be added as functions returning a `Table` of `Row`s.

The full default run took 36 minutes on the 2-core machine at a load average of 7 to 10 (other jobs running);
the figures and their reading are in docs/concepts/partitions-at-scale.md.
"""

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # scale_defs, and this tree's packages first

from scale_defs import (  # noqa: E402
    ASSET_NAME,
    CANDIDATES,
    DATE_DIMENSION,
    DESCRIPTIONS,
    INSTRUMENT_DIMENSION,
    History,
    asset_name_for,
    build_candidate,
    months_between,
    nyse_sessions,
)

SECTIONS = ("partitions", "storage", "catalog", "backtest")
STORAGES = ("sqlite", "postgres")
BATCH = 1000  # events per batch write
MB = 1024 * 1024

# The asset page's queries, as the UI of dagster-webserver 1.13.27 sends them.
PARTITION_HEALTH_QUERY = """
query PartitionHealthQuery($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode {
      id
      partitionKeysByDimension { name type partitionKeys }
      assetPartitionStatuses {
        ... on TimePartitionStatuses { ranges { status startTime endTime startKey endKey } }
        ... on DefaultPartitionStatuses { materializedPartitions materializingPartitions failedPartitions }
        ... on MultiPartitionStatuses {
          primaryDimensionName
          ranges {
            primaryDimStartKey primaryDimEndKey primaryDimStartTime primaryDimEndTime
            secondaryDim {
              ... on TimePartitionStatuses { ranges { status startTime endTime startKey endKey } }
              ... on DefaultPartitionStatuses {
                materializedPartitions materializingPartitions failedPartitions
              }
            }
          }
        }
      }
    }
  }
}
"""
ASSET_STALE_STATUS_QUERY = """
query AssetStaleStatusQuery($assetKeys: [AssetKeyInput!]!) {
  assetNodes(assetKeys: $assetKeys) {
    id
    assetKey { path }
    isMaterializable
    staleStatus
    partitionStats { numMaterialized numMaterializing numPartitions numFailed }
  }
}
"""


# ---------------------------------------------------------------------------------------------------------
# Results table


@dataclass
class Row:
    """One measured figure per candidate; `ratio` says whether B/A and C/A mean something for it."""

    label: str
    values: dict[str, float | None]
    fmt: str = "{:,.2f}"
    ratio: bool = True
    note: str = ""


@dataclass
class Table:
    title: str
    rows: list[Row] = field(default_factory=list)
    single: bool = False  # one value per row (key ""), not one per candidate


def progress(message: str) -> None:
    """What the benchmark is doing, on stderr, so a long run shows where its time goes."""
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _cell(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else fmt.format(value)


def _ratio(row: Row, candidate: str) -> str:
    base, other = row.values.get("A"), row.values.get(candidate)
    if not row.ratio or base in (None, 0) or other is None:
        return ""
    return f"{other / base:.3g}"


def print_single(table: Table) -> None:
    width = max([len(r.label) for r in table.rows] + [40])
    print(f"\n## {table.title}")
    for row in table.rows:
        line = f"{row.label:{width}}  {_cell(row.values.get(''), row.fmt):>14}"
        print(line + (f"  {row.note}" if row.note else ""))
    sys.stdout.flush()


def print_table(table: Table) -> None:
    if table.single:
        print_single(table)
        return
    heads = [f"{c} {DESCRIPTIONS[c]}" for c in CANDIDATES]
    width = max([len(r.label) for r in table.rows] + [40])
    print(f"\n## {table.title}")
    print(f"{'':{width}}  " + "  ".join(f"{h:>30}" for h in heads) + f"  {'B/A':>8}  {'C/A':>8}")
    for row in table.rows:
        cells = "  ".join(f"{_cell(row.values.get(c), row.fmt):>30}" for c in CANDIDATES)
        line = f"{row.label:{width}}  {cells}  {_ratio(row, 'B'):>8}  {_ratio(row, 'C'):>8}"
        print(line + (f"  {row.note}" if row.note else ""))
    sys.stdout.flush()


def median_row(label: str, samples: dict[str, list[float]], fmt: str = "{:,.2f}", note: str = "") -> Row:
    return Row(label, {c: statistics.median(v) if v else None for c, v in samples.items()}, fmt, note=note)


def alternating(repeat: int, candidates: Sequence[str]) -> list[str]:
    """A B C on even repeats, C B A on odd ones, so a drifting machine load does not favour one."""
    return list(candidates) if repeat % 2 == 0 else list(reversed(candidates))


# ---------------------------------------------------------------------------------------------------------
# Section "partitions": definitions and partition keys, each in a fresh child process


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure_definitions_child(candidate: str, history: History) -> dict[str, float]:
    """In a child: build the candidate's definitions, then list every asset's partition keys."""
    started = time.perf_counter()
    defs = build_candidate(candidate, history)
    repository = defs.get_repository_def()
    build_s = time.perf_counter() - started
    assets = [a for a in repository.assets_defs_by_key.values() if a.partitions_def is not None]
    rss_before = _rss_bytes()
    started = time.perf_counter()
    counts = [len(a.partitions_def.get_partition_keys()) for a in assets]
    list_s = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "build_s": build_s,
        "list_s": list_s,
        "list_mb": max(peak - rss_before, 0) / MB,
        "peak_mb": peak / MB,
        "assets": len(assets),
        "partitions_per_asset": max(counts),
        "partitions_total": sum(counts),
    }


def run_definitions_child(candidate: str, history: History) -> dict[str, float]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", candidate]
    command += ["--instruments", str(history.instruments), "--first", str(history.first)]
    command += ["--last", str(history.last)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"definitions child for candidate {candidate} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_partitions(history: History, repeats: int) -> Table:
    samples: dict[str, dict[str, list[float]]] = {}
    for repeat in range(repeats):
        for candidate in alternating(repeat, CANDIDATES):
            progress(f"definitions and partition keys of candidate {candidate} (run {repeat + 1})")
            result = run_definitions_child(candidate, history)
            for name, value in result.items():
                samples.setdefault(name, {c: [] for c in CANDIDATES})[candidate].append(value)
    integer = "{:,.0f}"
    table = Table(f"Definitions and partition keys ({repeats} runs each, alternating order, medians)")
    table.rows += [
        median_row("partitions per asset", samples["partitions_per_asset"], integer),
        median_row("assets", samples["assets"], integer),
        median_row("partitions, all assets", samples["partitions_total"], integer),
        median_row("definitions build, s", samples["build_s"], "{:,.3f}"),
        median_row("list all partition keys, s", samples["list_s"], "{:,.3f}"),
        median_row("list all partition keys, MB (peak - before)", samples["list_mb"], "{:,.0f}"),
        median_row("child peak RSS, MB", samples["peak_mb"], "{:,.0f}"),
    ]
    return table


# ---------------------------------------------------------------------------------------------------------
# Section "storage": materialization events, code server load, GraphQL


def materialized_scope(candidate: str, history: History, subset: int) -> tuple[list[str], list[str]]:
    """(instruments, date keys) recorded as materialized: B all of them, A and C the stated subset."""
    instruments = history.instrument_ids
    if candidate == "B":
        return instruments, [m.isoformat() for m in months_between(history.first, history.last)]
    sessions = [s.isoformat() for s in nyse_sessions(history.first, history.last)]
    return instruments[: min(subset, len(instruments))], sessions


def materializations(candidate: str, instruments: list[str], dates: list[str]) -> Iterator:
    """One `AssetMaterialization` per partition, tagged as a run tags them (partition dimensions and a
    data version, both indexed by the event log)."""
    import dagster as dg

    for instrument in instruments:
        for date in dates:
            tags = {"dagster/data_version": f"{instrument}-{date}"}
            if candidate == "C":
                key, partition = dg.AssetKey([ASSET_NAME, asset_name_for(instrument)]), date
            else:
                key = dg.AssetKey(ASSET_NAME)
                partition = dg.MultiPartitionKey({DATE_DIMENSION: date, INSTRUMENT_DIMENSION: instrument})
                tags |= {f"dagster/partition/{DATE_DIMENSION}": date}
                tags |= {f"dagster/partition/{INSTRUMENT_DIMENSION}": instrument}
            yield dg.AssetMaterialization(asset_key=key, partition=partition, tags=tags)


def runless_entry(materialization) -> object:
    """The event log entry `instance.report_runless_asset_event` builds for a materialization."""
    from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
    from dagster._core.events.log import EventLogEntry

    event = DagsterEvent(
        event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
        event_specific_data=StepMaterializationData(materialization),
        job_name="",
    )
    return EventLogEntry(
        user_message="",
        level=20,
        job_name="",
        run_id="",
        error_info=None,
        timestamp=time.time(),
        step_key=None,
        dagster_event=event,
    )


def store_batch(storage, entries: list) -> None:
    """Dagster's batch write. PostgreSQL's `store_event_batch` inserts the batch in one statement; SQLite's
    (the base class's) stores events one at a time, two connections and transactions each, so for SQLite
    this issues the same statements as PostgreSQL's batch path: one multi-row insert into the index shard
    (where every asset query reads), the indexed tags, and the asset's row from the last event."""
    from dagster._core.storage.event_log.base import EventLogStorage
    from dagster._core.storage.event_log.schema import SqlEventLogStorageTable

    if type(storage).store_event_batch is not EventLogStorage.store_event_batch:
        storage.store_event_batch(entries)
        return
    statement = storage.prepare_insert_event_batch(entries).returning(SqlEventLogStorageTable.c.id)
    with storage.index_connection() as conn:
        ids = [int(row[0]) for row in conn.execute(statement)]
    storage.store_asset_event_tags(entries, ids)
    storage.store_asset_event(entries[-1], ids[-1])


@dataclass
class Recorded:
    events: int
    api_ms_per_event: float  # instance.report_runless_asset_event, one event per call
    batch_s: float  # the rest, in batches of BATCH
    batch_events: int


def record_materializations(
    instance, candidate: str, history: History, subset: int, api_sample: int
) -> Recorded:
    instruments, dates = materialized_scope(candidate, history, subset)
    events = materializations(candidate, instruments, dates)
    started = time.perf_counter()
    sampled = 0
    for _, materialization in zip(range(api_sample), events, strict=False):
        instance.report_runless_asset_event(materialization)
        sampled += 1
    api_ms = (time.perf_counter() - started) / max(sampled, 1) * 1000
    started, written = time.perf_counter(), 0
    while batch := [runless_entry(m) for _, m in zip(range(BATCH), events, strict=False)]:
        store_batch(instance.event_log_storage, batch)
        written += len(batch)
    return Recorded(sampled + written, api_ms, time.perf_counter() - started, written)


def instance_config(storage: str, base_dir: Path, postgres: dict | None) -> str:
    if storage == "sqlite":
        return f"storage:\n  sqlite:\n    base_dir: {base_dir / 'storage'}\ntelemetry:\n  enabled: false\n"
    assert postgres is not None
    db = "\n".join(f"      {k}: {v}" for k, v in postgres.items())
    return f"storage:\n  postgres:\n    postgres_db:\n{db}\ntelemetry:\n  enabled: false\n"


@contextmanager
def postgres_databases(names: Sequence[str]) -> Iterator[dict[str, dict]]:
    """A throwaway PostgreSQL 15 cluster (the tests' initdb/pg_ctl harness) with one database per name."""
    import psycopg2

    from ntrader_pipeline_tests.ops.postgres_cluster import throwaway_postgres

    with throwaway_postgres() as cluster:
        conn = psycopg2.connect(
            host=cluster.host, port=cluster.port, user=cluster.user, dbname=cluster.db_name
        )
        conn.autocommit = True
        with conn.cursor() as cursor:
            for name in names:
                cursor.execute(f"CREATE DATABASE {name}")
        conn.close()
        yield {
            name: {
                "hostname": cluster.host,
                "port": cluster.port,
                "db_name": name,
                "username": cluster.user,
                "password": '""',
                "scheme": "postgresql+psycopg2",  # SQLAlchemy 2.1 picks no driver for plain postgresql
            }
            for name in names
        }


def partitions_per_asset(candidate: str, history: History) -> int:
    """Independent of Dagster: sessions (or months) × instruments for A (B), sessions for C."""
    sessions = len(nyse_sessions(history.first, history.last))
    months = len(months_between(history.first, history.last))
    return {"A": sessions * history.instruments, "B": months * history.instruments, "C": sessions}[candidate]


def query_keys(candidate: str, history: History) -> tuple[list[str], list[list[str]]]:
    """(the asset page's asset, the assets whose partitionStats one catalog query asks for)."""
    if candidate == "C":
        paths = [[ASSET_NAME, asset_name_for(i)] for i in history.instrument_ids]
        return paths[0], paths
    return [ASSET_NAME], [[ASSET_NAME]]


def timed_graphql(process_context, query: str, variables: dict) -> tuple[float, dict]:
    """One query in a fresh request context, as the webserver serves each HTTP request."""
    from dagster_graphql.test.utils import execute_dagster_graphql

    started = time.perf_counter()
    result = execute_dagster_graphql(process_context.create_request_context(), query, variables)
    elapsed = time.perf_counter() - started
    if result.errors:
        raise RuntimeError(f"GraphQL errors: {result.errors}")
    return elapsed, result.data


def check_partition_stats(data: dict, candidate: str, expected: Recorded, per_asset: int) -> None:
    """The catalog query must report what was recorded: else the timings measured something else."""
    nodes = data["assetNodes"]
    materialized = sum(node["partitionStats"]["numMaterialized"] for node in nodes)
    partitions = {node["partitionStats"]["numPartitions"] for node in nodes}
    if materialized != expected.events or partitions != {per_asset}:
        raise RuntimeError(
            f"candidate {candidate}: partitionStats reports {materialized} materialized of {partitions} per "
            f"asset, but {expected.events} partitions were recorded of {per_asset} per asset"
        )


def wipe_status_cache(instance, paths: list[list[str]]) -> None:
    import dagster as dg

    for path in paths:
        instance.event_log_storage.wipe_asset_cached_status(dg.AssetKey(path))


GRAPHQL_TIMINGS = ("health_cold", "health_warm", "stats_cold", "stats_warm")


def time_queries(
    instance, process_context, candidate: str, history: History
) -> tuple[dict[str, float], dict]:
    page_asset, catalog_assets = query_keys(candidate, history)
    health = {"assetKey": {"path": page_asset}}
    stats = {"assetKeys": [{"path": p} for p in catalog_assets]}
    wipe_status_cache(instance, catalog_assets)
    health_cold, _ = timed_graphql(process_context, PARTITION_HEALTH_QUERY, health)
    health_warm, _ = timed_graphql(process_context, PARTITION_HEALTH_QUERY, health)
    wipe_status_cache(instance, catalog_assets)
    stats_cold, _ = timed_graphql(process_context, ASSET_STALE_STATUS_QUERY, stats)
    stats_warm, data = timed_graphql(process_context, ASSET_STALE_STATUS_QUERY, stats)
    timings = (health_cold, health_warm, stats_cold, stats_warm)
    return dict(zip(GRAPHQL_TIMINGS, timings, strict=True)), data


@dataclass
class StorageRun:
    recorded: dict[str, Recorded]
    load_s: dict[str, float]
    timings: dict[str, dict[str, list[float]]]


def measure_storage(storage: str, history: History, repeats: int, subset: int, api_sample: int) -> StorageRun:
    from dagster import DagsterInstance
    from dagster_graphql.test.utils import define_out_of_process_workspace

    os.environ.update(history.to_env())  # the code servers read the universe from here
    run = StorageRun({}, {}, {t: {c: [] for c in CANDIDATES} for t in GRAPHQL_TIMINGS})
    with ExitStack() as stack:
        postgres = (
            stack.enter_context(postgres_databases([f"cand_{c.lower()}" for c in CANDIDATES]))
            if storage == "postgres"
            else {}
        )
        contexts = {}
        for candidate in CANDIDATES:
            home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"scale-{candidate}-")))
            (home / "dagster.yaml").write_text(
                instance_config(storage, home, postgres.get(f"cand_{candidate.lower()}"))
            )
            instance = stack.enter_context(DagsterInstance.from_config(str(home)))
            progress(f"[{storage}] recording candidate {candidate}'s materializations")
            run.recorded[candidate] = record_materializations(
                instance, candidate, history, subset, api_sample
            )
            progress(f"[{storage}] loading candidate {candidate} in a code server")
            started = time.perf_counter()
            target, attribute = str(HERE / "scale_defs.py"), f"candidate_{candidate.lower()}"
            process_context = stack.enter_context(
                define_out_of_process_workspace(target, attribute, instance)
            )
            if errors := process_context.create_request_context().code_location_errors():
                raise RuntimeError(f"candidate {candidate} did not load: {errors}")
            run.load_s[candidate] = time.perf_counter() - started
            contexts[candidate] = (instance, process_context)
        for repeat in range(repeats):
            for candidate in alternating(repeat, CANDIDATES):
                progress(f"[{storage}] GraphQL queries of candidate {candidate} (run {repeat + 1})")
                timings, stats = time_queries(*contexts[candidate], candidate, history)
                check_partition_stats(
                    stats, candidate, run.recorded[candidate], partitions_per_asset(candidate, history)
                )
                for name, seconds in timings.items():
                    run.timings[name][candidate].append(seconds)
    return run


def storage_rows(storage: str, run: StorageRun) -> list[Row]:
    def per(getter: Callable[[Recorded], float]) -> dict[str, float | None]:
        return {c: getter(r) for c, r in run.recorded.items()}

    s = f"[{storage}]"
    return [
        Row(f"{s} events recorded (materialized partitions)", per(lambda r: r.events), "{:,.0f}"),
        Row(f"{s} one event per call, ms/event", per(lambda r: r.api_ms_per_event), ratio=False),
        Row(f"{s} batch write, s", per(lambda r: r.batch_s)),
        Row(
            f"{s} batch write, ms/event",
            per(lambda r: r.batch_s / max(r.batch_events, 1) * 1000),
            ratio=False,
        ),
        Row(f"{s} code server load of the definitions, s", dict(run.load_s)),
        median_row(f"{s} PartitionHealthQuery cold, s", run.timings["health_cold"], "{:,.3f}"),
        median_row(f"{s} PartitionHealthQuery warm, s", run.timings["health_warm"], "{:,.3f}"),
        median_row(
            f"{s} partitionStats (AssetStaleStatusQuery) cold, s", run.timings["stats_cold"], "{:,.3f}"
        ),
        median_row(
            f"{s} partitionStats (AssetStaleStatusQuery) warm, s", run.timings["stats_warm"], "{:,.3f}"
        ),
    ]


# ---------------------------------------------------------------------------------------------------------
# Section "catalog": arithmetic


def catalog_arithmetic(history: History) -> Table:
    sessions = len(nyse_sessions(history.first, history.last))
    months = len(months_between(history.first, history.last))
    n = history.instruments
    per_instrument = {"A": sessions, "B": months, "C": sessions}
    table = Table("Catalog files and events (arithmetic; per bar type)")
    table.rows += [
        Row("catalog files per instrument over the history", dict(per_instrument), "{:,.0f}"),
        Row(f"catalog files, {n} instruments", {c: v * n for c, v in per_instrument.items()}, "{:,.0f}"),
        Row(
            f"materialization events per nightly, {n} instruments",
            {"A": 2 * n, "B": n, "C": n},
            "{:,.0f}",
            note="A: 2 per stored session today (live + run summary); B, C: 1 per partition",
        ),
        Row(
            "partitions a nightly materializes per instrument",
            {"A": 1, "B": 1, "C": 1},
            "{:,.0f}",
            ratio=False,
        ),
    ]
    return table


# ---------------------------------------------------------------------------------------------------------
# Section "backtest": the declared backtest over the whole history of one instrument, in child processes


def run_backtest_child(*arguments: str) -> dict:
    command = [sys.executable, str(HERE / "scale_backtest.py"), *arguments]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"backtest child {arguments[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_backtest(history: History) -> Table:
    first, last = history.first.isoformat(), history.last.isoformat()
    with tempfile.TemporaryDirectory(prefix="scale-backtest-") as tmp:
        catalog = str(Path(tmp) / "catalog")
        progress(f"writing 1-minute bars of one instrument, sessions {first}..{last}, through the store")
        written = run_backtest_child("write", catalog, first, last)
        progress("running the declared sma_cross backtest on them")
        started = time.perf_counter()
        ran = run_backtest_child("run", catalog, first, last, str(Path(tmp) / "backtests"))
        child_s = time.perf_counter() - started
    total_s = ran["inputs_s"] + ran["run_s"]
    integer, one = "{:,.0f}", "{:,.1f}"
    table = Table(
        f"Declared backtest sma_cross on SPY.ARCA (its own index), sessions {ran['window_start']}.."
        f"{ran['window_end']}: synthetic RTH 1-minute bars, one child process",
        single=True,
    )
    table.rows += [
        Row("sessions", {"": ran["sessions"]}, integer),
        Row("bars", {"": ran["bars"]}, integer),
        Row("month files written", {"": written["files"]}, integer, note=f"in {written['write_s']:.1f} s"),
        Row("bar files the backtest read (manifest)", {"": ran["bar_files"]}, integer),
        Row("catalog files in the manifest", {"": ran["catalog_files"]}, integer, note="bars + definition"),
        Row("fills", {"": ran["fills"]}, integer),
        Row(
            "inputs, s",
            {"": ran["inputs_s"]},
            note="load_backtest_inputs: gate, read + decode bars, hash files",
        ),
        Row(
            "engine run and artefacts, s",
            {"": ran["run_s"]},
            note="run_on_inputs: engine, frames, benchmarks, manifest, files",
        ),
        Row("  of which engine run + result frames, s", {"": ran["strategy_s"]}, note="run_strategy"),
        Row("backtest total, s", {"": total_s}, note="run_declared_backtest = the two above"),
        Row("child process wall time, s", {"": child_s}, note="with Python start and imports"),
        Row("µs per bar (backtest total)", {"": total_s / ran["bars"] * 1e6}, one),
        Row("RSS after imports, MB", {"": ran["rss_before_mb"]}, integer),
        Row("peak RSS, MB", {"": ran["peak_mb"]}, integer, note="ru_maxrss of the child"),
    ]
    return table


# ---------------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instruments", type=int, default=500)
    parser.add_argument("--first", type=dt.date.fromisoformat, default=dt.date(2016, 1, 4))
    parser.add_argument("--last", type=dt.date.fromisoformat, default=dt.date(2025, 12, 31))
    parser.add_argument("--storage", choices=[*STORAGES, "both"], default="both")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma list of {', '.join(SECTIONS)}")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--materialized-instruments", type=int, default=20, help="A and C's materialized subset"
    )
    parser.add_argument("--api-sample", type=int, default=100, help="events written one per call, timed")
    parser.add_argument("--child", choices=CANDIDATES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(
            f"--only: unknown section(s) {', '.join(sorted(unknown))}; pick from {', '.join(SECTIONS)}"
        )
    if args.last < args.first:
        parser.error(f"--last {args.last} is before --first {args.first}")
    return args


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def print_header(history: History) -> None:
    import dagster

    print(
        f"scale benchmark: {history.instruments} instruments, NYSE sessions {history.first}..{history.last}"
    )
    print(f"dagster {dagster.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average at start: {load_average()}")
    print("command: .venv/bin/python benchmarks/scale.py " + " ".join(sys.argv[1:]))


def measure_storages(args: argparse.Namespace, history: History) -> Table:
    subset = min(args.materialized_instruments, history.instruments)
    table = Table(
        f"Storage and GraphQL (B: every partition materialized; A, C: {subset} instruments × every session; "
        f"{args.repeats} runs, alternating order, medians)"
    )
    storages = STORAGES if args.storage == "both" else (args.storage,)
    rows = [
        storage_rows(storage, measure_storage(storage, history, args.repeats, subset, args.api_sample))
        for storage in storages
    ]
    for group in zip(*rows, strict=True):  # each figure's storages side by side
        table.rows += group
    return table


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    history = History(args.instruments, args.first, args.last)
    if args.child:
        print(json.dumps(measure_definitions_child(args.child, history)))
        return
    sections = args.only.split(",")
    print_header(history)
    started = time.perf_counter()
    if "catalog" in sections:
        print_table(catalog_arithmetic(history))
    if "partitions" in sections:
        print_table(measure_partitions(history, args.repeats))
    if "storage" in sections:
        print_table(measure_storages(args, history))
    if "backtest" in sections:
        print_table(measure_backtest(history))
    print(f"\nwall time {time.perf_counter() - started:,.0f} s; load average at end: {load_average()}")


if __name__ == "__main__":
    main()
