"""IB fetch rate: 10 instrument-years of 1-minute bars (one "1 D" request per session) through our fetch
path (`IBFetcher`: bounded waits, error capture, completeness check, outcome classification) against a
bare `HistoricInteractiveBrokersClient` loop issuing the same requests, both on the embedded gateway
with its pacing emulation off. Prints wall time, bars/s and the ratio; never fails on timing.

The gateway serves six equities, so the ten instrument-years are SPY QQQ IWM AAPL MSFT NVDA in 2023 and
SPY QQQ IWM AAPL in 2022. Each side runs in its own process (Nautilus logging is once per process), the
gateway in a third.

Run: .venv/bin/python benchmarks/fetch_rate.py [--sessions N] [--limiter]
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

from ntrader_pipeline.markets.sessions import TradingSession, sessions_between
from ntrader_pipeline.markets.universe import BarSpec, InstrumentSpec

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
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=252, help="sessions per instrument-year (252: all)")
    parser.add_argument(
        "--limiter", action="store_true", help="also run our path with the client-side pacing limiter on"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        runs = {
            "ours": lambda: run_ours(args.port, args.sessions, limiter=False),
            "ours+limiter": lambda: run_ours(args.port, args.sessions, limiter=True),
            "bare": lambda: run_bare(args.port, args.sessions, debug=True),
            "bare-nodebug": lambda: run_bare(args.port, args.sessions, debug=False),
        }
        print(json.dumps(runs[args.worker]()))
        return

    port_file = Path(tempfile.mkdtemp()) / "port"
    gateway = subprocess.Popen(
        [sys.executable, "-m", "ntrader_pipeline.gateway", "--port", "0", "--port-file", str(port_file),
         "--log-level", "WARNING"],
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
              f"one '1 D' request per session, embedded gateway (pacing emulation off)")  # fmt: skip
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


if __name__ == "__main__":
    main()
