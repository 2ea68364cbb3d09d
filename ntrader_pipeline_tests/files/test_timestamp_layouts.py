"""Every supported way of writing the timestamp reads back as the same bars."""

import polars as pl
import pytest

from ntrader_pipeline.gateway.synthetic import DAY
from ntrader_pipeline.ingest.files.samples import write_sample_file
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline_tests.files.helpers import SYMBOL, as_written, reader

SESSIONS = [session_for(d) for d in ("2024-03-08", "2024-03-11", "2024-07-03")]  # DST starts 03-10
LOCAL = pl.col("timestamp").dt.replace_time_zone("America/New_York")

INTRADAY = {
    "iso T": pl.col("timestamp").dt.strftime("%Y-%m-%dT%H:%M:%S"),
    "IB two spaces": pl.col("timestamp").dt.strftime("%Y%m%d  %H:%M:%S"),
    "US month first": pl.col("timestamp").dt.strftime("%m/%d/%Y %H:%M"),
    "fractional seconds": pl.col("timestamp").dt.strftime("%Y-%m-%d %H:%M:%S.000"),
    "UTC Z": LOCAL.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "epoch seconds": LOCAL.dt.epoch("s").cast(pl.String),
    "epoch ms integers": LOCAL.dt.epoch("ms"),
    "native aware": LOCAL,
    "native UTC": LOCAL.dt.convert_time_zone("UTC"),
    "native naive us": pl.col("timestamp").dt.cast_time_unit("us"),
}
DAILY = {
    "native date": pl.col("date"),
    "YYYYMMDD": pl.col("date").dt.strftime("%Y%m%d"),
    "midnight UTC Z": pl.col("date").dt.strftime("%Y-%m-%dT00:00:00Z"),
    "closing stamp with offset": pl.col("date").dt.strftime("%Y-%m-%d 16:00:00-05:00"),
    "epoch seconds of the open": pl.col("date").cast(pl.Datetime).dt.offset_by("14h30m").dt.epoch("s"),
}


def _rewrite(source, target, column: str, expression: pl.Expr) -> None:
    frame = pl.read_parquet(source).with_columns(expression.alias(column))
    if target.suffix == ".csv":
        frame.write_csv(target)
    else:
        frame.write_parquet(target)


# CSV has no native datetimes.
INTRADAY_CASES = [
    (name, suffix)
    for name in INTRADAY
    for suffix in ("csv", "parquet")
    if suffix == "parquet" or not name.startswith("native")
]


@pytest.mark.parametrize(("layout", "suffix"), INTRADAY_CASES)
def test_intraday_layouts(tmp_path, layout, suffix):
    sample = write_sample_file(tmp_path / "s.parquet", SYMBOL, "2024-03-07", "2024-07-05", format="parquet")
    _rewrite(sample, tmp_path / f"t.{suffix}", "timestamp", INTRADAY[layout])
    expected = reader(tmp_path, "s.parquet").read_sessions(SESSIONS)
    read = reader(tmp_path, f"t.{suffix}").read_sessions(SESSIONS)
    assert [len(read[s.date]) for s in SESSIONS] == [390, 390, 210]
    assert all(as_written(read[s.date]) == as_written(expected[s.date]) for s in SESSIONS)


@pytest.mark.parametrize("layout", list(DAILY))
def test_daily_layouts(tmp_path, layout):
    sample = write_sample_file(
        tmp_path / "d.parquet", SYMBOL, "2024-03-01", "2024-07-31", bar_seconds=DAY, format="parquet"
    )
    _rewrite(sample, tmp_path / "t.csv", "date", DAILY[layout])
    expected = reader(tmp_path, "d.parquet", bar_spec="1-DAY-LAST").read_sessions(SESSIONS)
    read = reader(tmp_path, "t.csv", bar_spec="1-DAY-LAST").read_sessions(SESSIONS)
    assert [len(read[s.date]) for s in SESSIONS] == [1, 1, 1]
    assert all(as_written(read[s.date]) == as_written(expected[s.date]) for s in SESSIONS)
