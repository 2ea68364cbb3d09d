"""The instance configs under deploy/ validate against Dagster's schemas and their launchers' own."""

import importlib
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.system_config.objects import ResolvedRunConfig

from ntrader_pipeline.defs.executors import celery_config, executor_named
from ntrader_pipeline.settings import REPO_ROOT, PipelineSettings, SettingsError, load_settings

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
    assert executor_named(PipelineSettings()) is None
    assert executor_named(PipelineSettings(executor="celery")).name == "celery"
    assert executor_named(PipelineSettings(executor="celery_k8s")).name == "celery-k8s"
    with pytest.raises(ValueError, match="NTRADER_EXECUTOR='dask' is not an executor"):
        executor_named(PipelineSettings.model_construct(executor="dask"))


def _celery_executor_config(settings: PipelineSettings) -> dict:
    """The executor config a run of a job using `executor_named(settings)` resolves to."""

    @dg.op
    def step() -> None: ...

    @dg.job(executor_def=executor_named(settings))
    def job() -> None:
        step()

    return ResolvedRunConfig.build(job, {}).execution.execution_engine_config


def test_celery_executor_defaults_to_dagster_celerys_broker(monkeypatch) -> None:
    monkeypatch.delenv("NTRADER_CELERY_BROKER", raising=False)
    monkeypatch.delenv("NTRADER_CELERY_BACKEND", raising=False)
    config = _celery_executor_config(PipelineSettings(executor="celery"))
    assert config.get("broker") is None and config["backend"] == "rpc://"


def test_celery_executor_reads_broker_and_backend_from_the_environment(monkeypatch) -> None:
    """Set in the environment: the executor reads the variable when the run starts, so the URL (password
    included) is neither in the definitions nor in the run's config."""
    monkeypatch.setenv("NTRADER_CELERY_BROKER", "redis://:secret@broker.internal:6379/0")
    monkeypatch.delenv("NTRADER_CELERY_BACKEND", raising=False)
    settings = load_settings(env_file=None).ntrader.model_copy(update={"executor": "celery"})
    assert celery_config(settings) == {
        "broker": {"env": "NTRADER_CELERY_BROKER"},
        "backend": {"env": "NTRADER_CELERY_BROKER"},  # a Redis broker is its own result backend
    }
    config = _celery_executor_config(settings)
    assert config["broker"] == config["backend"] == "redis://:secret@broker.internal:6379/0"

    monkeypatch.setenv("NTRADER_CELERY_BACKEND", "redis://:secret@broker.internal:6379/1")
    settings = load_settings(env_file=None).ntrader.model_copy(update={"executor": "celery"})
    assert celery_config(settings)["backend"] == {"env": "NTRADER_CELERY_BACKEND"}
    assert _celery_executor_config(settings)["backend"] == "redis://:secret@broker.internal:6379/1"


def test_celery_executor_from_values_set_in_code(monkeypatch) -> None:
    monkeypatch.delenv("NTRADER_CELERY_BROKER", raising=False)
    monkeypatch.delenv("NTRADER_CELERY_BACKEND", raising=False)
    amqp = PipelineSettings(executor="celery", celery_broker="amqp://guest@rabbit.internal//")
    assert celery_config(amqp) == {"broker": "amqp://guest@rabbit.internal//"}  # backend: rpc://
    assert _celery_executor_config(amqp)["backend"] == "rpc://"
    both = amqp.model_copy(update={"celery_backend": "redis://cache.internal/1"})
    assert celery_config(both) == {
        "broker": "amqp://guest@rabbit.internal//",
        "backend": "redis://cache.internal/1",
    }


def test_a_bad_celery_broker_names_the_variable_without_its_password(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("NTRADER_CELERY_BROKER", "http://user:secret@broker.internal:6379")
    with pytest.raises(SettingsError) as raised:
        load_settings(env_file=tmp_path / "none.env")
    message = str(raised.value)
    assert "\n" not in message and "secret" not in message
    assert message.startswith("NTRADER_CELERY_BROKER='http://user:***@broker.internal:6379' is invalid")


def test_celery_worker_config_reads_the_executors_variables(monkeypatch) -> None:
    """deploy/celery-worker.yaml (the workers' `-y`) gives them the broker and backend the executor uses."""
    from dagster_celery.cli import get_validated_config

    monkeypatch.setenv("NTRADER_CELERY_BROKER", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("NTRADER_CELERY_BACKEND", "redis://127.0.0.1:6379/1")
    config = get_validated_config(str(DEPLOY / "celery-worker.yaml"))
    assert (config["broker"], config["backend"]) == ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1")


def test_celery_k8s_broker_comes_from_the_environment() -> None:
    config, _ = dagster_instance_config(str(DEPLOY / "k8s"), "dagster.celery-k8s.yaml")
    launcher = config["run_launcher"]["config"]
    assert launcher["broker"] == {"env": "DAGSTER_CELERY_BROKER_URL"}
    assert launcher["backend"] == {"env": "DAGSTER_CELERY_BACKEND_URL"}
