"""Reliability table for runs the daemon launches: a killed backfill run, and a CLI run racing a backfill.

`dagster dev` (webserver, daemon with the queued run coordinator, code server) runs on a loopback free
port with a tmp DAGSTER_HOME holding the repo's dagster.yaml with short run-monitoring intervals; bars
come from the test's embedded gateway, slowed per session (one request in flight) so a run can be caught
in the middle. Backfills are of month partitions narrowed to sessions by the run config; a month is recorded
when its last requested session settles, so the killed range spans two months.

| fault                               | expected outcome                                                    |
|-------------------------------------|---------------------------------------------------------------------|
| SIGKILL of a backfill run's worker  | the step stops (no orphan); the month it completed stays recorded,  |
| mid-range                           | the month it was in does not; the code server that started the      |
|                                     | worker marks the run FAILURE in seconds, naming the run and the     |
|                                     | signal;                                                             |
|                                     | the daemon frees its `ibkr` slot (`free_slots_after_run_end_seconds`|
|                                     | later); a second backfill launched right after the kill waits in    |
|                                     | the run queue until then, runs without blocking on the pool and     |
|                                     | completes: one file per session, the killed run's sessions with the |
|                                     | same bytes                                                          |
| a CLI run and a backfill of the     | both succeed, one after the other (the pool, or the run queue,      |
| same partitions at once             | holds one back); one file per session, the same bytes both times,   |
|                                     | no slot left held                                                   |

Every wait is bounded; everything started here runs in its own process group and is killed at the end,
also when the test fails.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import dagster as dg
import pytest
import requests
import yaml

from ntrader_pipeline.cli.ui import free_port
from ntrader_pipeline.gateway import Fault
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.runtime.process_tags import RUN_PID_TAG
from ntrader_pipeline_tests.cli import DAGSTER, LoggedProcesses, dagster_home, run_env, sessions_config
from ntrader_pipeline_tests.ops.test_fault_matrix_runs import (
    ASSET,
    FEBRUARY,
    JANUARY,
    alive,
    assert_catalog_whole,
    children,
    file_date,
    held_slots,
    materialized,
    session_files,
    wait_until,
)
from ntrader_pipeline_tests.ui.graphql import DagsterGraphQL

pytestmark = pytest.mark.long_running(minutes=4)  # started first under xdist (tiers.order_for_workers)

LOCATION = "ntrader_pipeline.definitions"
SESSION_DELAY_S = 1.5  # per session, one at a time
STOP_AFTER_FILES = 4
START_TIMEOUT_S = 300  # dagster dev loads the code location in its code server and in the daemon
BACKFILL_TIMEOUT_S = 300
DEAD_RUN_BOUND_S = 120  # from the kill to the run's FAILURE
STOP_BOUND_S = 60
POLL_S = 2  # run monitoring and slot freeing intervals in the test instance

SENSOR_STATE = """
query Sensor($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) { __typename ... on Sensor { id } }
}
"""
STOP_SENSOR = """
mutation Stop($id: String!) { stopSensor(id: $id) { __typename } }
"""


def short_monitoring_home(tmp_path: Path) -> Path:
    """DAGSTER_HOME with the repo's dagster.yaml, run monitoring polling every few seconds, and no run
    retries (a retry of the killed run would take the range over; the second backfill is what is tested)."""
    home = dagster_home(tmp_path)
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["run_monitoring"]["enabled"] and config["concurrency"]["pools"]["default_limit"] == 1
    if os.environ.get("NTRADER_DAEMON_TEST_MONITORING") != "repo":  # "repo": measure the shipped timings
        config["run_monitoring"].update(poll_interval_seconds=POLL_S, free_slots_after_run_end_seconds=POLL_S)
    config["run_retries"]["enabled"] = False
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


class DaemonInstance(LoggedProcesses):
    """`dagster dev` on loopback, its GraphQL, and `dagster asset materialize` against the same instance."""

    def __init__(self, tmp_path: Path, gateway, catalog: Path) -> None:
        home = short_monitoring_home(tmp_path)
        env = run_env(
            home,
            gateway,
            catalog,
            NTRADER_ARTIFACTS=str(tmp_path / "backtests"),
            NTRADER_REPORTS=str(tmp_path / "reports"),
            # One request in flight: the per-session delay paces the runs session by session.
            IB_MAX_OPEN_REQUESTS="1",
        )
        super().__init__(home, env, tmp_path / "logs")
        self.catalog = catalog
        self.url = ""

    def start_dev(self) -> DagsterGraphQL:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port)]
        command += ["-m", LOCATION]
        dev = self.popen("dev", command)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert dev.poll() is None, f"dagster dev exited:\n{self.log('dev')[-4000:]}"
            with suppress(requests.ConnectionError, requests.Timeout):
                if requests.get(f"{self.url}/server_info", timeout=5).ok:
                    break
            time.sleep(1)
        else:
            raise AssertionError(f"no webserver at {self.url} after {START_TIMEOUT_S} s")
        graphql = DagsterGraphQL(self.url)
        # The downstream refresh sensors would start backtests after each bars run: not this table's
        # subject, and CPU a 2-core machine needs for the runs under test.
        for sensor in ("refresh_backtests_after_bars", "refresh_comparison_after_backtests"):
            selector = {"repositoryName": "__repository__", "repositoryLocationName": LOCATION}
            found = graphql.execute(SENSOR_STATE, {"selector": {**selector, "sensorName": sensor}})
            assert found["sensorOrError"]["__typename"] == "Sensor", found
            graphql.execute(STOP_SENSOR, {"id": found["sensorOrError"]["id"]})
        return graphql

    def materialize(self, name: str, *args: str) -> subprocess.Popen:
        command = [DAGSTER, "asset", "materialize", "-m", LOCATION, "--select", "bars_1_minute", *args]
        return self.popen(name, command)

    def stop_all(self) -> None:
        """Everything started here goes with its process group (dagster dev's code server, daemon and
        run workers belong to its group): SIGINT first, then SIGKILL."""
        super().stop_all(signal.SIGINT)


@pytest.fixture
def daemon(ib_gateway, storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DaemonInstance]:
    running = DaemonInstance(tmp_path, ib_gateway, Path(storage.catalog))
    monkeypatch.chdir(running.home)  # dagster.yaml's storage paths are relative to the working directory
    try:
        yield running
    finally:
        running.stop_all()


def bars_range(first: str, last: str) -> list[dict]:
    """The month partitions of the sessions `first`..`last` (with `sessions_run_config` to narrow them)."""
    ranges = [{"start": f"{first[:8]}01|SPY.ARCA", "end": f"{last[:8]}01|SPY.ARCA"}]
    return [{"assetKey": {"path": ASSET.path}, "partitions": {"ranges": ranges}}]


def sessions_run_config(first: str, last: str) -> dict:
    """The bars run config narrowing the months to the sessions `first`..`last` (multiprocess executor)."""
    return json.loads(sessions_config(first, last, ASSET.path[-1], in_process=False))


def backfill_run(instance: dg.DagsterInstance, backfill_id: str) -> dg.DagsterRun | None:
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
    assert len(runs) <= 1, "a single-run backfill policy: one run for the range"
    return runs[0] if runs else None


def run_start_time(instance: dg.DagsterInstance, run_id: str) -> float | None:
    record = instance.get_run_record_by_id(run_id)
    return record.start_time if record else None


def step_window(instance: dg.DagsterInstance, run_id: str) -> tuple[float, float]:
    """When the run's bars step started and ended (its STEP_START and STEP_SUCCESS events)."""
    records = instance.get_records_for_run(
        run_id, of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
    ).records
    records = [r for r in records if r.event_log_entry.step_key == ASSET.path[-1]]  # not its checks
    start = [r.event_log_entry.timestamp for r in records if r.event_log_entry.dagster_event.is_step_start]
    end = [r.event_log_entry.timestamp for r in records if r.event_log_entry.dagster_event.is_step_success]
    assert len(start) == len(end) == 1, f"run {run_id}: one bars step"
    return start[0], end[0]


