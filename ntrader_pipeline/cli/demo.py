"""The demo: the whole asset graph for the demo universe over a fixed window, on the embedded gateway.

`python -m ntrader_pipeline.cli.demo [--verbose]` (what `make demo` runs). Runs land in the Dagster
instance at DAGSTER_HOME, so `make ui` shows them afterwards. Rerunning rewrites the same files
(idempotent). The terminal shows a progress bar per stage and a summary; the full logs go to a file.
"""

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from rich.progress import Progress, TaskID
from rich.table import Table

from ntrader_pipeline.backtest.declarations import BacktestDeclaration, load_declarations
from ntrader_pipeline.cli.console import advance, console, logs_to_file, progress_bars
from ntrader_pipeline.cli.dagster_runs import RunProgress, failure_message, fetch_range, run_job
from ntrader_pipeline.cli.fetch import session_keys
from ntrader_pipeline.defs import build_definitions
from ntrader_pipeline.defs.adjustments import ADJUSTMENT_FACTORS
from ntrader_pipeline.defs.sensors import chain_keys, instrument_range_tags
from ntrader_pipeline.defs.sweeps import sweep_job_name
from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.logs import configure_logging
from ntrader_pipeline.markets.bar_specs import bars_asset_name
from ntrader_pipeline.markets.universe import Universe, load_universe
from ntrader_pipeline.results import list_backtests
from ntrader_pipeline.settings import REPO_ROOT, Settings, SettingsError, load_settings
from ntrader_pipeline.sweeps.declarations import SweepDeclaration, load_sweeps
from ntrader_pipeline.sweeps.summary import read_sweep_summary

DEMO_TAG = "ntrader/demo"
CHAIN_ASSETS_PER_DECLARATION = 3  # backtest, metrics, report


class DemoFailed(RuntimeError):
    """A stage of the demo failed; the message names it and the run whose logs say why."""


@dataclass
class FetchSummary:
    instrument_id: str
    progress: RunProgress


def _release_orphaned_demo_runs(instance: dg.DagsterInstance) -> None:
    """A demo process that died (killed, aborted) leaves its run "started" and holding the ibkr pool
    slot, which would block every later run. Only one demo runs at a time, so any such run is dead."""
    started = dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED], tags={DEMO_TAG: "true"})
    for run in instance.get_runs(filters=started):
        instance.report_run_failed(run, "the demo process that ran it is gone")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)


def _check(result: dg.ExecuteInProcessResult, what: str) -> None:
    if not result.success:
        raise DemoFailed(f"{what}: {failure_message(result)} (run {result.run_id})")


def run_demo(settings: Settings, start: str, end: str) -> tuple[list[FetchSummary], list[Path]]:
    universe = load_universe(settings.ntrader.universe)
    declarations = load_declarations(settings.ntrader.backtests, universe)
    sweeps = load_sweeps(settings.ntrader.backtests, universe, {d.name for d in declarations})
    defs = build_definitions(settings, universe, declarations, sweeps=sweeps)
    instance = dg.DagsterInstance.get()
    _release_orphaned_demo_runs(instance)
    keys = session_keys(universe, settings, start, end)
    stored = RunProgress(run_id="demo")
    with progress_bars() as bars:
        for asset, instruments in _fetch_runs(universe):
            task = bars.add_task(f"fetch {asset} ({len(instruments)})", total=len(keys) * len(instruments),
                                 detail="")  # fmt: skip
            result, state = fetch_range(
                defs, instance, instruments[0], keys[0], keys[-1], [dg.AssetKey(asset)],
                last_instrument_id=instruments[-1], on_progress=advance(bars, task),
                extra_tags={DEMO_TAG: "true"},
            )  # fmt: skip
            _check(result, f"{asset} of {', '.join(instruments)}")
            stored.stored.update(state.stored)
        fetched = [FetchSummary(i, stored.of_instrument(i)) for i in universe.instrument_ids]
        reports = _backtests(defs, instance, universe, declarations, start, end, bars)
        reports += _sweeps(defs, instance, sweeps, bars)
        task = bars.add_task("comparison report", total=1, detail="")
        comparison, _ = run_job(defs, "comparison_job", instance, on_progress=advance(bars, task),
                                tags={DEMO_TAG: "true"})  # fmt: skip
        _check(comparison, "the comparison of all backtests")
        bars.update(task, completed=1)
    for event in comparison.get_asset_materialization_events():
        reports.append(Path(event.materialization.metadata["report"].value))
    return fetched, reports


