"""Reliability table for runs: killed, interrupted and concurrent CLI runs of the bars asset.

Each row runs `dagster asset materialize` as a subprocess against the embedded gateway, slowed per
session (`Fault(delay=…)`, one request in flight) so a run can be stopped in the middle of its range, and
states what must hold. A range is of month partitions narrowed to sessions by the run config; a month is
recorded when its last requested session settles, so a stopped range spans two months:

| fault                          | expected outcome                                                         |
|--------------------------------|--------------------------------------------------------------------------|
| SIGKILL of a CLI run mid-range | the step stops (no orphan); the months it completed stay recorded, the   |
|                                | month it was in is not; the next run marks the dead run failed in a log  |
|                                | line naming it, frees its `ibkr` slot and proceeds; the catalog reads    |
|                                | back whole; stale staging goes on the next write                         |
| SIGKILL of the run holding the | the run already waiting for the slot finds the dead run on its next      |
| slot while another one waits   | round (every 15 s), names it in its log, frees the slot and proceeds     |
| SIGTERM of a CLI run mid-range | the run is marked failed, the step stops, every session it wrote is in   |
|                                | the catalog and every month it completed is a materialized partition     |
|                                | (the month it was in is not)                                             |
| the same range twice at once   | both succeed one after the other (pool `ibkr`), each session once in its |
|                                | month file with the same bytes as a lone run, no slot left held          |

Waits are bounded (subprocess timeouts, `wait_until`), so a regression fails instead of hanging. Daemon
and UI launched runs are covered by `run_monitoring` in every instance file (test_deploy_configs.py).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ntrader_pipeline.catalog.store import STALE_STAGING_S
from ntrader_pipeline.gateway import Fault
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.runtime.guarded_executor import REAP_INTERVAL_S
from ntrader_pipeline.runtime.process_tags import RUN_HOST_TAG, RUN_PID_TAG
from ntrader_pipeline_tests.cli import DAGSTER, LoggedProcesses, dagster_home, run_env, sessions_config

pytestmark = pytest.mark.long_running(minutes=4)  # started first under xdist (tiers.order_for_workers)

BAR_TYPE = "SPY.ARCA-1-MINUTE-LAST-EXTERNAL"
ASSET = dg.AssetKey("bars_1_minute")
FIRST, LAST = "2024-01-29", "2024-02-09"  # 10 sessions: 3 in January, 7 in February
JANUARY, FEBRUARY = "2024-01-01|SPY.ARCA", "2024-02-01|SPY.ARCA"
RANGE = f"{JANUARY}...{FEBRUARY}"
SESSION_DELAY_S = 1.5  # per session, one at a time: a range takes ~15 s, so a stop in the middle is easy
STOP_AFTER_FILES = 4  # January's 3 sessions and February's first: January completed, February not
RUN_TIMEOUT_S = 180  # bound for a whole CLI run (code location load included) on a busy machine
STOP_BOUND_S = 60  # bound for a stopped step to be gone (the watchdog's grace is 20 s)


def wait_until(predicate: Callable[[], object], timeout_s: float, what: str) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def session_files(catalog: Path) -> dict[str, str]:
    """Each stored session of the minute bars (its date), with the sha256 of its rows in its month file;
    only month files are in the directory (anything else fails `month_of_file`)."""
    from ntrader_pipeline.catalog.month_files import month_of_file, session_index

    directory = catalog / "data" / "bar" / BAR_TYPE
    found = {}
    for path in sorted(directory.glob("*.parquet")):
        assert month_of_file(path.name) is not None, f"{path.name} is not a month file"
        # One open handle: a writer may replace the month file (an atomic rename) while it is read.
        with path.open("rb") as handle:
            table = pq.read_table(handle)
        for day, (first, rows) in session_index(table.schema, table.num_rows).items():
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema.remove_metadata()) as writer:
                writer.write_table(table.slice(first, rows).replace_schema_metadata(None))
            found[day.isoformat()] = hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()
    return found


def file_date(name: str) -> str:
    return name[:10]


def sessions_args(first: str = FIRST, last: str = LAST, in_process: bool = False) -> tuple[str, str]:
    """The bars run config narrowing the run's months to the sessions `first`..`last`."""
    return "--config-json", sessions_config(first, last, ASSET.path[-1], in_process=in_process)