def test_sigkill_of_a_daemon_launched_run_fails_it_frees_its_slot_and_the_next_backfill_completes(
    daemon: DaemonInstance, ib_gateway
) -> None:
    """Expected: the killed run's step stops by itself within STOP_BOUND_S; the run is marked FAILURE
    within DEAD_RUN_BOUND_S with an event naming the run and SIGKILL (or the pid, if run monitoring or the
    run guard found it); its `ibkr` slot is freed within the monitoring intervals; a second backfill of
    the range, launched right after the kill, then runs without waiting on the pool and completes with
    one file per session, the killed run's sessions rewritten with the same bytes. Set
    NTRADER_DAEMON_TEST_MONITORING=repo to measure with dagster.yaml's own intervals."""
    first, last = "2024-01-29", "2024-02-09"  # 10 sessions: 3 in January, 7 in February
    dates = [s.key for s in sessions_between(first, last)]
    config = sessions_run_config(first, last)
    graphql = daemon.start_dev()
    ib_gateway.faults.script("SPY", Fault(delay=SESSION_DELAY_S))
    killed_backfill = graphql.launch_backfill(bars_range(first, last), "killed mid-range", config)

    def running_run() -> dg.DagsterRun | None:
        if not daemon.catalog.exists() or len(session_files(daemon.catalog)) < STOP_AFTER_FILES:
            return None
        with daemon.instance() as instance:
            run = backfill_run(instance, killed_backfill)
        return run if run and RUN_PID_TAG in run.tags else None

    run = wait_until(running_run, BACKFILL_TIMEOUT_S, f"{STOP_AFTER_FILES} sessions of the backfill's run")
    pid = int(run.tags[RUN_PID_TAG])
    steps = children(pid)
    assert steps, "the run worker runs its step in a child process"
    os.kill(pid, signal.SIGKILL)
    killed_at = time.time()
    ib_gateway.faults.clear()

    wait_until(lambda: not any(alive(s) for s in steps), STOP_BOUND_S, f"step processes {steps} to stop")
    step_gone_s = time.time() - killed_at
    written = session_files(daemon.catalog)
    assert STOP_AFTER_FILES <= len(written) < len(dates), "it stopped mid-range"
    # The operator's (or the schedule's) next backfill comes at once, before anything was cleaned up.
    second = graphql.launch_backfill(bars_range(first, last), "after the kill", config)
    launched_s = time.time() - killed_at

    with daemon.instance() as instance:
        wait_until(
            lambda: instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE,
            DEAD_RUN_BOUND_S,
            f"run {run.run_id} to be marked FAILURE after its worker was killed",
        )
        failed_s = time.time() - killed_at
        # Who saw it die: the code server that launched the worker (it watches its run processes and
        # logs the signal), else run monitoring or the run guard (their messages name the pid).
        events = instance.get_records_for_run(
            run.run_id, of_type={dg.DagsterEventType.ENGINE_EVENT, dg.DagsterEventType.RUN_FAILURE}
        ).records
        messages = [r.event_log_entry.dagster_event.message or "" for r in events]
        by_code_server = f"Run execution process for {run.run_id} was terminated by signal 9 (SIGKILL)"
        assert any(by_code_server in m or (f"process {pid}" in m and "is gone" in m) for m in messages), (
            messages
        )
        monitoring = instance.run_monitoring_settings
        slot_bound_s = (
            monitoring["free_slots_after_run_end_seconds"] + 2 * monitoring["poll_interval_seconds"] + 30
        )
        wait_until(lambda: run.run_id not in held_slots(instance), slot_bound_s, "the dead run's slot to go")
        slot_freed_s = time.time() - killed_at
        recorded = materialized(instance)
    # Nothing lost: January was recorded when its last session settled; February, cut short, is not.
    assert {"2024-01-29", "2024-01-30", "2024-01-31"} <= {file_date(n) for n in written}
    assert recorded == {JANUARY}

    assert graphql.wait_for_backfill(second, BACKFILL_TIMEOUT_S) == "COMPLETED_SUCCESS"
    with daemon.instance() as instance:
        next_run = backfill_run(instance, second)
        assert next_run and next_run.status == dg.DagsterRunStatus.SUCCESS
        next_start_s = run_start_time(instance, next_run.run_id) - killed_at
        messages = [r.event_log_entry.message for r in instance.get_records_for_run(next_run.run_id).records]
        assert not [m for m in messages if "blocked by limit for pool" in m], "the next run went straight on"
        assert held_slots(instance) == set()
        assert materialized(instance) == {JANUARY, FEBRUARY}
    assert_catalog_whole(daemon, dates)  # each session once, nothing duplicated or staged
    after = session_files(daemon.catalog)
    assert {name: after[name] for name in written} == written  # the same bytes as before the kill
    print(
        f"\ndaemon SIGKILL row: step gone {step_gone_s:.1f} s, run FAILURE {failed_s:.1f} s, slot free "
        f"{slot_freed_s:.1f} s after the kill; next run started {next_start_s:.1f} s after the kill "
        f"({next_start_s - launched_s:.1f} s after its launch)"
    )


