"""Each bad input fails with a FileSourceError naming the file, the line and the field."""

import polars as pl
import pytest

from ntrader_pipeline.ingest.errors import FetchError
from ntrader_pipeline.ingest.files.errors import FileSourceError
from ntrader_pipeline.ingest.files.samples import write_sample_file
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline_tests.files.helpers import SYMBOL, line_of, reader, rewrite_line

SESSION = session_for("2024-07-03")  # a half day: 09:30-13:00 New York
SESSIONS = [session_for("2024-07-02"), SESSION]
FIRST_LINE_OF_SESSION = 2 + 390  # the header, then 2024-07-02's 390 bars


@pytest.fixture
def sample(tmp_path):
    return write_sample_file(tmp_path / "spy.csv", SYMBOL, "2024-07-02", "2024-07-05")


def _error(tmp_path, path: str, sessions=SESSIONS, **fields) -> str:
    with pytest.raises(FileSourceError) as error:
        reader(tmp_path, path, **fields).read_sessions(sessions)
    assert isinstance(error.value, FetchError)
    return str(error.value)


def _sessions_at_fault(tmp_path, path: str, **fields) -> tuple:
    with pytest.raises(FileSourceError) as error:
        reader(tmp_path, path, **fields).read_sessions(SESSIONS)
    return error.value.sessions


def test_unparsable_timestamp(tmp_path, sample):
    line = FIRST_LINE_OF_SESSION + 5
    rewrite_line(sample, line, line_of(sample, line).replace("2024-07-03 09:35:00", "2024-07-03 9h35"))
    message = _error(tmp_path, "spy.csv")
    assert f"{sample} line {line}, field timestamp:" in message
    assert "cannot read '2024-07-03 9h35' as a timestamp" in message
    assert "%Y-%m-%d %H:%M:%S" in message


def test_missing_column_lists_the_columns_and_the_mapping_to_set(tmp_path, sample):
    pl.read_csv(sample).drop("volume").rename({"close": "Last"}).write_csv(sample)
    message = _error(tmp_path, "spy.csv")
    assert f"{sample} line 1 (header), field close: no column looks like close" in message
    assert "[timestamp, open, high, low, Last]" in message
    assert "Set columns: {close: <one of them>}" in message
    message = _error(tmp_path, "spy.csv", columns={"close": "Last"})
    assert f"{sample} line 1 (header), field volume" in message
    message = _error(tmp_path, "spy.csv", columns={"close": "Settle"})
    assert "field close: the mapped column 'Settle' is not in the file" in message


def test_non_numeric_price(tmp_path, sample):
    line = FIRST_LINE_OF_SESSION + 9
    fields = line_of(sample, line).split(",")
    rewrite_line(sample, line, ",".join([*fields[:4], "n/a", fields[5]]))
    message = _error(tmp_path, "spy.csv")
    assert f"{sample} line {line}, field close: 'n/a' is not a number" in message
    assert _sessions_at_fault(tmp_path, "spy.csv") == (SESSION.date,)


def test_non_numeric_price_in_parquet_names_row_group_and_row(tmp_path, sample):
    frame = pl.read_csv(sample, schema_overrides={"close": pl.String})
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 400).then(pl.lit("x")).otherwise("close").alias("close")
    )
    frame.write_parquet(tmp_path / "spy.parquet", row_group_size=300)
    message = _error(tmp_path, "spy.parquet")
    assert (
        "spy.parquet row group 1, row 100 (row 400 of the file), field close: 'x' is not a number" in message
    )


def test_duplicate_timestamps_name_both_lines(tmp_path, sample):
    line = FIRST_LINE_OF_SESSION + 20
    rewrite_line(sample, line + 1, line_of(sample, line))
    message = _error(tmp_path, "spy.csv")
    assert f"{sample} lines {line} and {line + 1}, field timestamp" in message
    assert "both rows are the 1-MINUTE-LAST bar opening 2024-07-03 09:50:00 America/New_York" in message


