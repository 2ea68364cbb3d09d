"""The nightly refresh of a universe of N instruments, end to end, against the embedded gateway at its
default answer time (IB's: ~0.6 s per session of 1-minute bars, soft throttle beyond 10 open requests).

What it does, on a fresh SQLite instance and catalog in a temp dir:
1. writes a universe of N synthetic stocks and a backtests file with two daily backtests: `in_window` on
   a few instruments, whose window holds the nightly session, and `before_window` on every instrument,
   whose window ended the week before (so the nightly must not rerun it);
2. backfills February's daily bars of the `in_window` instruments (one run), then warms up with the
   nightly of the session before the measured one (head timestamps and instrument definitions get
   stored once, as on any night after the first);
3. evaluates the nightly schedule at 18:30 New York of the measured session and executes what it asks
   for, then what the refresh sensors ask for after each run, until nothing more is requested;
4. prints the runs (job, partitions, wall time, outcome) and the totals.

    .venv/bin/python benchmarks/nightly.py                    # 500 instruments, 8 open requests
    .venv/bin/python benchmarks/nightly.py --instruments 50   # a quick run

Runs execute in this process (`execute_in_process`): each step of a deployed run is a process of its own
(a few seconds each, four steps here), which this leaves out and says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from ntrader_pipeline.backtest.declarations import load_declarations
from ntrader_pipeline.defs import build_definitions
from ntrader_pipeline.defs.partitions import partition_range_tags
from ntrader_pipeline.defs.schedules import sessions_run_config
from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.gateway.latency import AnswerTimeModel
from ntrader_pipeline.gateway.universe import write_universe
from ntrader_pipeline.markets.universe import load_universe
from ntrader_pipeline.settings import IBSettings, PipelineSettings, Settings

NEW_YORK = ZoneInfo("America/New_York")
WARM_SESSION, SESSION = dt.date(2024, 2, 29), dt.date(2024, 3, 1)  # Thursday, then Friday


def _backtests_file(path: Path, instruments: list[str], in_window: int) -> Path:
    few = ", ".join(instruments[:in_window])
    every = ", ".join(instruments)
    index = instruments[0]
    path.write_text(
        "backtests:\n"
        "  in_window:\n    strategy: sma_cross\n    bar_spec: 1-DAY-LAST\n"
        f"    instruments: [{few}]\n    index_instrument: {index}\n"
        "    window: {start: 2024-02-01, end: 2024-03-01}\n"
        "    parameters: {fast_period: 3, slow_period: 8}\n"
        "  before_window:\n    strategy: sma_cross\n    bar_spec: 1-DAY-LAST\n"
        f"    instruments: [{every}]\n    index_instrument: {index}\n"
        "    window: {start: 2024-01-02, end: 2024-02-23}\n"
        "    parameters: {fast_period: 3, slow_period: 8}\n"
    )
    return path


def _backfill(defs: dg.Definitions, instance: dg.DagsterInstance, instruments: list[str]) -> float:
    """February's daily bars of `instruments` (consecutive in the universe) in one run; seconds."""
    config = sessions_run_config(["bars_1_day"], "2024-02-01", "2024-02-28")
    tags = partition_range_tags("2024-02-01", "2024-02-28", instruments[0], instruments[-1])
    request = dg.RunRequest(asset_selection=[dg.AssetKey("bars_1_day")], run_config=config, tags=tags)
    result, seconds = _execute(defs, "market_data_job", request, instance)
    if not result.success:
        raise SystemExit(f"the backfill of {instruments[0]}..{instruments[-1]} failed (run {result.run_id})")
    return seconds


def _nightly_request(defs: dg.Definitions, session: dt.date) -> dg.RunRequest:
    tick = dt.datetime.combine(session, dt.time(18, 30), tzinfo=NEW_YORK)
    schedule = defs.resolve_schedule_def("nightly_bars_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=defs.get_repository_def()
    )
    (request,) = schedule.evaluate_tick(context).run_requests
    return request


def _execute(defs: dg.Definitions, job: str, request: dg.RunRequest, instance: dg.DagsterInstance):
    started = time.perf_counter()
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance,
        tags=dict(request.tags),
        run_config=dict(request.run_config or {}),
        asset_selection=list(request.asset_selection) if request.asset_selection else None,
        raise_on_error=False,
    )
    return result, time.perf_counter() - started


