"""The run guard: which runs count as dead, and what is done to them and to the pool."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from ntrader_pipeline.defs import build_definitions
from ntrader_pipeline.runtime.dead_runs import reap_dead_runs, release_slots
from ntrader_pipeline.runtime.guarded_executor import guarded_executor
from ntrader_pipeline.runtime.process_tags import (
    RUN_HOST_TAG,
    RUN_PID_STARTED_TAG,
    RUN_PID_TAG,
    process_alive,
    process_started,
    process_tags,
)
from ntrader_pipeline_tests.defs.helpers import code_location

POOL = "ibkr"


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        instance.event_log_storage.set_concurrency_slots(POOL, 1)
        yield instance


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def add_run(
    instance: dg.DagsterInstance, status: dg.DagsterRunStatus, tags: dict[str, str], *, slot: bool = True
) -> dg.DagsterRun:
    run = dg.DagsterRun(job_name="__ASSET_JOB", run_id=str(uuid.uuid4()), status=status, tags=tags)
    instance.add_run(run)
    if slot:
        claim = instance.event_log_storage.claim_concurrency_slot(POOL, run.run_id, "bars_1_minute")
        assert claim.is_claimed
    return run


def test_a_process_is_alive_only_while_it_runs_and_while_it_is_the_same_process() -> None:
    me = os.getpid()
    assert process_alive(me) and process_alive(me, process_started(me))
    assert not process_alive(dead_pid())
    assert not process_alive(me, "1")  # same pid, another start time: a reused pid is not the run's
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])  # ends, and is not waited for yet
    deadline = time.monotonic() + 30
    while Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline, "the child did not end within 30 s"
        time.sleep(0.05)
    assert not process_alive(zombie.pid)
    zombie.wait()
    tags = process_tags()
    assert tags[RUN_PID_TAG] == str(me) and tags[RUN_HOST_TAG] and tags[RUN_PID_STARTED_TAG]


def test_a_dead_run_on_this_host_is_failed_with_its_slot_freed(instance: dg.DagsterInstance) -> None:
    dead = add_run(instance, dg.DagsterRunStatus.STARTED, process_tags(dead_pid()))
    (reaped,) = reap_dead_runs(instance, exclude="the-new-run")
    assert reaped.run_id == dead.run_id and reaped.freed_slots
    assert f"run {dead.run_id} (__ASSET_JOB, process {reaped.pid} on this host)" in reaped.describe()
    assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
    failure = instance.get_records_for_run(dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    assert "is gone (killed?)" in failure[0].event_log_entry.dagster_event.message
    assert instance.event_log_storage.get_concurrency_run_ids() == set()


def test_live_runs_and_other_hosts_runs_are_left_alone(instance: dg.DagsterInstance) -> None:
    live = add_run(instance, dg.DagsterRunStatus.STARTED, process_tags())
    elsewhere = {**process_tags(dead_pid()), RUN_HOST_TAG: "another-host"}
    other = add_run(instance, dg.DagsterRunStatus.STARTED, elsewhere, slot=False)
    untagged = add_run(instance, dg.DagsterRunStatus.STARTED, {}, slot=False)  # e.g. a Celery run
    assert reap_dead_runs(instance) == []
    for run in (live, other, untagged):
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
    assert instance.event_log_storage.get_concurrency_run_ids() == {live.run_id}


def test_a_finished_run_still_holding_a_slot_gives_it_back(instance: dg.DagsterInstance) -> None:
    """e.g. its step worker crashed before reporting the step's end (seen: a SQLite schema race)."""
    ended = add_run(instance, dg.DagsterRunStatus.FAILURE, process_tags())
    assert reap_dead_runs(instance) == []
    assert instance.event_log_storage.get_concurrency_run_ids() == set()
    mine = add_run(instance, dg.DagsterRunStatus.STARTED, process_tags())
    release_slots(instance, mine.run_id)  # what the executor does when its plan is done
    assert instance.event_log_storage.get_concurrency_run_ids() == set()
    assert ended.run_id != mine.run_id


def test_the_code_location_uses_the_guarded_executor() -> None:
    defs = build_definitions(*code_location())
    job = defs.get_implicit_global_asset_job_def()
    assert job.executor_def is guarded_executor
    assert job.executor_def.name == dg.multi_or_in_process_executor.name  # same run config as before
