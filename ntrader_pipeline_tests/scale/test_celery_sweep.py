"""A declared sweep on two real Celery workers with a real Redis broker: the points run in both workers'
processes, each worker reads the bars once, and the results table is identical to an in-process run."""

import os
import sys
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from dagster import DagsterEventType, DagsterRunStatus

from ntrader_pipeline.catalog.file_cache import clear_identity_caches
from ntrader_pipeline.defs.sweeps import results_asset_name, sweep_group, sweep_job_name
from ntrader_pipeline.sweeps.results import RESULTS_PARQUET
from ntrader_pipeline_tests.scale.celery_cluster import celery_cluster, cluster_home, code_env
from ntrader_pipeline_tests.sweeps.sweep_fixtures import INSTRUMENT, SWEEP, gateway_resource, sweep_setup

pytestmark = pytest.mark.long_running(minutes=1)  # started first under xdist (tiers.order_for_workers)

DAGSTER = str(Path(sys.executable).parent / "dagster")
RUN_TIMEOUT_S = 300


def _results(artifacts: Path) -> pl.DataFrame:
    return pl.read_parquet(artifacts / "sweeps" / SWEEP / INSTRUMENT / RESULTS_PARQUET)


def test_sweep_points_run_on_both_workers_and_match_the_in_process_run(tmp_path, shared_gateway, monkeypatch):
    for name in [k for k in os.environ if k.startswith(("IB_", "NTRADER_"))]:
        monkeypatch.delenv(name)  # the workers and the run inherit this process's environment
    ib = gateway_resource(shared_gateway)
    setup = sweep_setup(tmp_path / "in_process", ib)
    clear_identity_caches()
    local = (
        setup.definitions()
        .resolve_job_def(sweep_job_name(SWEEP))
        .execute_in_process(partition_key=INSTRUMENT, instance=dg.DagsterInstance.ephemeral())
    )
    assert local.success
    local_hash = (
        local.asset_materializations_for_node(results_asset_name(SWEEP))[0].metadata["results_hash"].value
    )

    # The workers read the same catalog and write their own artefacts.
    home = cluster_home(tmp_path)
    artifacts = tmp_path / "celery_artifacts"
    env = code_env(
        home,
        NTRADER_BACKTESTS=str(setup.backtests_path),
        NTRADER_CATALOG=setup.storage.catalog,
        NTRADER_ARTIFACTS=str(artifacts),
        NTRADER_REPORTS=str(tmp_path / "celery_reports"),
        NTRADER_LOGS=str(tmp_path / "logs"),
    )
    with celery_cluster(tmp_path, env, workers=2) as cluster:
        command = [DAGSTER, "asset", "materialize", "-m", "ntrader_pipeline.definitions",
                   "--select", f"group:{sweep_group(SWEEP)}", "--partition", INSTRUMENT]  # fmt: skip
        cluster.run(command, env, RUN_TIMEOUT_S)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            [run] = instance.get_runs()
            assert run.status == DagsterRunStatus.SUCCESS
            records = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
            events = [r.event_log_entry.asset_materialization for r in records.records]

    points = {
        e.asset_key.to_user_string(): {k: v.value for k, v in e.metadata.items()}
        for e in events
        if e.asset_key.path[0] == f"{SWEEP}_sweep"
    }
    assert len(points) == len(setup.sweep.points())
    pids = {int(meta["worker"].rsplit(":", 1)[1]) for meta in points.values()}
    assert pids == set(cluster.pids), (points, cluster.pids)  # both workers ran points, nobody else did
    # Each worker read the bars once and reused them for its later points.
    for pid in pids:
        reads = [m["bars_reused"] for m in points.values() if m["worker"].endswith(f":{pid}")]
        assert reads.count(False) == 1, points

    results = next(e for e in events if e.asset_key.to_user_string() == results_asset_name(SWEEP))
    assert results.metadata["results_hash"].value == local_hash
    assert _results(artifacts).equals(_results(setup.storage.backtests_dir))
    assert (tmp_path / "celery_reports" / "sweeps" / SWEEP / f"{INSTRUMENT}.html").exists()
