"""One process of the pacing test: fetch sessions round-robin over symbols through IBFetcher (limiter on).

python -m ntrader_pipeline_tests.ingest.pacing_worker PORT PACING_DB SYMBOLS FIRST COUNT
Prints {"requests": N, "waited_s": S} as JSON.
"""

import json
import sys

from ntrader_pipeline.ib.fetcher import IBFetcher
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.markets.universe import BarSpec, InstrumentSpec
from ntrader_pipeline.settings import IBSettings

EXCHANGES = {
    "SPY": "ARCA",
    "QQQ": "NASDAQ",
    "IWM": "ARCA",
    "AAPL": "NASDAQ",
    "MSFT": "NASDAQ",
    "NVDA": "NASDAQ",
}
DAY = BarSpec.parse("1-DAY-LAST")


def main(port: str, pacing_db: str, symbols: str, first: str, count: str) -> None:
    settings = IBSettings(
        port=int(port), client_id=int(first) + 10, pacing=True, pacing_db=pacing_db, pacing_max_wait_s=120,
        request_timeout_s=5, max_attempts=1,
    )  # fmt: skip
    specs = [InstrumentSpec(symbol=s, primary_exchange=EXCHANGES[s]) for s in symbols.split(",")]
    sessions = sessions_between("2023-01-03", "2023-12-29")[int(first) : int(first) + int(count)]
    with IBFetcher(settings) as fetcher:
        for session in sessions:
            for spec in specs:
                fetcher.session(spec, DAY, session)
        waited = fetcher.limiter.waited_s if fetcher.limiter else 0.0
        print(json.dumps({"requests": fetcher.stats.requests, "waited_s": round(waited, 2)}))


if __name__ == "__main__":
    main(*sys.argv[1:])
