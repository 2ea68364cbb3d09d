"""One-year backfill of the illiquid ILLQ.NASDAQ (1-minute and daily TRADES bars, 2023-03-01..2024-02-29)
through `ingest.run.ingest_sessions` and the real Nautilus IB client against an `EmbeddedGateway()` with
its default market realities (listed 2023-09-12, ~30 % of minutes without a trade, a halt, a 4:1 split),
into a temporary catalog.

Pacing is OFF on both sides by default (the gateway's pacing emulation and the client's limiter): with IB's
limits (60 requests / 10 min) the minute backfill would spend ~20 minutes waiting, which measures the
limiter, not the pipeline. `--pacing` turns both on.

Prints the requests the gateway received (historical, head timestamp, contract details), the sessions
stored, flagged (stored with missing minutes, and how many minutes), not listed and failed, and the wall
time per bar spec. Never fails on timing.

Run: python benchmarks/illiquid_backfill.py [--pacing] [--first 2023-03-01] [--last 2024-02-29]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.ib.fetcher import IBFetcher
from ntrader_pipeline.ingest.run import SessionStatus, ingest_sessions
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.markets.universe import BarSpec, load_universe
from ntrader_pipeline.settings import IBSettings

INSTRUMENT = "ILLQ.NASDAQ"
SPECS = ("1-MINUTE-LAST", "1-DAY-LAST")
REQUEST_NAMES = {20: "historical", 87: "head timestamp", 9: "contract details"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", default="2023-03-01")
    parser.add_argument("--last", default="2024-02-29")
    parser.add_argument("--pacing", action="store_true", help="gateway pacing emulation and client limiter")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="illiquid_backfill_"))
    universe_file = work / "universe.yaml"
    universe_file.write_text(
        f"bar_specs: [{', '.join(SPECS)}]\ninstruments:\n  - {{symbol: ILLQ, primary_exchange: NASDAQ}}\n"
    )
    universe = load_universe(universe_file)
    store = CatalogStore(work / "catalog")
    dates = [s.key for s in sessions_between(args.first, args.last)]
    pacing = "on" if args.pacing else "off"
    print(f"{INSTRUMENT} {args.first}..{args.last}: {len(dates)} sessions; pacing {pacing}")
    print(f"catalog: {work / 'catalog'}")

    with EmbeddedGateway(pacing=args.pacing) as gateway:
        settings = IBSettings(
            host=gateway.host,
            port=gateway.port,
            pacing=args.pacing,
            pacing_db=str(work / "ib_pacing.sqlite"),
        )
        total_started = time.monotonic()
        for name in SPECS:
            spec = BarSpec.parse(name)
            gateway.requests.clear()
            started = time.monotonic()
            records = list(
                ingest_sessions(universe, spec, {INSTRUMENT: dates}, store, lambda: IBFetcher(settings))
            )
            elapsed = time.monotonic() - started
            _report(name, records, gateway, elapsed)
        print(f"\ntotal wall time: {time.monotonic() - total_started:.1f} s")


def _report(name: str, records: list, gateway: EmbeddedGateway, elapsed: float) -> None:
    statuses = Counter(r.status for r in records)
    flagged = [r for r in records if r.sparse]
    received = Counter(
        REQUEST_NAMES.get(r.message_id, f"message {r.message_id}") for r in gateway.requests.all()
    )
    historical = gateway.requests.historical_requests()
    outcomes = Counter(r.outcome.split(" ")[0] for r in historical)
    written = [r for r in records if r.status is SessionStatus.WRITTEN]
    print(f"\n{name}")
    print(
        f"  requests sent: {received['historical']} historical ({dict(outcomes)}), "
        f"{received['head timestamp']} head timestamp, {received['contract details']} contract details; "
        f"all messages after the handshake: {sum(received.values())}"
    )
    print(
        f"  sessions: {len(records)} — stored {len([r for r in records if r.stored])} "
        f"(written {statuses[SessionStatus.WRITTEN]}, empty {statuses[SessionStatus.EMPTY]}, "
        f"not listed {statuses[SessionStatus.NOT_LISTED]}, closed {statuses[SessionStatus.CLOSED]}), "
        f"failed {statuses[SessionStatus.FAILED]}"
    )
    if flagged:
        missing = sum(r.missing_bars for r in flagged)
        expected = sum(r.expected_bars or 0 for r in written)
        longest = max(flagged, key=lambda r: r.longest_gap)
        print(
            f"  flagged (stored with missing bars): {len(flagged)} sessions, {missing} of {expected} bars "
            f"missing ({missing / expected:.1%}); longest gap {longest.longest_gap} on {longest.date}"
        )
    else:
        print("  flagged (stored with missing bars): 0 sessions")
    print(f"  bars stored: {sum(r.bars for r in written)}; retries: {sum(r.attempts - 1 for r in written)}")
    for record in [r for r in records if r.status is SessionStatus.FAILED][:3]:
        print(f"  failed {record.date}: {record.detail}")
    print(f"  wall time: {elapsed:.1f} s")


if __name__ == "__main__":
    main()
