"""The child processes of `scale.py --only backtest`: one writes the history, one runs the backtest on it.

Run by `scale.py` (each step in its own process, so the backtest's peak RSS is its own, not the writer's
nor Dagster's):
  scale_backtest.py write CATALOG FIRST LAST      synthetic RTH 1-minute bars of SPY.ARCA for the NYSE
                                                  sessions FIRST..LAST (`synthetic_bars`) and its
                                                  instrument definition, through the store
  scale_backtest.py run CATALOG FIRST LAST OUT    the committed `sma_cross` declaration over FIRST..LAST,
                                                  SPY.ARCA its own benchmark index, through the declared
                                                  backtest path; artefacts under OUT
Each prints one JSON line of figures on stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO)]  # synthetic_bars, and this tree's packages first

from synthetic_bars import BAR_TYPE, INSTRUMENT_ID, write_month_layout  # noqa: E402

from ntrader_pipeline.backtest import run as declared  # noqa: E402
from ntrader_pipeline.backtest.declarations import BacktestDeclaration, declaration_from  # noqa: E402
from ntrader_pipeline.backtest.run import artifact_directory, load_backtest_inputs, run_on_inputs  # noqa: E402
from ntrader_pipeline.catalog.store import CatalogStore  # noqa: E402
from ntrader_pipeline.markets.sessions import sessions_between  # noqa: E402
from ntrader_pipeline.markets.universe import load_universe  # noqa: E402
from ntrader_pipeline.yaml_files import read_yaml  # noqa: E402

BACKTEST = "sma_cross"
BACKTESTS_FILE = REPO / "data" / "backtests.yaml"
UNIVERSE_FILE = REPO / "data" / "universe.yaml"
MB = 1024 * 1024


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def write_history(catalog: Path, first: dt.date, last: dt.date) -> dict[str, float]:
    from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity

    store = CatalogStore(catalog)
    sessions = sessions_between(first, last)
    write_s = write_month_layout(store, sessions)
    store.write_instrument(ib_equity())  # SPY.ARCA as the IB adapter builds it
    return {"sessions": len(sessions), "write_s": write_s, "files": len(store.bar_files(BAR_TYPE))}


def sma_cross_declaration(first: dt.date, last: dt.date) -> BacktestDeclaration:
    """The committed `sma_cross` declaration on SPY.ARCA alone over first..last, SPY.ARCA its own index."""
    declared = read_yaml(BACKTESTS_FILE, "backtests file", "NTRADER_BACKTESTS", ValueError)
    entry = declared["backtests"][BACKTEST]
    values = {
        **entry,
        "instruments": [INSTRUMENT_ID],
        "index_instrument": INSTRUMENT_ID,
        "window": {"start": first, "end": last},
    }
    return declaration_from(BACKTESTS_FILE, BACKTEST, values, load_universe(UNIVERSE_FILE))


def timed_strategy_runs(spent: list[float]) -> None:
    """Time `run_strategy` (engine run and result frames) where `run_on_inputs` calls it, unchanged."""
    run_strategy = declared.run_strategy

    def timed(*args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return run_strategy(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    declared.run_strategy = timed


def run_backtest(catalog: Path, first: dt.date, last: dt.date, out: Path) -> dict[str, float]:
    """`run_declared_backtest`'s two steps, timed apart: load the inputs (quality gate over the window,
    bars read and decoded, catalog files hashed), then `run_on_inputs` (the engine run and result frames,
    timed inside it, then benchmarks, manifest, artefacts)."""
    declaration = sma_cross_declaration(first, last)
    store = CatalogStore(catalog)
    strategy_s: list[float] = []
    timed_strategy_runs(strategy_s)
    rss_before = _rss_bytes()
    started = time.perf_counter()
    inputs = load_backtest_inputs(declaration, INSTRUMENT_ID, store, "bars_1_minute")
    inputs_s = time.perf_counter() - started
    started = time.perf_counter()
    run = run_on_inputs(declaration, inputs, artifact_directory(out, declaration.name, INSTRUMENT_ID))
    run_s = time.perf_counter() - started
    bar_files = [f for f in run.manifest.catalog_files if f.path.startswith("data/bar/")]
    return {
        "window_start": str(run.manifest.window_start),
        "window_end": str(run.manifest.window_end),
        "sessions": run.manifest.sessions,
        "bars": run.manifest.bars,
        "bar_files": len(bar_files),
        "catalog_files": len(run.manifest.catalog_files),
        "fills": run.result.fills.height,
        "inputs_s": inputs_s,
        "run_s": run_s,
        "strategy_s": sum(strategy_s),
        "rss_before_mb": rss_before / MB,
        "peak_mb": _peak_rss_bytes() / MB,
    }


def main(argv: list[str]) -> None:
    step, catalog, first, last, *rest = argv
    first_day, last_day = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    if step == "write":
        figures = write_history(Path(catalog), first_day, last_day)
    elif step == "run":
        figures = run_backtest(Path(catalog), first_day, last_day, Path(rest[0]))
    else:
        raise SystemExit(f"unknown step {step!r}: write or run")
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1:])