def _fetch_runs(universe: Universe) -> list[tuple[str, list[str]]]:
    """(bars asset, instruments) per fetch run: each asset over every instrument that provides it in one
    run, where the instruments take turns, when they are consecutive in the universe's order (a range of
    partition keys covers the instruments between its ends); else one run per instrument."""
    ids = universe.instrument_ids
    runs = []
    for spec in universe.all_bar_specs:
        providing = [i for i in ids if universe.provides(universe.instrument(i), spec)]
        if not providing:
            continue
        first = ids.index(providing[0])
        consecutive = providing == ids[first : first + len(providing)]
        groups = [providing] if consecutive else [[i] for i in providing]
        runs += [(bars_asset_name(spec), group) for group in groups]
    return runs


def _backtests(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    universe: Universe,
    declarations: list[BacktestDeclaration],
    start: str,
    end: str,
    bars: Progress,
) -> list[Path]:
    """Every declared backtest's chain over the demo's window, on every instrument, in one run."""
    window = {"start": start, "end": end}
    run_config = {"ops": {d.name: {"config": window} for d in declarations}}
    instruments = {i for d in declarations for i in d.instruments}
    total = sum(CHAIN_ASSETS_PER_DECLARATION * len(d.instruments) for d in declarations)
    task = bars.add_task("backtests, metrics, reports", total=total, detail="")
    result, _ = run_job(
        defs, "backtests_job", instance, on_progress=_chain_progress(bars, task),
        run_config=run_config, asset_selection=chain_keys(universe, declarations),
        tags={**instrument_range_tags(universe, instruments), DEMO_TAG: "true"},
    )  # fmt: skip
    _check(result, "the backtests")
    reports = []
    for event in result.get_asset_materialization_events():
        report = event.materialization.metadata.get("report")
        if report is not None:
            reports.append(Path(report.value))
    return reports


def _sweeps(
    defs: dg.Definitions, instance: dg.DagsterInstance, sweeps: list[SweepDeclaration], bars: Progress
) -> list[Path]:
    """Each sweep's job per instrument, over the sweep's own declared window."""
    reports = []
    for sweep in sweeps:
        steps = len(sweep.points()) + (3 if sweep.walk_forward else 2)  # points, results, [wf], report
        task = bars.add_task(f"sweep {sweep.name}", total=steps * len(sweep.instruments), detail="")
        for position, instrument_id in enumerate(sweep.instruments):
            result, _ = run_job(
                defs, sweep_job_name(sweep.name), instance, partition_key=instrument_id,
                on_progress=_step_progress(bars, task, position * steps),
                tags={DEMO_TAG: "true"},
            )  # fmt: skip
            _check(result, f"sweep {sweep.name} of {instrument_id}")
            for event in result.get_asset_materialization_events():
                report = event.materialization.metadata.get("report")
                if report is not None:
                    reports.append(Path(report.value))
    return reports


def _step_progress(bars: Progress, task: TaskID, base: int) -> Callable[[RunProgress], None]:
    def update(state: RunProgress) -> None:
        bars.update(task, completed=base + len(state.partitions))

    return update


def _chain_progress(bars: Progress, task: TaskID) -> Callable[[RunProgress], None]:
    """Counts the backtest chains' assets (not the inputs' data versions or factors the run records)."""

    def update(state: RunProgress) -> None:
        chain = [a for a, _ in state.partitions if not a.endswith("_inputs") and a != ADJUSTMENT_FACTORS]
        bars.update(task, completed=len(chain))

    return update


