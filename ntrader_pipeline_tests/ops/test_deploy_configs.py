"""The instance configs under deploy/ validate against Dagster's schemas and their launchers' own."""

import importlib
from pathlib import Path

import pytest
import yaml
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config

from ntrader_pipeline.defs.executors import executor_named
from ntrader_pipeline.settings import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
INSTANCE_CONFIGS = [
    REPO_ROOT / "dagster.yaml",
    DEPLOY / "dagster.postgres.yaml",
    DEPLOY / "k8s" / "dagster.k8s.yaml",
    DEPLOY / "k8s" / "dagster.celery-k8s.yaml",
]


@pytest.mark.parametrize("path", INSTANCE_CONFIGS, ids=lambda p: p.name)
def test_instance_config_validates(path: Path) -> None:
    config, _ = dagster_instance_config(str(path.parent), path.name)
    assert config["telemetry"] == {"enabled": False}
    assert config.get("concurrency", {}).get("pools", {}).get("default_limit") == 1  # the ibkr pool
    if "run_launcher" in config:
        launcher = config["run_launcher"]
        cls = getattr(importlib.import_module(launcher["module"]), launcher["class"])
        result = validate_config(cls.config_type(), launcher["config"])
        assert result.success, [e.message for e in result.errors]
    if "postgres" in config.get("storage", {}):
        assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"


@pytest.mark.parametrize("path", INSTANCE_CONFIGS, ids=lambda p: p.name)
def test_run_monitoring_frees_slots_of_dead_runs(path: Path) -> None:
    """Daemon-launched runs that die are failed and their pool slots freed (README: Failure behaviour)."""
    config, _ = dagster_instance_config(str(path.parent), path.name)
    monitoring = config["run_monitoring"]
    assert monitoring["enabled"] is True
    assert 0 < monitoring["start_timeout_seconds"] <= 600
    assert 0 < monitoring["cancel_timeout_seconds"] <= 600
    assert 0 < monitoring["free_slots_after_run_end_seconds"] <= 300
    assert monitoring["max_resume_run_attempts"] == 0  # failed, then relaunched by run_retries
    assert config["run_retries"]["enabled"] is True


def test_local_instance_stays_sqlite() -> None:
    assert "sqlite" in yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())["storage"]


def test_executor_names() -> None:
    assert executor_named(None) is None
    assert executor_named("celery").name == "celery"
    assert executor_named("celery_k8s").name == "celery-k8s"
    with pytest.raises(ValueError, match="NTRADER_EXECUTOR='dask' is not an executor"):
        executor_named("dask")
