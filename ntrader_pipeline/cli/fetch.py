"""`ntrader fetch --instruments … --start … --end …`: bars materialized through Dagster on the configured
instance (DAGSTER_HOME; the UI sees the runs), one single-run backfill per instrument, with progress."""

from __future__ import annotations

import datetime as dt
import time

import dagster as dg
from rich.table import Table

from ntrader_pipeline.backtest.declarations import load_declarations
from ntrader_pipeline.cli.console import advance, console, logs_to_file, progress_bars
from ntrader_pipeline.cli.dagster_runs import failure_message, fetch_range
from ntrader_pipeline.defs import build_definitions
from ntrader_pipeline.defs.partitions import build_partitions
from ntrader_pipeline.markets.bar_specs import BarSpec, bars_asset_name
from ntrader_pipeline.markets.universe import Universe, UniverseError, load_universe
from ntrader_pipeline.settings import Settings


def session_keys(universe: Universe, settings: Settings, start: str, end: str) -> list[str]:
    """The closed sessions from `start` to `end` (either may fall on a weekend or a holiday)."""
    sessions = build_partitions(universe, settings.ntrader.first_session).sessions
    now = dt.datetime.now(dt.UTC)
    dates = [d.isoformat() for d in sessions.dates if start <= d.isoformat() <= end]
    return [d for d in dates if d in set(sessions.in_month(d, now))]


def run_fetch(
    settings: Settings,
    instruments: list[str],
    start: str,
    end: str,
    bar_specs: list[str] | None,
    *,
    verbose: bool,
) -> int:
    for name, value in (("--start", start), ("--end", end)):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            console.print(f"[red]{name} {value!r} is not a date (YYYY-MM-DD)[/]")
            return 2
    universe = load_universe(settings.ntrader.universe)
    try:
        specs = {i: _asset_keys(universe, i, bar_specs) for i in instruments}
    except (UniverseError, ValueError) as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    keys = session_keys(universe, settings, start, end)
    if not keys:
        console.print(f"[red]no sessions between {start} and {end} (first partition: "
                      f"{settings.ntrader.first_session}, NTRADER_FIRST_SESSION)[/]")  # fmt: skip
        return 2
    defs = build_definitions(settings, universe, load_declarations(settings.ntrader.backtests, universe))
    log = settings.ntrader.logs / f"fetch-{time.strftime('%Y%m%d-%H%M%S')}.log"
    rows, failures = [], []
    with dg.DagsterInstance.get() as instance, logs_to_file(log, verbose=verbose), progress_bars() as bars:
        for instrument_id, asset_keys in specs.items():
            task = bars.add_task(f"fetch {instrument_id}", total=len(keys) * len(asset_keys), detail="")
            result, state = fetch_range(
                defs, instance, instrument_id, keys[0], keys[-1], asset_keys, on_progress=advance(bars, task)
            )
            rows.append((instrument_id, state.sessions, state.bars, state.flagged, result))
            if not result.success:
                failures.append(f"{instrument_id}: {failure_message(result)}")
    table = Table(title=f"fetched {keys[0]}..{keys[-1]} ({len(keys)} sessions)", title_justify="left")
    for column in ("instrument", "sessions stored", "bars", "flagged", "run"):
        table.add_column(column)
    for instrument_id, stored, bar_count, flagged, result in rows:
        status = "[green]ok[/]" if result.success else "[red]failed[/]"
        table.add_row(
            instrument_id, str(stored), f"{bar_count:,}", str(flagged), f"{status} {result.run_id[:8]}"
        )
    console.print(table)
    for failure in failures:
        console.print(f"[red]{failure}[/]")
    if not verbose:
        console.print(f"logs: {log}")
    return 1 if failures else 0


def _asset_keys(universe: Universe, instrument_id: str, bar_specs: list[str] | None) -> list[dg.AssetKey]:
    instrument = universe.instrument(instrument_id)
    wanted = [BarSpec.parse(s) for s in bar_specs] if bar_specs else universe.all_bar_specs
    provided = [s for s in wanted if universe.provides(instrument, s)]
    if not provided:
        raise ValueError(
            f"{instrument_id} provides none of {', '.join(str(s) for s in wanted)}; the universe "
            f"({universe.base_dir}) fetches {', '.join(str(s) for s in universe.bar_specs)}"
        )
    return [dg.AssetKey(bars_asset_name(s)) for s in provided]