def print_summary(
    settings: Settings, fetched: list[FetchSummary], reports: list[Path], seconds: float
) -> None:
    data = Table(title="data", title_justify="left")
    for column in ("instrument", "sessions stored", "bars", "flagged sessions"):
        data.add_column(column, justify="left" if column == "instrument" else "right")
    for row in fetched:
        p = row.progress
        data.add_row(row.instrument_id, str(p.sessions), f"{p.bars:,}", str(p.flagged))
    console.print(data)
    by_name = {(path.parent.name, path.stem): path for path in reports}
    results = list_backtests(artifacts=settings.ntrader.artifacts).sort(
        "sharpe", descending=True, nulls_last=True
    )
    table = Table(title="backtests, best Sharpe first", title_justify="left")
    for column in ("backtest", "instrument", "total return", "Sharpe", "max drawdown", "report"):
        table.add_column(
            column, justify="right" if column in ("total return", "Sharpe", "max drawdown") else "left"
        )
    for row in results.iter_rows(named=True):
        report = by_name.get((row["backtest"], row["instrument_id"]))
        if report is None:
            continue  # stored by something other than this demo (an ad-hoc run)
        table.add_row(
            row["backtest"],
            row["instrument_id"],
            f"{row['total_return']:.2%}",
            f"{row['sharpe']:.2f}",
            f"{row['max_drawdown']:.2%}",
            str(report),
        )
    console.print(table)
    _print_sweeps(settings, reports)
    comparison = [p for p in reports if p.name == "comparison.html"]
    if comparison:
        console.print(f"comparison of every backtest: {comparison[0]}")
    console.print(f"demo finished in {seconds:.1f} s")


def _print_sweeps(settings: Settings, reports: list[Path]) -> None:
    """One row per sweep report of this demo: the best point, its walk-forward and overfitting numbers."""
    table = Table(title="sweeps: the best point, then walk-forward out of sample", title_justify="left")
    columns = ("sweep", "instrument", "points", "best point", "metric", "best", "out of sample", "DSR", "PBO")
    for column in (*columns, "report"):
        left = column in ("sweep", "instrument", "best point", "metric", "report")
        table.add_column(column, justify="left" if left else "right")
    for report in reports:
        if report.parent.parent.name != "sweeps":
            continue
        summary = read_sweep_summary(settings.ntrader.artifacts, report.parent.name, report.stem)
        table.add_row(
            summary.sweep, summary.instrument_id, str(summary.points), summary.best_label, summary.metric,
            _number(summary.best_value), _number(summary.oos_value),
            _number(summary.deflated_sharpe, "{:.0%}"), _number(summary.pbo, "{:.0%}"), str(report),
        )  # fmt: skip
    if table.row_count:
        console.print(table)


def _number(value: float | None, form: str = "{:.2f}") -> str:
    return "n/a" if value is None else form.format(value)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT))  # before the settings: the pacing DB sits beside it
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(str(exc))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--start", default=settings.ntrader.demo_start.isoformat())
    parser.add_argument("--end", default=settings.ntrader.demo_end.isoformat())
    parser.add_argument("--verbose", action="store_true", help="Dagster's full event stream on the terminal")
    args = parser.parse_args(argv)
    log = settings.ntrader.logs / f"demo-{time.strftime('%Y%m%d-%H%M%S')}.log"
    started = time.monotonic()
    with logs_to_file(log, verbose=args.verbose):
        configure_logging()
        with EmbeddedGateway() as gateway:
            console.print(f"embedded IB gateway on {gateway.host}:{gateway.port}; "
                          f"demo window {args.start}..{args.end}")  # fmt: skip
            ib = settings.ib.model_copy(update={"host": gateway.host, "port": gateway.port})
            try:
                fetched, reports = run_demo(settings.model_copy(update={"ib": ib}), args.start, args.end)
            except DemoFailed as exc:
                console.print(f"[red]demo failed while running {exc}[/]")
                console.print(f"logs: {log}")
                sys.exit(1)
    print_summary(settings, fetched, reports, time.monotonic() - started)
    if not args.verbose:
        console.print(f"logs: {log}")


if __name__ == "__main__":
    main()
