"""Sample files written from the synthetic bars read back as the bars IB would have delivered."""

import datetime as dt

import polars as pl
import pytest

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.gateway.synthetic import DAY, HOUR, minute_bars, session_bars
from ntrader_pipeline.ingest.files.samples import write_sample_file
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline_tests.files.helpers import NS, SYMBOL, as_written, ohlcv, reader, series_ohlcv
from ntrader_pipeline_tests.quality.session_checks import check_session

SESSIONS = [session_for(d) for d in ("2024-07-02", "2024-07-03", "2024-07-05")]  # 07-03 is a half day


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_minute_bars_round_trip(tmp_path, file_format):
    write_sample_file(tmp_path / f"spy.{file_format}", SYMBOL, "2024-06-28", "2024-07-09", format=file_format)
    read = reader(tmp_path, f"spy.{file_format}").read_sessions(SESSIONS)
    assert [len(read[s.date]) for s in SESSIONS] == [390, 210, 390]
    for session in SESSIONS:
        bars, source = read[session.date], minute_bars(SYMBOL, session.date)
        assert ohlcv(bars) == series_ohlcv(source)
        assert [b.ts_event for b in bars] == [int(s) * NS for s in source.start]
        assert [b.ts_init - b.ts_event for b in bars] == [60 * NS] * len(bars)
        assert str(bars[0].bar_type) == "SPY.XNAS-1-MINUTE-LAST-EXTERNAL"
        assert bars[0].open.precision == 2 and bars[0].volume.precision == 0
    half_day = read[SESSIONS[1].date]
    assert half_day[0].ts_event == int(dt.datetime(2024, 7, 3, 13, 30, tzinfo=dt.UTC).timestamp()) * NS
    assert half_day[-1].ts_init == int(SESSIONS[1].close.timestamp()) * NS


def test_close_stamps_and_offset_stamps_give_the_same_bars(tmp_path):
    write_sample_file(tmp_path / "open.csv", SYMBOL, "2024-07-01", "2024-07-05")
    write_sample_file(tmp_path / "close.csv", SYMBOL, "2024-07-01", "2024-07-05", timestamp_marks="close")
    # Aware ISO stamps, converted from the naive ones; written in UTC+00:00 to prove the offset is honoured.
    aware = pl.read_csv(tmp_path / "open.csv").with_columns(
        pl.col("timestamp")
        .str.to_datetime()
        .dt.replace_time_zone("America/New_York")
        .dt.convert_time_zone("UTC")
        .dt.strftime("%Y-%m-%dT%H:%M:%S%:z")
    )
    aware.write_csv(tmp_path / "aware.csv")
    assert aware["timestamp"][0] == "2024-07-01T13:30:00+00:00"

    expected = reader(tmp_path, "open.csv").read_sessions(SESSIONS)
    by_close = reader(tmp_path, "close.csv", timestamp_marks="close").read_sessions(SESSIONS)
    # The source's timezone applies to naive stamps only.
    by_offset = reader(tmp_path, "aware.csv", timezone="Asia/Tokyo").read_sessions(SESSIONS)
    for read in (by_close, by_offset):
        for session in SESSIONS:
            assert as_written(read[session.date]) == as_written(expected[session.date])


