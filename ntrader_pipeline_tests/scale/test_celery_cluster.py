"""Steps of one Dagster run on real Celery workers with a real Redis broker: the probe job's steps run in
the two workers' processes, both workers take steps, and a worker keeps its process from step to step."""

import os
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster import DagsterEventType, DagsterRunStatus

from ntrader_pipeline_tests.scale import celery_cluster as celery_cluster_module
from ntrader_pipeline_tests.scale.celery_cluster import celery_cluster, cluster_home, code_env
from ntrader_pipeline_tests.scale.celery_probe_defs import PROBE_STEPS

DAGSTER = str(Path(sys.executable).parent / "dagster")
RUN_TIMEOUT_S = 120


def test_probe_steps_run_on_both_workers_in_their_own_processes(tmp_path: Path, monkeypatch) -> None:
    for name in [k for k in os.environ if k.startswith(("IB_", "NTRADER_"))]:
        monkeypatch.delenv(name)  # the workers and the run inherit this process's environment
    started = time.monotonic()
    home = cluster_home(tmp_path)
    with celery_cluster(tmp_path, code_env(home), workers=2) as cluster:
        assert len(set(cluster.pids)) == 2 and cluster.pids[0] != os.getpid()
        command = [
            DAGSTER,
            "job",
            "execute",
            "-m",
            "ntrader_pipeline_tests.scale.celery_probe_defs",
            "-j",
            "celery_probe",
        ]
        cluster.run(command, code_env(home), RUN_TIMEOUT_S)

        with dg.DagsterInstance.from_config(str(home)) as instance:
            [run] = instance.get_runs()
            assert run.status == DagsterRunStatus.SUCCESS
            records = instance.get_records_for_run(
                run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION
            ).records
            steps = {}
            for record in records:
                materialization = record.event_log_entry.asset_materialization
                metadata = {key: value.value for key, value in materialization.metadata.items()}
                steps[materialization.asset_key.to_user_string()] = metadata
    elapsed = time.monotonic() - started

    assert sorted(steps) == sorted(f"probe_{n}" for n in range(1, PROBE_STEPS + 1))
    worker_of_pid = dict(zip(cluster.pids, cluster.names, strict=True))
    for step, metadata in steps.items():
        assert metadata["pid"] in worker_of_pid, (step, metadata, worker_of_pid)
        assert metadata["worker"] == worker_of_pid[metadata["pid"]], (step, metadata)  # the task's node
    by_worker = {name: sorted(s for s, m in steps.items() if m["worker"] == name) for name in cluster.names}
    assert all(by_worker.values()), by_worker  # both workers ran steps
    # Steps run inside the long-lived worker process: a worker's later steps report its pid and see the
    # earlier steps in the module-level list (6 steps on 2 workers: some worker ran at least 2).
    busiest = max(by_worker.values(), key=len)
    assert len(busiest) >= 2
    seen = [set(filter(None, steps[step]["steps_before_in_process"].split(","))) for step in busiest]
    assert max(len(before) for before in seen) >= 1, steps
    assert all(before <= set(busiest) for before in seen), (by_worker, steps)
    print(f"celery probe: {elapsed:.1f} s, steps per worker {by_worker}")

    # Nothing outlives the fixture: the workers and redis are gone.
    for pid in cluster.pids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_without_redis_server_the_fixture_skips_saying_how_to_install_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(celery_cluster_module.shutil, "which", lambda name: None)
    message = r"redis-server is not installed; `\.ci/run` installs it \(apt-get install redis-server\)"
    with (
        pytest.raises(pytest.skip.Exception, match=message),
        celery_cluster(tmp_path, {"DAGSTER_HOME": str(tmp_path)}),
    ):
        pass
    assert not (tmp_path / "celery").exists()  # nothing started
