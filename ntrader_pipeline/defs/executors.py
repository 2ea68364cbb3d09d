"""Which executor the jobs use: Dagster's default, or Celery when the deployment asks for it.

NTRADER_EXECUTOR=celery (dagster-celery workers) or celery_k8s (a pod per step, with
deploy/k8s/dagster.celery-k8s.yaml); unset keeps the default. Those packages are the `scale` extra.
"""

import dagster as dg


def executor_named(name: str | None) -> dg.ExecutorDefinition | None:
    if not name:
        return None
    if name == "celery":
        from dagster_celery import celery_executor

        return celery_executor
    if name == "celery_k8s":
        from dagster_celery_k8s import celery_k8s_job_executor

        return celery_k8s_job_executor
    raise ValueError(
        f"NTRADER_EXECUTOR={name!r} is not an executor; use celery, celery_k8s or leave it unset"
    )