def test_row_outside_session_hours_names_session_and_hours(tmp_path, sample):
    # 13:00 on the half day is past its close; 17:00 is after any session.
    line = FIRST_LINE_OF_SESSION + 210
    assert line_of(sample, line).startswith("2024-07-05 09:30:00")
    rewrite_line(sample, line, line_of(sample, line).replace("2024-07-05 09:30:00", "2024-07-03 17:00:00"))
    message = _error(tmp_path, "spy.csv")
    assert f"{sample} line {line}, field timestamp: 2024-07-03 17:00:00 is a 1-MINUTE-LAST bar" in message
    assert "outside session 2024-07-03's regular trading hours 09:30-13:00 (13:30-17:00 UTC)" in message
    assert _sessions_at_fault(tmp_path, "spy.csv") == (SESSION.date,)
    # Wrong marks put the session's last bar past the close: reported, not silently dropped.
    write_sample_file(sample, SYMBOL, "2024-07-02", "2024-07-05")
    message = _error(tmp_path, "spy.csv", timestamp_marks="close")
    assert f"{sample} line 2, field timestamp: 2024-07-02 09:30:00" in message


def test_bad_rows_outside_the_sessions_read_do_not_block_others(tmp_path, sample):
    line = FIRST_LINE_OF_SESSION + 210 + 3  # 2024-07-05
    rewrite_line(sample, line, "2024-07-05 09:33:00,1,2,3,oops,5")
    assert len(reader(tmp_path, "spy.csv").read_sessions(SESSIONS)[SESSION.date]) == 210
    assert f"line {line}, field close" in _error(tmp_path, "spy.csv", sessions=[session_for("2024-07-05")])


def test_errors_in_the_second_file_of_a_glob_name_its_own_line(tmp_path):
    write_sample_file(tmp_path / "m" / "a.csv", SYMBOL, "2024-07-01", "2024-07-02")
    second = write_sample_file(tmp_path / "m" / "b.csv", SYMBOL, "2024-07-03", "2024-07-05")
    rewrite_line(second, 4, "2024-07-03 09:32:00,1,2,3,4,")
    message = _error(tmp_path, "m/*.csv")
    assert f"{second} line 4, field volume: the value is empty" in message


def test_dates_without_time_for_intraday_bars_and_unknown_timestamps(tmp_path):
    daily = write_sample_file(tmp_path / "d.csv", SYMBOL, "2024-07-01", "2024-07-05", bar_seconds=86400)
    message = _error(tmp_path, "d.csv")
    assert f"{daily} line 2, field timestamp (column 'date'): 2024-07-01 has no time of day" in message
    assert "bar_spec: 1-DAY-LAST" in message
    pl.read_csv(daily).with_columns(pl.lit("soon").alias("date")).write_csv(daily)
    message = _error(tmp_path, "d.csv", bar_spec="1-DAY-LAST")
    assert f"{daily} line 2, field timestamp (column 'date'): cannot read 'soon'" in message


def test_missing_files_and_unknown_formats(tmp_path):
    assert "does not exist" in _error(tmp_path, "nope.csv")
    assert "no bar files match" in _error(tmp_path, "*.csv")
    (tmp_path / "bars.txt").write_text("timestamp,open\n")
    assert "set format: csv" in _error(tmp_path, "bars.txt")


def test_a_bar_nautilus_would_refuse_is_located(tmp_path, sample):
    """high < open: Nautilus refuses to store such a bar, so it is named here rather than failing the
    catalog write without a location. (Other bar rules, e.g. prices > 0, are pandera's.)"""
    line = FIRST_LINE_OF_SESSION + 2
    timestamp, open_, _, low, close, volume = line_of(sample, line).split(",")
    rewrite_line(sample, line, ",".join([timestamp, open_, str(float(open_) - 0.01), low, close, volume]))
    message = _error(tmp_path, "spy.csv")
    assert f"{sample} line {line}, field high: the bar's open {float(open_):.2f}, high" in message
    assert "Nautilus refuses such a bar" in message


def test_a_glob_starting_with_a_header_only_file_detects_from_the_next(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.csv").write_text("date,open,high,low,close,volume\n")
    second = write_sample_file(
        tmp_path / "m" / "b.csv", SYMBOL, "2024-07-03", "2024-07-03", bar_seconds=86400
    )
    message = _error(tmp_path, "m/*.csv")
    assert f"{second} line 2, field timestamp (column 'date'): 2024-07-03 has no time of day" in message
