"""Which executor the jobs use: Dagster's default, or Celery when the deployment asks for it.

NTRADER_EXECUTOR=celery (dagster-celery workers, broker and result backend from NTRADER_CELERY_BROKER /
NTRADER_CELERY_BACKEND) or celery_k8s (a pod per step, with deploy/k8s/dagster.celery-k8s.yaml); unset
keeps the default. Those packages are the `scale` extra.
"""

import os
from typing import Any

import dagster as dg

from ntrader_pipeline.settings import PipelineSettings

BROKER_VARIABLE = "NTRADER_CELERY_BROKER"
BACKEND_VARIABLE = "NTRADER_CELERY_BACKEND"


def _source(variable: str, value: str) -> str | dict[str, str]:
    """`{"env": variable}` when the value is that environment variable's, so Dagster reads it when the
    executor starts and the URL (with any password) stays out of the definitions and run config; the
    value itself when it came from `.env` or code."""
    return {"env": variable} if os.environ.get(variable) == value else value


def celery_config(settings: PipelineSettings) -> dict[str, Any]:
    """The `celery_executor` config for these settings: {} keeps dagster-celery's defaults
    (pyamqp://guest@localhost//, rpc://). Without NTRADER_CELERY_BACKEND a redis:// or rediss:// broker is
    also the result backend; other brokers keep rpc:// (Celery 5 has no amqp, sqs or memory backend)."""
    config: dict[str, Any] = {}
    broker, backend = settings.celery_broker, settings.celery_backend
    if broker is not None:
        config["broker"] = _source(BROKER_VARIABLE, broker)
    if backend is not None:
        config["backend"] = _source(BACKEND_VARIABLE, backend)
    elif broker is not None and broker.startswith(("redis://", "rediss://")):
        config["backend"] = config["broker"]
    return config


def executor_named(settings: PipelineSettings) -> dg.ExecutorDefinition | None:
    """The executor `settings.executor` names, configured from the settings; None for Dagster's default."""
    name = settings.executor
    if not name:
        return None
    if name == "celery":
        from dagster_celery import celery_executor

        return celery_executor.configured(celery_config(settings))
    if name == "celery_k8s":
        from dagster_celery_k8s import celery_k8s_job_executor

        return celery_k8s_job_executor
    raise ValueError(
        f"NTRADER_EXECUTOR={name!r} is not an executor; use celery, celery_k8s or leave it unset"
    )
