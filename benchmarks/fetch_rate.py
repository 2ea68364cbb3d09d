"""IB fetch rate, two comparisons (each side in its own process; Nautilus logging is once per process).

Default — sequential vs concurrent at IB's answer time: N synthetic stocks × S sessions of 1-minute bars
through the pipeline's ingest path (`ingest_sessions`: pacing limiter on, retries, completeness check,
catalog writes into a temporary catalog) against the embedded gateway with its answer-time model on
(0.4 s + 0.5 ms per bar, the soft throttle; gateway/latency.py) and its pacing emulation on.
"sequential" is IB_MAX_OPEN_REQUESTS=1, "concurrent" the default (8) or --max-open. The two run on the
same sessions in alternating order over --rounds rounds; printed: sessions/s, bars/s, the ratio, the
peak of open requests the gateway saw and its pacing violations (162), which must be 0.
--baseline-tree PATH adds a sequential run of another checkout's code (e.g. `git archive` of main).

--vs-bare — the earlier comparison: 10 instrument-years of the fixed contracts, one "1 D" request per
session, our `IBFetcher` against a bare `HistoricInteractiveBrokersClient` loop, gateway answering at once.

Run: .venv/bin/python benchmarks/fetch_rate.py [--instruments 20] [--sessions 10] [--max-open 8]
     [--rounds 2] [--baseline-tree PATH] | --vs-bare [--sessions N] [--limiter]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

# The code under test: this checkout, or the one a worker was started for (--baseline-tree).
REPO_ROOT = Path(__file__).resolve().parents[1]
TREE_VARIABLE = "FETCH_RATE_TREE"
sys.path.insert(0, os.environ.get(TREE_VARIABLE, str(REPO_ROOT)))

from ntrader_pipeline.markets.sessions import TradingSession, sessions_between  # noqa: E402
from ntrader_pipeline.markets.universe import BarSpec, InstrumentSpec  # noqa: E402

if TYPE_CHECKING:
    from ntrader_pipeline.gateway import EmbeddedGateway

EXCHANGES = {
    "SPY": "ARCA",
    "QQQ": "NASDAQ",
    "IWM": "ARCA",
    "AAPL": "NASDAQ",
    "MSFT": "NASDAQ",
    "NVDA": "NASDAQ",
}
INSTRUMENT_YEARS = [(s, 2023) for s in EXCHANGES] + [(s, 2022) for s in ("SPY", "QQQ", "IWM", "AAPL")]
MINUTE = BarSpec.parse("1-MINUTE-LAST")
REQUEST_TIMEOUT_S = 30


def workload(sessions_per_year: int) -> list[tuple[InstrumentSpec, list[TradingSession]]]:
    return [
        (
            InstrumentSpec(symbol=symbol, primary_exchange=EXCHANGES[symbol]),
            sessions_between(f"{year}-01-01", f"{year}-12-31")[:sessions_per_year],
        )
        for symbol, year in INSTRUMENT_YEARS
    ]


def run_ours(port: int, sessions_per_year: int, limiter: bool) -> dict:
    from ntrader_pipeline.ib.fetcher import IBFetcher, SessionResult
    from ntrader_pipeline.settings import IBSettings

    pacing_db = str(Path(tempfile.mkdtemp()) / "ib_pacing.sqlite")
    settings = IBSettings(
        port=port, client_id=21, request_timeout_s=REQUEST_TIMEOUT_S, pacing=limiter, pacing_db=pacing_db
    )
    work = workload(sessions_per_year)  # calendar loading is not fetching: outside the timed part
    bars = requests = 0
    started = time.perf_counter()
    with IBFetcher(settings) as fetcher:
        for spec, sessions in work:
            fetcher.instrument(spec)
            for result in fetcher.sessions(spec, MINUTE, sessions):
                assert isinstance(result, SessionResult) and not result.is_empty, result
                bars += len(result.bars)
        requests = fetcher.stats.requests
    return {"seconds": time.perf_counter() - started, "bars": bars, "requests": requests}


def run_bare(port: int, sessions_per_year: int, debug: bool) -> dict:
    from nautilus_trader.adapters.interactive_brokers.historical.client import (
        HistoricInteractiveBrokersClient,
    )

    from ntrader_pipeline.ib.contracts import contract_for

    os.environ.setdefault("IB_MAX_CONNECTION_ATTEMPTS", "1")

    work = workload(sessions_per_year)

    async def fetch_all() -> dict:
        client = HistoricInteractiveBrokersClient(port=port, client_id=22, log_level="ERROR")
        if not debug:  # the client switches asyncio debug mode on; IBFetcher switches it off
            asyncio.get_running_loop().set_debug(False)
        started = time.perf_counter()  # like IBFetcher's figure: connection included
        await client.connect()
        bars = requests = 0
        for spec, sessions in work:
            contract = contract_for(spec)
            await client.request_instruments(contracts=[contract])
            for session in sessions:
                received = await client.request_bars(
                    bar_specifications=[str(MINUTE)],
                    end_date_time=session.close.replace(tzinfo=None),
                    tz_name="UTC",
                    duration="1 D",
                    contracts=[contract],
                    use_rth=True,
                    timeout=REQUEST_TIMEOUT_S,
                )
                requests += 1
                bars += len(received)
        elapsed = time.perf_counter() - started
        await client._client._stop_async()
        return {"seconds": elapsed, "bars": bars, "requests": requests}

    return asyncio.run(fetch_all())


def measure(mode: str, port: int, sessions: int) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", mode, "--port", str(port), "--sessions", str(sessions)],
        env=_child_env(str(REPO_ROOT)),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main_vs_bare(args: argparse.Namespace) -> None:
    port_file = Path(tempfile.mkdtemp()) / "port"
    gateway = subprocess.Popen(
        [sys.executable, "-m", "ntrader_pipeline.gateway", "--port", "0", "--port-file", str(port_file),
         "--log-level", "WARNING", "--no-latency"],
        env=_child_env(str(REPO_ROOT)),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if gateway.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the embedded gateway did not start")
            time.sleep(0.1)
        port = int(port_file.read_text())
        modes = ["bare", "bare-nodebug", "ours"] + (["ours+limiter"] if args.limiter else [])
        print(f"{len(INSTRUMENT_YEARS)} instrument-years × {args.sessions} sessions of 1-minute bars, "
              "one '1 D' request per session, embedded gateway (no pacing emulation or latency)")  # fmt: skip
        results = {mode: measure(mode, port, args.sessions) for mode in modes}
    finally:
        gateway.terminate()
        gateway.wait(timeout=10)
    bare, nodebug = results["bare"]["seconds"], results["bare-nodebug"]["seconds"]
    print("time ratios: to the bare client as constructed (asyncio debug on) / with debug mode off")
    for mode, r in results.items():
        print(
            f"{mode:<14} {r['seconds']:8.2f} s  {r['requests']:6d} requests  {r['bars']:9d} bars  "
            f"{r['bars'] / r['seconds']:9.0f} bars/s  "
            f"{r['seconds'] / bare:.2f}x / {r['seconds'] / nodebug:.2f}x"
        )


# -- sequential vs concurrent at IB's answer time -------------------------------------------------------

FIRST_SESSION = "2024-01-02"


def _child_env(tree: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": tree, TREE_VARIABLE: tree}


def run_ingest(port: int, universe_file: str, sessions: int, max_open: int, client_id: int) -> dict:
    """One backfill through `ingest_sessions` into a fresh temporary catalog (worker process)."""
    from ntrader_pipeline.catalog.store import CatalogStore
    from ntrader_pipeline.ib.fetcher import IBFetcher
    from ntrader_pipeline.ingest.run import SessionStatus, ingest_sessions
    from ntrader_pipeline.markets.universe import load_universe
    from ntrader_pipeline.settings import IBSettings

    scratch = Path(tempfile.mkdtemp(prefix="fetch_rate_"))
    settings = IBSettings(
        port=port, client_id=client_id, request_timeout_s=60, pacing_db=str(scratch / "ib_pacing.sqlite"),
        max_open_requests=max_open,
    )  # fmt: skip
    universe = load_universe(universe_file)
    dates = [s.key for s in sessions_between(FIRST_SESSION, "2025-12-31")[:sessions]]
    requested = {i.instrument_id: dates for i in universe.instruments}
    store = CatalogStore(scratch / "catalog")
    started = time.perf_counter()
    records = list(ingest_sessions(universe, MINUTE, requested, store, lambda: IBFetcher(settings)))
    seconds = time.perf_counter() - started
    written = [r for r in records if r.status is SessionStatus.WRITTEN]
    failed = [r.detail for r in records if r.status is SessionStatus.FAILED]
    return {"seconds": seconds, "sessions": len(written), "bars": sum(r.bars for r in written),
            "failed": len(failed), "first_failure": failed[0] if failed else None}  # fmt: skip


def measure_ingest(tree: str, port: int, args: argparse.Namespace, max_open: int, client_id: int) -> dict:
    command = [
        sys.executable, __file__, "--worker", "ingest", "--port", str(port), "--universe", args.universe,
        "--sessions", str(args.sessions), "--max-open", str(max_open), "--client-id", str(client_id),
    ]  # fmt: skip
    completed = subprocess.run(command, env=_child_env(tree), capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"ingest run (max open {max_open}, tree {tree}) failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _gateway_figures(gateway: EmbeddedGateway) -> dict:
    records = gateway.requests.historical_requests()
    return {
        "requests": len(records),
        "pacing_violations": sum(1 for r in records if r.error_code == 162),
        "peak_open": gateway.requests.peak_open_historical(),
        "throttle_s": sum(r.throttle_s for r in records),
        "latency_s": sum(r.latency_s for r in records),
    }


def _print_run(label: str, r: dict) -> None:
    seconds = r["seconds"]
    print(
        f"{label:<26} {seconds:7.2f} s {r['sessions']:5d} sessions {r['sessions'] / seconds:6.2f}/s "
        f"{r['bars'] / seconds:7.0f} bars/s  requests {r['requests']:5d}  peak open {r['peak_open']:2d}  "
        f"pacing violations {r['pacing_violations']}  throttled {r['throttle_s']:.1f} s  failed {r['failed']}"
    )


def main_scale(args: argparse.Namespace) -> None:
    from ntrader_pipeline.gateway import EmbeddedGateway
    from ntrader_pipeline.gateway.latency import AnswerTimeModel
    from ntrader_pipeline.gateway.universe import write_universe

    model = AnswerTimeModel()
    args.universe = str(
        write_universe(Path(tempfile.mkdtemp()) / "universe.yaml", args.instruments, ["1-MINUTE-LAST"])
    )
    print(
        f"{args.instruments} synthetic stocks × {args.sessions} sessions of 1-minute bars from "
        f"{FIRST_SESSION} through ingest_sessions; gateway answer time {model.base_s} s + "
        f"{model.per_bar_s * 1000:.1f} ms/bar, soft throttle beyond {model.throttle_free_open} open, "
        f"pacing emulation on; {args.rounds} round(s)"
    )
    runs: dict[str, list[dict]] = {"sequential": [], "concurrent": []}
    client_ids = iter(range(40, 200))
    with EmbeddedGateway(synthetic_stocks=args.instruments, answer_time=model, pacing=True) as gateway:

        def one(tree: str, max_open: int) -> dict:
            gateway.requests.clear()
            result = measure_ingest(tree, gateway.port, args, max_open, next(client_ids))
            return {**result, **_gateway_figures(gateway)}

        if args.baseline_tree:
            baseline = one(str(Path(args.baseline_tree).resolve()), 1)
            _print_run("baseline sequential", baseline)
        for round_number in range(args.rounds):
            order = [("sequential", 1), ("concurrent", args.max_open)]
            for name, max_open in order if round_number % 2 == 0 else reversed(order):
                result = one(str(REPO_ROOT), max_open)
                runs[name].append(result)
                _print_run(f"round {round_number + 1} {name} ({max_open})", result)
    _print_summary(runs, args)


def _print_summary(runs: dict[str, list[dict]], args: argparse.Namespace) -> None:
    def total(name: str, key: str) -> float:
        return sum(r[key] for r in runs[name])

    seq_rate = total("sequential", "sessions") / total("sequential", "seconds")
    conc_rate = total("concurrent", "sessions") / total("concurrent", "seconds")
    seq_bars = total("sequential", "bars") / total("sequential", "seconds")
    conc_bars = total("concurrent", "bars") / total("concurrent", "seconds")
    violations = int(total("sequential", "pacing_violations") + total("concurrent", "pacing_violations"))
    print(f"{'':<14}{'sequential (1)':>16}{f'concurrent ({args.max_open})':>18}{'ratio':>9}")
    print(f"{'sessions/s':<14}{seq_rate:>16.2f}{conc_rate:>18.2f}{conc_rate / seq_rate:>8.2f}x")
    print(f"{'bars/s':<14}{seq_bars:>16.0f}{conc_bars:>18.0f}{conc_bars / seq_bars:>8.2f}x")
    print(f"pacing violations: {violations} (must be 0)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--vs-bare", action="store_true", help="the earlier comparison with a bare client")
    parser.add_argument("--instruments", type=int, default=20, help="synthetic stocks (default 20)")
    parser.add_argument(
        "--sessions", type=int, help="sessions per instrument (default 10; --vs-bare: per year, 252)"
    )
    parser.add_argument("--max-open", type=int, default=8, help="concurrent side's IB_MAX_OPEN_REQUESTS")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, alternating the order (default 2)")
    parser.add_argument("--baseline-tree", help="also run sequentially with the code of this checkout")
    parser.add_argument(
        "--limiter", action="store_true", help="--vs-bare: also run our path with the pacing limiter on"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--universe", help=argparse.SUPPRESS)
    parser.add_argument("--client-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "ingest":
        print(json.dumps(run_ingest(args.port, args.universe, args.sessions, args.max_open, args.client_id)))
    elif args.worker:
        runs = {
            "ours": lambda: run_ours(args.port, args.sessions, limiter=False),
            "ours+limiter": lambda: run_ours(args.port, args.sessions, limiter=True),
            "bare": lambda: run_bare(args.port, args.sessions, debug=True),
            "bare-nodebug": lambda: run_bare(args.port, args.sessions, debug=False),
        }
        print(json.dumps(runs[args.worker]()))
    elif args.vs_bare:
        args.sessions = args.sessions or 252
        main_vs_bare(args)
    else:
        args.sessions = args.sessions or 10
        main_scale(args)


if __name__ == "__main__":
    main()
