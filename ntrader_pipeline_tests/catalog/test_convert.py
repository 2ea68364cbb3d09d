"""`ntrader catalog --convert`: a catalog of one file per session becomes month files, nothing lost."""

import datetime as dt
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from nautilus_trader.model.data import BarType

from ntrader_pipeline.catalog.convert import convert_catalog
from ntrader_pipeline.catalog.file_checks import verify_catalog
from ntrader_pipeline.catalog.month_files import month_file_name, rows_digest
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity
from ntrader_pipeline_tests.catalog.month_bars import session_minute_bars, write_session_layout
from ntrader_pipeline_tests.ntrader_cli.test_ntrader_cli import ntrader

BAR_TYPE = BarType.from_str("SPY.ARCA-1-MINUTE-LAST-EXTERNAL")
DAILY = BarType.from_str("SPY.ARCA-1-DAY-LAST-EXTERNAL")
SESSIONS = sessions_between("2024-01-29", "2024-02-02")  # 3 January sessions, 2 February ones


@pytest.fixture
def old_catalog(tmp_path):
    """A real catalog in the previous layout: an instrument, 5 minute sessions, 5 daily bars."""
    store = CatalogStore(tmp_path / "catalog")
    store.write_instrument(ib_equity())
    rows = {}
    for i, session in enumerate(SESSIONS):
        path = write_session_layout(
            store, BAR_TYPE, session, session_minute_bars(BAR_TYPE, session, 390, 100 + i)
        )
        rows[(str(BAR_TYPE), session.date)] = pq.read_table(path)
        daily = session_minute_bars(DAILY, session, 1, 100 + i)
        path = write_session_layout(store, DAILY, session, _as_daily(daily, session))
        rows[(str(DAILY), session.date)] = pq.read_table(path)
    return store, rows


def _as_daily(bars, session):
    from nautilus_trader.core.datetime import dt_to_unix_nanos
    from nautilus_trader.model.data import Bar

    (bar,) = bars
    end = dt_to_unix_nanos(session.day_end)
    return [
        Bar(
            DAILY,
            bar.open,
            bar.high,
            bar.low,
            bar.close,
            bar.volume,
            dt_to_unix_nanos(session.date_start),
            end,
        )
    ]


def _session_rows(store, bar_type, session):
    return store.read_bar_table(bar_type, [session]).replace_schema_metadata(None)


def test_conversion_keeps_every_row_and_leaves_month_files_only(old_catalog):
    store, rows = old_catalog
    problems = verify_catalog(store)
    assert len(problems) == 10 and all("not converted" in p.problem for p in problems)

    report = convert_catalog(store)

    assert (report.merged, report.deleted, report.months_written, report.kept) == (10, 10, 4, [])
    for bar_type in (BAR_TYPE, DAILY):
        assert sorted(p.name for p in store.bar_directory(bar_type).iterdir()) == [
            month_file_name(dt.date(2024, 1, 1)),
            month_file_name(dt.date(2024, 2, 1)),
        ]
        assert store.stored_session_dates(bar_type) == {s.date for s in SESSIONS}
        for session in SESSIONS:
            assert _session_rows(store, bar_type, session).equals(
                rows[(str(bar_type), session.date)].replace_schema_metadata(None)
            )
    assert len(store.read_bars(BAR_TYPE, SESSIONS)) == 5 * 390
    assert store.session_digests(BAR_TYPE, SESSIONS) == {
        s.date: rows_digest(rows[(str(BAR_TYPE), s.date)]) for s in SESSIONS
    }
    assert verify_catalog(store) == []


def test_a_second_run_does_nothing(old_catalog):
    store, _ = old_catalog
    convert_catalog(store)
    files = {p: p.read_bytes() for p in (store.path / "data").rglob("*.parquet")}
    report = convert_catalog(store)
    assert (report.merged, report.deleted, report.months_written, report.kept) == (0, 0, 0, [])
    assert report.describe().startswith("convert: nothing to convert")
    assert {p: p.read_bytes() for p in (store.path / "data").rglob("*.parquet")} == files