# (finished job, succeeded) → the run-status sensor that answers it (defs/sensors.py)
AFTER = {
    ("market_data_job", True): "refresh_backtests_after_bars",
    ("market_data_job", False): "refresh_backtests_after_partial_bars",
    ("backtests_job", True): "refresh_comparison_after_backtests",
}


def _after(
    defs: dg.Definitions, result: dg.ExecuteInProcessResult, instance: dg.DagsterInstance, job: str
) -> list[tuple[str, dg.RunRequest]]:
    """What the run-status sensor watching `job` asks for after `result`."""
    name = AFTER.get((job, result.success))
    if name is None:
        return []
    sensor = defs.resolve_sensor_def(name)
    finished = next(
        e for e in result.all_events if e.event_type_value in ("PIPELINE_SUCCESS", "PIPELINE_FAILURE")
    )
    context = dg.build_run_status_sensor_context(
        sensor_name=name, dagster_event=finished, dagster_instance=instance,
        dagster_run=result.dagster_run, repository_def=defs.get_repository_def(),
    )  # fmt: skip
    answer = sensor(context)
    return [(sensor.job_name, answer)] if isinstance(answer, dg.RunRequest) else []


def nightly(
    defs: dg.Definitions, instance: dg.DagsterInstance, session: dt.date
) -> list[tuple[str, str, float, bool]]:
    """The schedule's run, then every run the sensors ask for after it; (job, what, seconds, success)."""
    queue = [("market_data_job", _nightly_request(defs, session))]
    done = []
    while queue:
        job, request = queue.pop(0)
        result, seconds = _execute(defs, job, request, instance)
        what = request.tags.get("ntrader/instrument") or request.tags.get(
            "dagster/asset_partition_range_end", ""
        )
        done.append((job, what, seconds, result.success))
        queue += _after(defs, result, instance, job)
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=500)
    parser.add_argument("--max-open", type=int, default=8, help="IB_MAX_OPEN_REQUESTS")
    parser.add_argument(
        "--in-window", type=int, default=5, help="instruments of the backtest holding the session"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ntrader-nightly-") as tmp:
        root = Path(tmp)
        universe_path = write_universe(root / "universe.yaml", args.instruments)
        universe = load_universe(universe_path)
        backtests = _backtests_file(root / "backtests.yaml", universe.instrument_ids, args.in_window)
        pipeline = PipelineSettings(
            universe=universe_path, backtests=backtests, catalog=str(root / "catalog"),
            artifacts=root / "backtests", reports=root / "reports", first_session=dt.date(2024, 1, 2),
        )  # fmt: skip
        with EmbeddedGateway(synthetic_stocks=args.instruments, answer_time=AnswerTimeModel()) as gateway:
            ib = IBSettings(
                host=gateway.host, port=gateway.port, pacing=False, max_open_requests=args.max_open
            )
            settings = Settings(ib=ib, ntrader=pipeline)
            defs = build_definitions(settings, universe, load_declarations(backtests, universe))
            (root / "dagster").mkdir()
            with dg.DagsterInstance.local_temp(str(root / "dagster")) as instance:
                backfill = _backfill(defs, instance, universe.instrument_ids[: args.in_window])
                warm = nightly(defs, instance, WARM_SESSION)
                gateway.requests.clear()
                measured = nightly(defs, instance, SESSION)
                requests = len(gateway.requests.historical())
    print(
        f"nightly refresh of {args.instruments} instruments, session {SESSION}, "
        f"at most {args.max_open} open requests"
    )
    print(f"backfill of February, {args.in_window} instruments' daily bars: {backfill:.1f} s")
    print(f"warm-up night ({WARM_SESSION}): {len(warm)} runs, {sum(s for _, _, s, _ in warm):.1f} s")
    print(f"{'job':<16} {'covers':<32} {'seconds':>8}  outcome")
    for job, what, seconds, success in measured:
        print(f"{job:<16} {what[:32]:<32} {seconds:8.1f}  {'ok' if success else 'FAILED'}")
    total = sum(s for _, _, s, _ in measured)
    print(
        f"runs: {len(measured)}, wall time: {total:.1f} s ({total / 60:.2f} min), "
        f"historical requests: {requests}"
    )


if __name__ == "__main__":
    main()