def test_close_stamped_hourly_bars_keep_ibs_first_bar(tmp_path):
    write_sample_file(
        tmp_path / "h.csv", SYMBOL, "2024-07-03", "2024-07-03", bar_seconds=HOUR, timestamp_marks="close"
    )
    assert "2024-07-03 10:00:00" in (tmp_path / "h.csv").read_text().splitlines()[1]
    bars = reader(tmp_path, "h.csv", bar_spec="1-HOUR-LAST", timestamp_marks="close").read_sessions(
        SESSIONS[1:2]
    )
    hourly = bars[SESSIONS[1].date]
    open_ns = int(SESSIONS[1].open.timestamp()) * NS
    # As IB stamps them: the 09:30-10:00 bar opens at 09:30 and ts_init is open + 1 hour.
    assert [(b.ts_event - open_ns) // NS for b in hourly] == [0, 1800, 5400, 9000]
    assert [b.ts_init - b.ts_event for b in hourly] == [3600 * NS] * 4
    assert ohlcv(hourly) == series_ohlcv(session_bars(SYMBOL, SESSIONS[1].date, HOUR))


def test_daily_file_gives_one_bar_per_session_at_the_daily_stamps(tmp_path):
    path = write_sample_file(tmp_path / "daily.csv", SYMBOL, "2024-06-01", "2024-07-31", bar_seconds=DAY)
    assert path.read_text().startswith("date,open,high,low,close,volume\n2024-06-03,")
    read = reader(tmp_path, "daily.csv", bar_spec="1-DAY-LAST").read_sessions(SESSIONS)
    for session in SESSIONS:
        (bar,) = read[session.date]
        assert str(bar.bar_type) == "SPY.XNAS-1-DAY-LAST-EXTERNAL"
        assert bar.ts_event == int(session.day_start.timestamp()) * NS
        assert bar.ts_init == bar.ts_event + 86_400 * NS - 1
        assert ohlcv([bar]) == series_ohlcv(session_bars(SYMBOL, session.date, DAY))


def test_capitalized_vendor_columns_are_detected(tmp_path):
    daily = write_sample_file(tmp_path / "d.csv", SYMBOL, "2024-07-01", "2024-07-05", bar_seconds=DAY)
    # Yahoo's layout: an extra "Adj Close" column must not be taken for close.
    pl.read_csv(daily).select(
        pl.col("date").alias("Date"),
        *(pl.col(c).alias(c.capitalize()) for c in ("open", "high", "low", "close")),
        (pl.col("close") * 0.98).alias("Adj Close"),
        pl.col("volume").alias("Volume"),
    ).write_csv(tmp_path / "yahoo.csv")
    minutes = write_sample_file(tmp_path / "m.parquet", SYMBOL, "2024-07-01", "2024-07-05", format="parquet")
    pl.read_parquet(minutes).rename(str.upper).write_parquet(tmp_path / "upper.parquet")

    days = reader(tmp_path, "yahoo.csv", bar_spec="1-DAY-LAST").read_sessions(SESSIONS)
    assert ohlcv(days[SESSIONS[0].date]) == series_ohlcv(session_bars(SYMBOL, SESSIONS[0].date, DAY))
    bars = reader(tmp_path, "upper.parquet").read_sessions(SESSIONS)
    assert ohlcv(bars[SESSIONS[1].date]) == series_ohlcv(minute_bars(SYMBOL, SESSIONS[1].date))


def test_column_mapping_and_epoch_milliseconds(tmp_path):
    sample = pl.read_parquet(
        write_sample_file(tmp_path / "s.parquet", SYMBOL, "2024-07-02", "2024-07-05", format="parquet")
    )
    sample.select(
        pl.col("timestamp").dt.replace_time_zone("America/New_York").dt.epoch("ms").alias("Time (ms)"),
        pl.col("open").alias("px_o"),
        pl.col("high").alias("px_h"),
        pl.col("low").alias("px_l"),
        pl.col("close").alias("px_c"),
        pl.col("volume").alias("qty"),
    ).write_parquet(tmp_path / "vendor.parquet")
    mapping = {
        "timestamp": "Time (ms)",
        "open": "px_o",
        "high": "px_h",
        "low": "px_l",
        "close": "px_c",
        "volume": "qty",
    }
    read = reader(tmp_path, "vendor.parquet", columns=mapping).read_sessions(SESSIONS)
    expected = reader(tmp_path, "s.parquet").read_sessions(SESSIONS)
    assert [len(read[s.date]) for s in SESSIONS] == [390, 210, 390]
    assert all(as_written(read[s.date]) == as_written(expected[s.date]) for s in SESSIONS)


def test_glob_over_monthly_files_reads_sessions_from_both(tmp_path):
    write_sample_file(tmp_path / "bars" / "SPY_2024-01.csv", SYMBOL, "2024-01-01", "2024-01-31")
    write_sample_file(tmp_path / "bars" / "SPY_2024-02.csv", SYMBOL, "2024-02-01", "2024-02-29")
    sessions = [session_for(d) for d in ("2024-01-31", "2024-02-01", "2024-02-29")]
    read = reader(tmp_path, "bars/SPY_2024-*.csv").read_sessions(sessions)
    assert [len(read[s.date]) for s in sessions] == [390, 390, 390]
    assert ohlcv(read[sessions[1].date]) == series_ohlcv(minute_bars(SYMBOL, sessions[1].date))
    # The directory itself is a source too.
    from_directory = reader(tmp_path, "bars").read_sessions(sessions)
    assert all(as_written(from_directory[s.date]) == as_written(read[s.date]) for s in sessions)


def test_a_session_without_rows_is_empty_not_an_error(tmp_path):
    write_sample_file(tmp_path / "spy.csv", SYMBOL, "2024-07-01", "2024-07-03")
    read = reader(tmp_path, "spy.csv").read_sessions(SESSIONS)
    assert [len(read[s.date]) for s in SESSIONS] == [390, 210, 0]
    assert reader(tmp_path, "spy.csv").read_sessions([]) == {}


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_the_session_span_is_filtered_inside_the_scan(tmp_path, file_format):
    """Reading one session of a multi-year file: the timestamp range is pushed into the scan itself,
    so rows outside it are dropped while reading (Parquet row groups outside it are skipped)."""
    write_sample_file(tmp_path / f"y.{file_format}", SYMBOL, "2022-01-01", "2024-12-31", format=file_format)
    plan = reader(tmp_path, f"y.{file_format}").plan([session_for("2024-07-03")]).explain()
    scan = plan[plan.index(f"{file_format.capitalize()} SCAN") :]
    assert "SELECTION" in scan and "ROW_INDEX: __row" in scan
    selection = scan[scan.index("SELECTION") :].splitlines()[0]
    assert "2024-07-02" in selection and "2024-07-05" in selection


def test_semicolons_decimal_commas_bom_and_crlf_as_spreadsheets_write_them(tmp_path):
    sample = write_sample_file(tmp_path / "s.csv", SYMBOL, "2024-07-02", "2024-07-05")
    text = sample.read_text().replace(",", ";").replace(".", ",").replace("\n", "\r\n")
    (tmp_path / "excel.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    expected = reader(tmp_path, "s.csv").read_sessions(SESSIONS)
    read = reader(tmp_path, "excel.csv").read_sessions(SESSIONS)
    assert all(as_written(read[s.date]) == as_written(expected[s.date]) for s in SESSIONS)


def test_one_session_of_a_multi_year_parquet_file_reads_one_row_group(tmp_path, capfd):
    path = write_sample_file(tmp_path / "y.parquet", SYMBOL, "2022-01-01", "2024-12-31", format="parquet")
    pl.read_parquet(path).write_parquet(path, row_group_size=50_000)  # 6 row groups of ~2 months
    capfd.readouterr()
    with pl.Config(verbose=True):
        read = reader(tmp_path, "y.parquet").read_sessions([SESSIONS[1]])
    assert len(read[SESSIONS[1].date]) == 210
    # polars' own account of the scan (pinned polars 2.1.0).
    assert "Predicate pushdown: reading 1 / 6 row groups" in capfd.readouterr().err


@pytest.mark.parametrize("bar_spec", ["1-MINUTE-LAST", "1-DAY-LAST"])
def test_file_bars_store_in_the_catalog_and_pass_the_session_rules(tmp_path, bar_spec):
    seconds = 86_400 if bar_spec == "1-DAY-LAST" else 60
    write_sample_file(tmp_path / "spy.csv", SYMBOL, "2024-07-01", "2024-07-08", bar_seconds=seconds)
    file_reader = reader(tmp_path, "spy.csv", bar_spec=bar_spec)
    store = CatalogStore(tmp_path / "catalog")
    store.write_instrument(file_reader.instrument)
    for session, bars in file_reader.read_sessions(SESSIONS).items():
        store.write_session_bars(file_reader.bar_type, session_for(session), bars)
        stored = store.read_bar_frame(file_reader.bar_type, [session_for(session)])  # its rows of the month
        quality = check_session(stored, str(file_reader.bar_type), session_for(session), file_reader.spec)
        assert quality.passed, quality.describe()
        assert as_written(store.read_session_bars(file_reader.bar_type, session_for(session))) == as_written(
            bars
        )