def test_cli_run_and_backfill_of_the_same_partitions_at_once(daemon: DaemonInstance, ib_gateway) -> None:
    """Expected: both the CLI run and the backfill's run succeed, one after the other (the `ibkr` pool
    or the run queue holds one back); one file per session, the same bytes after each; no slot held."""
    first, last = "2024-01-02", "2024-01-09"  # 6 sessions of January
    dates = [s.key for s in sessions_between(first, last)]
    config = sessions_run_config(first, last)
    graphql = daemon.start_dev()
    ib_gateway.faults.script("SPY", Fault(delay=0.5))
    started = time.time()
    cli = daemon.materialize("cli", "--partition", JANUARY, "--config-json", json.dumps(config))
    backfill = graphql.launch_backfill(bars_range(first, last), "with a CLI run", config)

    snapshots: list[dict[str, str]] = []
    cli_done = backfill_done = False
    deadline = time.monotonic() + BACKFILL_TIMEOUT_S
    while not (cli_done and backfill_done):
        assert time.monotonic() < deadline, (
            f"not both done in {BACKFILL_TIMEOUT_S} s:\n{daemon.log('cli')[-3000:]}"
        )
        if not cli_done and cli.poll() is not None:
            cli_done = True
            snapshots.append(session_files(daemon.catalog))
        if not backfill_done and graphql.backfill_status(backfill) in (
            "COMPLETED_SUCCESS",
            "COMPLETED_FAILED",
            "FAILED",
            "CANCELED",
        ):
            backfill_done = True
            snapshots.append(session_files(daemon.catalog))
        time.sleep(0.5)
    both_s = time.time() - started
    assert cli.returncode == 0, daemon.log("cli")[-3000:]
    assert graphql.backfill_status(backfill) == "COMPLETED_SUCCESS"

    assert_catalog_whole(daemon, dates)  # each session once, nothing duplicated or staged
    final = session_files(daemon.catalog)
    assert snapshots[0] == snapshots[1] == final  # each run wrote the same bytes
    with daemon.instance() as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS]))
        assert len(runs) == 2
        # One after the other: the two runs' bars steps never ran at the same time.
        (one, two) = sorted(step_window(instance, r.run_id) for r in runs)
        assert one[1] <= two[0], f"the bars steps overlapped: {one} and {two}"
        backfill_run_ = next(r for r in runs if r.tags.get("dagster/backfill") == backfill)
        backfill_first = step_window(instance, backfill_run_.run_id) == one
        record = instance.get_run_record_by_id(backfill_run_.run_id)
        queued_s = (record.start_time or 0) - record.create_timestamp.timestamp()
        assert materialized(instance) == {JANUARY}
        wait_until(lambda: not held_slots(instance), STOP_BOUND_S, "no pool slot left held")
        # DagsterInstance has no public pool-slot query in Dagster 1.13; its event log storage (what the
        # daemon and the UI's pool page read) is the way.
        info = instance.event_log_storage.get_concurrency_info("ibkr")
        assert info.active_slot_count == 0 and info.pending_step_count == 0
    cli_waited = "Step blocked by limit for pool ibkr" in daemon.log("cli")
    print(
        f"\ndaemon concurrency row: both runs done {both_s:.1f} s after the start; the backfill's run "
        f"started {queued_s:.1f} s after it was created; the CLI run waited for the pool: {cli_waited}; "
        f"first to write: {'the backfill' if backfill_first else 'the CLI run'}"
    )
