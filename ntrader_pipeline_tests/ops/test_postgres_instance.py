"""deploy/dagster.postgres.yaml against a real PostgreSQL: a CLI materialization lands in its tables."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

from ntrader_pipeline.settings import REPO_ROOT
from ntrader_pipeline_tests.cli import materialize_cli, sessions_config
from ntrader_pipeline_tests.ops.postgres_cluster import Cluster, throwaway_postgres

INSTANCE_CONFIG = REPO_ROOT / "deploy" / "dagster.postgres.yaml"


@pytest.fixture
def postgres() -> Iterator[Cluster]:
    with throwaway_postgres() as cluster:
        yield cluster


def test_materialization_is_stored_in_postgres(
    postgres: Cluster, ib_gateway, storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(INSTANCE_CONFIG, home / "dagster.yaml")
    env = {
        **postgres.env(),
        "IB_HOST": ib_gateway.host,
        "IB_PORT": str(ib_gateway.port),
        "NTRADER_CATALOG": storage.catalog,
    }
    one_session = sessions_config("2024-01-03", "2024-01-03", "bars_1_day")
    done = materialize_cli(
        home,
        env,
        "--select",
        "bars_1_day",
        "--partition",
        "2024-01-01|SPY.ARCA",
        "--config-json",
        one_session,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    for key, value in postgres.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        [run] = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags["ntrader/instrument"] == "SPY.ARCA"
        records = instance.fetch_materializations(dg.AssetKey("bars_1_day"), limit=10).records
        assert [r.partition_key for r in records] == ["2024-01-01|SPY.ARCA"]
        assert records[0].asset_materialization.metadata["session"].value == "2024-01-03"
        assert records[0].run_id == run.run_id
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.run_retries_max_retries == 2