def test_a_run_killed_after_the_month_file_is_finished_by_the_next(old_catalog, monkeypatch):
    store, rows = old_catalog
    january = [s for s in SESSIONS if s.date.month == 1]
    month = store.month_file(BAR_TYPE, january[0])
    session_files = sorted(store.bar_directory(BAR_TYPE).glob("2024-01-*T23-59-59-999999999Z.parquet"))

    real_unlink = type(month).unlink

    def killed(path, *args, **kwargs):
        if path in session_files:
            raise KeyboardInterrupt("killed before removing the session files")
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(type(month), "unlink", killed)
    with pytest.raises(KeyboardInterrupt):
        convert_catalog(store)
    monkeypatch.setattr(type(month), "unlink", real_unlink)

    # the month file is complete; the session files are still there: both layouts hold the sessions
    assert month.exists() and all(p.exists() for p in session_files)
    assert any("also in its month file" in p.problem for p in verify_catalog(store))

    report = convert_catalog(store)
    assert report.kept == []
    assert verify_catalog(store) == []
    for session in SESSIONS:
        assert _session_rows(store, BAR_TYPE, session).equals(
            rows[(str(BAR_TYPE), session.date)].replace_schema_metadata(None)
        )


def test_a_session_file_that_differs_from_the_month_file_is_kept_and_reported(old_catalog):
    store, _ = old_catalog
    convert_catalog(store)
    session = SESSIONS[0]
    leftover = write_session_layout(
        store, BAR_TYPE, session, session_minute_bars(BAR_TYPE, session, 390, 300)
    )
    report = convert_catalog(store)
    assert report.deleted == 0 and len(report.kept) == 1 and "rows differ" in report.kept[0]
    assert leftover.exists()
    assert _session_rows(store, BAR_TYPE, session).num_rows == 390
    [problem] = verify_catalog(store)
    assert problem.path == str(leftover) and "also in its month file" in problem.problem


def test_ntrader_catalog_convert_then_verify(old_catalog):
    store, _ = old_catalog
    before = ntrader("catalog", "--path", str(store.path), "--verify")
    assert before.returncode == 1 and "not converted" in before.stdout

    done = ntrader("catalog", "--path", str(store.path), "--convert", "--json")

    assert done.returncode == 0, done.stdout + done.stderr
    first_line, _, body = done.stdout.partition("\n")
    assert first_line == "convert: 10 session(s) merged into 4 month file(s), 10 session file(s) removed"
    report = json.loads(body)
    assert report["problems"] == []
    minute = next(r for r in report["bar_types"] if r["bar_type"] == str(BAR_TYPE))
    assert minute["present"] == [s.key for s in SESSIONS] and minute["missing"] == []
    again = ntrader("catalog", "--path", str(store.path), "--convert")
    assert again.returncode == 0 and "nothing to convert" in again.stdout


def test_verify_names_a_file_overlapping_a_month_file(old_catalog):
    store, rows = old_catalog
    convert_catalog(store)
    directory = store.bar_directory(BAR_TYPE)
    stray = directory / "2024-01-15T00-00-00-000000000Z_2024-02-03T23-59-59-999999999Z.parquet"
    pq.write_table(rows[(str(BAR_TYPE), SESSIONS[0].date)], stray)
    problems = {(p.path, p.problem.split(" (")[0]) for p in verify_catalog(store)}
    assert (str(stray), f"is not a month file of {BAR_TYPE}") in problems
    february = store.bar_files(BAR_TYPE)[1]
    assert (str(february), f"overlaps {stray.name} in {BAR_TYPE}") in problems


def test_verify_names_rows_changed_after_writing(old_catalog):
    store, _ = old_catalog
    convert_catalog(store)
    path = store.bar_files(BAR_TYPE)[0]
    table = pq.read_table(path)
    first, _ = store.session_index(path)[SESSIONS[1].date]
    closes = table["close"].to_pylist()
    closes[first + 5] = closes[first + 6]  # one close edited in place, the metadata kept
    pq.write_table(
        table.set_column(3, table.schema.field("close"), pa.array(closes, table["close"].type)), path
    )
    [problem] = verify_catalog(store)
    assert problem.path == str(path)
    assert (
        f"do not match their session's digest: {SESSIONS[1].key} (changed after writing)" in problem.problem
    )
