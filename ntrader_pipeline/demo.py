"""The demo: the whole asset graph for the demo universe over a fixed window, on the embedded gateway.

`python -m ntrader_pipeline.demo` (what `make demo` runs). Runs land in the Dagster instance at
DAGSTER_HOME, so `make ui` shows them afterwards. Rerunning rewrites the same files (idempotent).
"""

import argparse
import os
import sys
import time
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.settings import REPO_ROOT, PipelineSettings

DEMO_TAG = "ntrader/demo"


def _release_orphaned_demo_runs(instance: dg.DagsterInstance) -> None:
    """A demo process that died (killed, aborted) leaves its run "started" and holding the ibkr pool
    slot, which would block every later run. Only one demo runs at a time, so any such run is dead."""
    started = dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED], tags={DEMO_TAG: "true"})
    for run in instance.get_runs(filters=started):
        instance.report_run_failed(run, "the demo process that ran it is gone")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)


def _run_or_exit(result: dg.ExecuteInProcessResult, what: str) -> None:
    if not result.success:
        sys.exit(f"demo failed while running {what}; see the run's logs above (run id {result.run_id})")


def run_demo(start: str, end: str) -> list[Path]:
    # Imported here: resources read IB_* from the environment at import time.
    from ntrader_pipeline.definitions import defs
    from ntrader_pipeline.defs.backtests import DECLARATIONS, backtest_asset_name
    from ntrader_pipeline.defs.partitions import UNIVERSE

    instance = dg.DagsterInstance.get()
    _release_orphaned_demo_runs(instance)
    market_data = defs.resolve_job_def("market_data_job")
    backtests = defs.resolve_job_def("backtests_job")
    window = {"start": start, "end": end}
    run_config = {"ops": {backtest_asset_name(d.name): {"config": window} for d in DECLARATIONS}}
    for instrument_id in UNIVERSE.instrument_ids:
        tags = {
            DEMO_TAG: "true",
            ASSET_PARTITION_RANGE_START_TAG: f"{start}|{instrument_id}",
            ASSET_PARTITION_RANGE_END_TAG: f"{end}|{instrument_id}",
        }
        _run_or_exit(market_data.execute_in_process(instance=instance, tags=tags), f"bars of {instrument_id}")
    reports = []
    for instrument_id in UNIVERSE.instrument_ids:
        result = backtests.execute_in_process(
            instance=instance, partition_key=instrument_id, run_config=run_config, tags={DEMO_TAG: "true"}
        )
        _run_or_exit(result, f"backtest of {instrument_id}")
        for event in result.get_asset_materialization_events():
            report = event.materialization.metadata.get("report")
            if report is not None:
                reports.append(Path(report.value))
    comparison = defs.resolve_job_def("comparison_job").execute_in_process(
        instance=instance, tags={DEMO_TAG: "true"}
    )
    _run_or_exit(comparison, "the comparison of all backtests")
    for event in comparison.get_asset_materialization_events():
        reports.append(Path(event.materialization.metadata["report"].value))
    return reports


def main() -> None:
    settings = PipelineSettings()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--start", default=settings.demo_start.isoformat())
    parser.add_argument("--end", default=settings.demo_end.isoformat())
    args = parser.parse_args()
    os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT))
    started = time.monotonic()
    with EmbeddedGateway() as gateway:
        os.environ["IB_HOST"], os.environ["IB_PORT"] = gateway.host, str(gateway.port)
        print(f"embedded IB gateway on {gateway.host}:{gateway.port}", flush=True)
        reports = run_demo(args.start, args.end)
    print(f"\ndemo finished in {time.monotonic() - started:.1f} s; HTML reports:")
    for report in reports:
        print(f"  {report}")


if __name__ == "__main__":
    main()
