"""A probe of the Celery executor: PROBE_STEPS independent assets, each sleeping STEP_S and recording the
process and the Celery worker it ran in, in a job on the executor the settings configure
(`executor_named`, so NTRADER_EXECUTOR=celery and NTRADER_CELERY_BROKER / NTRADER_CELERY_BACKEND).

`dagster job execute -m ntrader_pipeline_tests.scale.celery_probe_defs -j celery_probe` runs it; the Celery
workers import this module to rebuild the job for each step.
"""

import os
import time

import dagster as dg

from ntrader_pipeline.defs.executors import executor_named
from ntrader_pipeline.settings import load_settings

PROBE_STEPS = 6
STEP_S = 0.5
GROUP = "celery_probe"
# Process-level state: a step finds the steps that ran before it in this process only if the process
# outlives a step (a cache of, say, loaded bars would survive the same way).
STEPS_IN_THIS_PROCESS: list[str] = []


def _probe_asset(index: int) -> dg.AssetsDefinition:
    @dg.asset(name=f"probe_{index}", group_name=GROUP)
    def probe() -> dg.MaterializeResult:
        from celery import current_task  # the dagster-celery task running this step, None outside Celery

        time.sleep(STEP_S)
        before = list(STEPS_IN_THIS_PROCESS)
        STEPS_IN_THIS_PROCESS.append(f"probe_{index}")
        return dg.MaterializeResult(
            metadata={
                "pid": os.getpid(),
                "worker": current_task.request.hostname if current_task else "",
                "steps_before_in_process": ",".join(before),
            }
        )

    return probe


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings(env_file=None)
    executor = executor_named(settings.ntrader)
    if executor is None or executor.name != "celery":
        raise ValueError("the Celery probe needs NTRADER_EXECUTOR=celery (and NTRADER_CELERY_BROKER)")
    return dg.Definitions(
        assets=[_probe_asset(index) for index in range(1, PROBE_STEPS + 1)],
        jobs=[dg.define_asset_job("celery_probe", selection=dg.AssetSelection.groups(GROUP))],
        executor=executor,
    )