@pytest.fixture
def cli(ib_gateway, storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRuns]:
    runs = CliRuns(tmp_path, ib_gateway, Path(storage.catalog))
    monkeypatch.chdir(runs.home)  # dagster.yaml's storage paths are relative to the working directory
    yield runs
    runs.stop_all()  # nothing a failed test started outlives it: the runs' groups, their steps too


class CliRuns(LoggedProcesses):
    def __init__(self, tmp_path: Path, gateway, catalog: Path) -> None:
        home = dagster_home(tmp_path)
        # One request in flight: the per-session delay then paces the run session by session (with IB's
        # 8 at once a range would be answered in one delay, with no middle to stop in).
        env = run_env(home, gateway, catalog, IB_MAX_OPEN_REQUESTS="1")
        super().__init__(home, env, tmp_path / "logs")
        self.catalog = catalog

    def start(self, name: str, *partition_args: str) -> subprocess.Popen:
        command = [DAGSTER, "asset", "materialize", "-m", "ntrader_pipeline.definitions"]
        return self.popen(name, [*command, "--select", "bars_1_minute", *partition_args])

    def finish(self, process: subprocess.Popen, name: str) -> str:
        try:
            process.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            tail = self.log(name)[-3000:]
            raise AssertionError(f"{name} did not end within {RUN_TIMEOUT_S} s:\n{tail}") from exc
        assert process.returncode == 0, self.log(name)[-3000:]
        return self.log(name)


def materialized(instance: dg.DagsterInstance) -> set[str]:
    return set(instance.get_materialized_partitions(ASSET))


