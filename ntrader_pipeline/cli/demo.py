"""The demo: the whole asset graph for the demo universe over a fixed window, on the embedded gateway.

`python -m ntrader_pipeline.cli.demo` (what `make demo` runs). Runs land in the Dagster instance at
DAGSTER_HOME, so `make ui` shows them afterwards. Rerunning rewrites the same files (idempotent).
"""

import argparse
import os
import sys
import time
from pathlib import Path

import dagster as dg

from ntrader_pipeline.backtest.declarations import load_declarations
from ntrader_pipeline.defs import build_definitions
from ntrader_pipeline.defs.backtests import backtest_asset_name
from ntrader_pipeline.defs.partitions import partition_range_tags
from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.logs import configure_logging
from ntrader_pipeline.markets.universe import load_universe
from ntrader_pipeline.settings import REPO_ROOT, Settings, SettingsError, load_settings

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


def run_demo(settings: Settings, start: str, end: str) -> list[Path]:
    universe = load_universe(settings.ntrader.universe)
    declarations = load_declarations(settings.ntrader.backtests, universe)
    defs = build_definitions(settings, universe, declarations)
    instance = dg.DagsterInstance.get()
    _release_orphaned_demo_runs(instance)
    market_data = defs.resolve_job_def("market_data_job")
    backtests = defs.resolve_job_def("backtests_job")
    window = {"start": start, "end": end}
    run_config = {"ops": {backtest_asset_name(d.name): {"config": window} for d in declarations}}
    for instrument_id in universe.instrument_ids:
        tags = {DEMO_TAG: "true", **partition_range_tags(start, end, instrument_id)}
        _run_or_exit(market_data.execute_in_process(instance=instance, tags=tags), f"bars of {instrument_id}")
    reports = []
    for instrument_id in universe.instrument_ids:
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
    os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT))  # before the settings: the pacing DB sits beside it
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(str(exc))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--start", default=settings.ntrader.demo_start.isoformat())
    parser.add_argument("--end", default=settings.ntrader.demo_end.isoformat())
    args = parser.parse_args()
    configure_logging()
    started = time.monotonic()
    with EmbeddedGateway() as gateway:
        print(f"embedded IB gateway on {gateway.host}:{gateway.port}", flush=True)
        ib = settings.ib.model_copy(update={"host": gateway.host, "port": gateway.port})
        reports = run_demo(settings.model_copy(update={"ib": ib}), args.start, args.end)
    print(f"\ndemo finished in {time.monotonic() - started:.1f} s; HTML reports:")
    for report in reports:
        print(f"  {report}")


if __name__ == "__main__":
    main()
