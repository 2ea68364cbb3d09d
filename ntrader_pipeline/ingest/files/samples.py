"""Sample bar files from the project's deterministic synthetic bars, in the common vendor layout.

Intraday: `timestamp,open,high,low,close,volume` with naive exchange-local stamps; daily:
`date,open,high,low,close,volume`. Parquet files carry the same columns with a native (naive)
datetime or date column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from ntrader_pipeline.gateway.synthetic import DAY, session_bars
from ntrader_pipeline.markets.sessions import EXCHANGE_TIMEZONE, sessions_between

_PRICE_COLUMNS = ("open", "high", "low", "close")


def synthetic_frame(symbol: str, start: str, end: str, bar_seconds: int = 60) -> pl.DataFrame:
    """All sessions' synthetic bars in [start, end]: `start` (UTC epoch seconds of the bar open), OHLCV."""
    series = [session_bars(symbol, s.date, bar_seconds) for s in sessions_between(start, end)]
    if not series:
        raise ValueError(f"no NYSE sessions between {start} and {end}: nothing to write")
    columns = {
        "start": np.concatenate([s.start for s in series]),
        **{name: np.concatenate([getattr(s, name) for s in series]) for name in _PRICE_COLUMNS},
        "volume": np.concatenate([s.volume for s in series]),
    }
    return pl.DataFrame(columns)


def _local_stamps(bar_seconds: int, timezone: str, marks: str) -> pl.Expr:
    """Naive local wall-clock stamps of each bar's open (or close)."""
    start = pl.col("start")
    if marks == "close":
        # Bar ends are on the bar-size grid: a first hourly bar (09:30-10:00) is stamped 10:00.
        start = (start // bar_seconds + 1) * bar_seconds
    return (
        pl.from_epoch(start, time_unit="s")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(timezone)
        .dt.replace_time_zone(None)
    )


def write_sample_file(
    path: Path,
    symbol: str,
    start: str,
    end: str,
    *,
    bar_seconds: int = 60,
    format: Literal["csv", "parquet"] = "csv",
    timezone: str = "America/New_York",
    timestamp_marks: Literal["open", "close"] = "open",
) -> Path:
    """Write the synthetic bars of every NYSE session in [start, end] to `path` and return it.

    `bar_seconds` is 60, 300, 3600 or 86400; daily files carry the session date, so `timezone` and
    `timestamp_marks` apply to intraday files only.
    """
    frame = synthetic_frame(symbol, start, end, bar_seconds)
    if bar_seconds == DAY:
        stamp = _local_stamps(bar_seconds, EXCHANGE_TIMEZONE, "open").dt.date().alias("date")
    else:
        stamp = _local_stamps(bar_seconds, timezone, timestamp_marks).alias("timestamp")
    frame = frame.select(stamp, *_PRICE_COLUMNS, "volume")
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "parquet":
        frame.write_parquet(path)
    else:
        frame.write_csv(path, datetime_format="%Y-%m-%d %H:%M:%S", date_format="%Y-%m-%d")
    return path


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Write a sample bar file from the synthetic bars.")
    parser.add_argument("path", type=Path, help="output file (.csv or .parquet)")
    parser.add_argument("symbol")
    parser.add_argument("start", help="first session, YYYY-MM-DD")
    parser.add_argument("end", help="last session, YYYY-MM-DD")
    parser.add_argument("--bar-seconds", type=int, default=60, choices=(60, 300, 3600, DAY))
    args = parser.parse_args()
    file_format = "parquet" if args.path.suffix == ".parquet" else "csv"
    written = write_sample_file(
        args.path, args.symbol, args.start, args.end, bar_seconds=args.bar_seconds, format=file_format
    )
    print(f"wrote {written}")


if __name__ == "__main__":
    main()