def step_failures(instance: dg.DagsterInstance, run_id: str) -> str:
    """What the run's failed steps said, from the event log (what the UI shows). The console is no
    witness for a step whose run's process is gone: Dagster mirrors a step's output to it with a `tail`
    that polls once a second and is stopped when the step ends, so its last lines may never arrive."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    return "\n".join(
        record.event_log_entry.dagster_event.step_failure_data.error.to_string() for record in records
    )


def held_slots(instance: dg.DagsterInstance) -> set[str]:
    return set(instance.event_log_storage.get_concurrency_run_ids())


def start_slow_range(
    cli: CliRuns, ib_gateway, name: str, in_process: bool = False
) -> tuple[subprocess.Popen, list[int]]:
    """A range run, caught while its step is in the middle of the range (in its second month)."""
    ib_gateway.faults.script("SPY", Fault(delay=SESSION_DELAY_S))
    process = cli.start(name, "--partition-range", RANGE, *sessions_args(in_process=in_process))
    wait_until(
        lambda: len(session_files(cli.catalog)) >= STOP_AFTER_FILES if cli.catalog.exists() else False,
        RUN_TIMEOUT_S,
        f"{STOP_AFTER_FILES} sessions written by {name}",
    )
    assert process.poll() is None, cli.log(name)[-3000:]
    return process, children(process.pid)


def assert_catalog_whole(cli: CliRuns, dates: list[str]) -> None:
    """Exactly the sessions `dates` in month files, 390 readable bars each, nothing else, nothing staged."""
    store_files = session_files(cli.catalog)
    assert sorted(file_date(n) for n in store_files) == dates
    from ntrader_pipeline.catalog.store import CatalogStore

    store = CatalogStore(cli.catalog)
    assert len(store.read_bars(BAR_TYPE, sessions_between(dates[0], dates[-1]))) == 390 * len(dates)


def test_sigkill_mid_range_next_run_frees_the_slot_names_the_dead_run_and_no_step_outlives_it(
    cli: CliRuns, ib_gateway
) -> None:
    killed, kids = start_slow_range(cli, ib_gateway, "killed")
    assert kids, "the multiprocess executor runs the step in a child process"
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=10)
    killed_at = time.monotonic()

    # No step process outlives its run: the step notices its parent is gone and stops between sessions.
    wait_until(lambda: not any(alive(k) for k in kids), STOP_BOUND_S, f"step processes {kids} to stop")
    orphan_s = time.monotonic() - killed_at
    written = session_files(cli.catalog)
    assert STOP_AFTER_FILES <= len(written) < len(sessions_between(FIRST, LAST)), "it stopped mid-range"

    with cli.instance() as instance:
        (dead,) = instance.get_runs()
        said = step_failures(instance, dead.run_id)
        assert "stopped after" in said and "is gone (killed?)" in said, cli.log("killed")[-6000:]
        assert dead.status == dg.DagsterRunStatus.STARTED  # nobody was left to say otherwise
        # The pid the executor tagged is the run's process, as Dagster itself recorded it at RUN_START.
        assert dead.tags[RUN_PID_TAG] == str(killed.pid)
        (start,) = instance.get_records_for_run(dead.run_id, of_type=dg.DagsterEventType.RUN_START).records
        assert start.event_log_entry.dagster_event.pid == killed.pid
        assert dead.tags[RUN_HOST_TAG]
        assert dead.run_id in held_slots(instance)  # the slot that blocked every later run
        recorded = materialized(instance)
    # Nothing lost: January was recorded when its last session settled; February, cut short, is not.
    assert {"2024-01-29", "2024-01-30", "2024-01-31"} <= set(written)
    assert recorded == {JANUARY}

    # A killed writer's staging leftovers: an old one goes on the next write, a fresh one stays.
    staging = cli.catalog / ".staging"
    old, fresh = staging / "tmp_killed_writer", staging / "tmp_concurrent_writer"
    for leftover in (old, fresh):
        (leftover / "data").mkdir(parents=True)
        (leftover / "data" / "half.parquet").write_bytes(b"PAR1")
    stale = time.time() - STALE_STAGING_S - 60
    os.utime(old, (stale, stale))

    ib_gateway.faults.clear()
    started = time.monotonic()
    log = cli.finish(cli.start("next", "--partition-range", RANGE, *sessions_args()), "next")
    next_run_s = time.monotonic() - started
    named = f"run {dead.run_id} (__ASSET_JOB, process {killed.pid} on this host) was STARTED"
    assert f"{named} but its process is gone" in log
    assert "marked failed, its pool slots were freed" in log
    assert "Step blocked by limit for pool ibkr" not in log

    with cli.instance() as instance:
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert held_slots(instance) == set()
        dates = [s.key for s in sessions_between(FIRST, LAST)]
        assert materialized(instance) == {JANUARY, FEBRUARY}
    assert_catalog_whole(cli, dates)
    assert not old.exists() and fresh.exists()
    print(f"\nSIGKILL row: step gone {orphan_s:.1f} s after the kill; next run done in {next_run_s:.1f} s")


def test_sigkill_of_the_slot_holder_while_another_run_waits_for_it(cli: CliRuns, ib_gateway) -> None:
    # The holder runs its step in its own process (no child): after kill -9 nothing is left of it.
    ib_gateway.faults.script("SPY", Fault(delay=SESSION_DELAY_S))
    holder = cli.start("holder", "--partition-range", RANGE, *sessions_args(in_process=True))
    first_session = "the holder's first session"
    wait_until(lambda: cli.catalog.exists() and session_files(cli.catalog), RUN_TIMEOUT_S, first_session)
    march = ("--partition", "2024-03-01|SPY.ARCA", *sessions_args("2024-03-01", "2024-03-04"))
    waiting = cli.start("waiting", *march)
    blocked = "Step blocked by limit for pool ibkr"
    wait_until(lambda: blocked in cli.log("waiting"), RUN_TIMEOUT_S, "the second run to wait for the slot")
    with cli.instance() as instance:
        (holder_run,) = [r for r in instance.get_runs() if r.tags.get(RUN_PID_TAG) == str(holder.pid)]
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    killed_at = time.monotonic()
    ib_gateway.faults.clear()

    log = cli.finish(waiting, "waiting")
    freed_s = time.monotonic() - killed_at
    assert f"run {holder_run.run_id} (__ASSET_JOB, process {holder.pid} on this host) was STARTED" in log
    with cli.instance() as instance:
        assert instance.get_run_by_id(holder_run.run_id).status == dg.DagsterRunStatus.FAILURE
        assert held_slots(instance) == set()
        assert "2024-03-01|SPY.ARCA" in materialized(instance)
    assert {"2024-03-01", "2024-03-04"} <= set(session_files(cli.catalog))
    print(f"\nwaiting row: done {freed_s:.1f} s after the kill (rounds of {REAP_INTERVAL_S:.0f} s)")


@pytest.mark.parametrize("in_process", [False, True], ids=["step-in-a-child", "step-in-process"])
def test_sigterm_mid_range_fails_the_run_and_keeps_the_written_sessions_recorded(
    cli: CliRuns, ib_gateway, in_process: bool
) -> None:
    terminated, kids = start_slow_range(cli, ib_gateway, "terminated", in_process)
    os.kill(terminated.pid, signal.SIGTERM)
    sent = time.monotonic()
    try:
        terminated.wait(timeout=STOP_BOUND_S)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"SIGTERM: the run did not end within {STOP_BOUND_S} s") from exc
    stopped_s = time.monotonic() - sent
    assert terminated.returncode != 0
    wait_until(lambda: not any(alive(k) for k in kids), STOP_BOUND_S, f"step processes {kids} to stop")
    # The step's own words when its handler saw the signal first; Dagster's when the executor passed the
    # interrupt on before the step installed its handler (seen on a loaded machine). Either way it stopped.
    written = session_files(cli.catalog)
    assert STOP_AFTER_FILES <= len(written) < len(sessions_between(FIRST, LAST))
    with cli.instance() as instance:
        (run,) = instance.get_runs()
        said = step_failures(instance, run.run_id) + cli.log("terminated")
        assert any(
            text in said
            for text in ("the run was interrupted (SIGTERM or SIGINT)", "DagsterExecutionInterruptedError")
        ), said[-2000:]
        assert run.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
        assert held_slots(instance) == set()
        # The completed month is recorded, the month stopped in is not; its sessions stay in the catalog.
        assert materialized(instance) == {JANUARY}
    assert {"2024-01-29", "2024-01-30", "2024-01-31"} <= set(written)
    assert_catalog_whole(cli, sorted(file_date(n) for n in written))
    mode = "in process" if in_process else "multiprocess"
    print(f"\nSIGTERM row ({mode}): run ended {stopped_s:.1f} s after the signal, {len(written)} written")


def test_same_range_twice_at_once_no_duplicates_identical_files_no_stuck_slot(
    cli: CliRuns, ib_gateway
) -> None:
    # Both launched in the same moment on an instance in use, as in any deployment. (Processes creating a
    # fresh local SQLite instance at the same moment race in Dagster's schema setup: one run failed with
    # alembic's "table alembic_version already exists" and "more than one head". Not what this row tests.)
    with cli.instance():
        pass
    first, last = "2024-01-02", "2024-01-09"  # 6 sessions of January
    dates = [s.key for s in sessions_between(first, last)]
    args = ("--partition", JANUARY, *sessions_args(first, last))
    ib_gateway.faults.script("SPY", Fault(delay=0.5))
    started = time.monotonic()
    one, two = cli.start("one", *args), cli.start("two", *args)
    logs = [cli.finish(one, "one"), cli.finish(two, "two")]
    both_s = time.monotonic() - started
    # The pool serialises them: when they overlap, one waits for the other's slot, then rewrites the files.
    waited = sum("Step blocked by limit for pool ibkr" in log for log in logs)
    assert waited <= 1

    together = session_files(cli.catalog)
    assert sorted(file_date(n) for n in together) == dates  # each session once, nothing duplicated
    assert_catalog_whole(cli, dates)
    assert not list((cli.catalog / ".staging").iterdir())

    with cli.instance() as instance:
        assert [r.status for r in instance.get_runs()] == [dg.DagsterRunStatus.SUCCESS] * 2
        assert held_slots(instance) == set()
        assert materialized(instance) == {JANUARY}
        # One event per run for the month, each naming the 6 sessions.
        events = instance.fetch_materializations(ASSET, limit=10).records
        assert [e.asset_materialization.metadata["sessions"].value for e in events] == [6, 6]

    # A lone run afterwards gets the slot at once and writes the same bytes.
    ib_gateway.faults.clear()
    log = cli.finish(cli.start("alone", *args), "alone")
    assert "Step blocked by limit for pool ibkr" not in log
    assert session_files(cli.catalog) == together
    print(f"\nconcurrent row: both runs done in {both_s:.1f} s; {waited} waited for the pool")
