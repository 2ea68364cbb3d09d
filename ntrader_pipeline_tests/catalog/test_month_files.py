"""Month files: a session's rewrite replaces only its rows, writes are idempotent and serialized per month."""

import datetime as dt
import multiprocessing
import os

import pyarrow.parquet as pq
import pytest
from nautilus_trader.model.data import BarType

from ntrader_pipeline.catalog.file_cache import clear_identity_caches
from ntrader_pipeline.catalog.month_files import (
    SessionIndexError,
    month_bounds_ns,
    month_file_name,
    month_of_file,
    session_index,
    session_of_file,
)
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import session_for, sessions_between
from ntrader_pipeline_tests.catalog.month_bars import session_minute_bars

BAR_TYPE = BarType.from_str("SPY.ARCA-1-MINUTE-LAST-EXTERNAL")
FX_BAR_TYPE = BarType.from_str("EUR/USD.IDEALPRO-1-MINUTE-MID-EXTERNAL")
JANUARY = sessions_between("2024-01-02", "2024-01-05")  # 4 NYSE sessions


def _rows_by_session(path):
    table = pq.read_table(path)
    index = session_index(table.schema, table.num_rows)
    return {
        day: table.slice(first, rows).replace_schema_metadata(None) for day, (first, rows) in index.items()
    }


def test_month_file_names_are_the_months_utc_bounds():
    assert month_file_name(dt.date(2024, 2, 14)) == (
        "2024-02-01T00-00-00-000000000Z_2024-02-29T23-59-59-999999999Z.parquet"
    )
    assert month_of_file(month_file_name(dt.date(2024, 12, 31))) == dt.date(2024, 12, 1)
    # a session file of the previous layout is no month file, and the other way round
    session_name = "2024-01-02T00-00-00-000000000Z_2024-01-02T23-59-59-999999999Z.parquet"
    assert month_of_file(session_name) is None and session_of_file(session_name) == dt.date(2024, 1, 2)
    assert session_of_file(month_file_name(dt.date(2024, 1, 2))) is None
    start, end = month_bounds_ns(dt.date(2024, 2, 14))
    # 2024-02-01T00:00Z and 2024-03-01T00:00Z - 1 ns, worked out by hand: 29 days of 86,400 s
    assert start == 1_706_745_600 * 10**9 and end == start + 29 * 86_400 * 10**9 - 1


def test_one_file_per_month_holds_every_session(tmp_path):
    store = CatalogStore(tmp_path)
    for session in JANUARY:
        store.write_session_bars(BAR_TYPE, session, session_minute_bars(BAR_TYPE, session, 390))
    february = session_for("2024-02-01")
    store.write_session_bars(BAR_TYPE, february, session_minute_bars(BAR_TYPE, february, 390))

    files = store.bar_files(BAR_TYPE)
    assert [p.name for p in files] == [
        month_file_name(dt.date(2024, 1, 1)),
        month_file_name(dt.date(2024, 2, 1)),
    ]
    assert sorted(p.name for p in store.bar_directory(BAR_TYPE).iterdir()) == [p.name for p in files]
    assert store.bar_files(BAR_TYPE, [february]) == files[1:]
    assert store.bar_files(BAR_TYPE, [session_for("2024-03-01")]) == []
    assert store.stored_session_dates(BAR_TYPE) == {s.date for s in [*JANUARY, february]}
    assert pq.read_table(files[0]).num_rows == 4 * 390
    assert all(store.has_session(BAR_TYPE, s) for s in JANUARY)
    assert not store.has_session(BAR_TYPE, session_for("2024-01-08"))
    later = sessions_between("2024-01-04", "2024-02-05")
    assert store.stored_sessions(BAR_TYPE, later) == [JANUARY[2], JANUARY[3], february]
    bars = store.read_bars(BAR_TYPE, [JANUARY[1], february])
    assert len(bars) == 780
    assert bars == [
        *session_minute_bars(BAR_TYPE, JANUARY[1], 390),
        *session_minute_bars(BAR_TYPE, february, 390),
    ]


def test_refetching_a_session_leaves_the_other_sessions_rows_byte_for_byte(tmp_path):
    store = CatalogStore(tmp_path)
    for session in JANUARY:
        store.write_session_bars(BAR_TYPE, session, session_minute_bars(BAR_TYPE, session, 390))
    path = store.month_file(BAR_TYPE, JANUARY[0])
    before = _rows_by_session(path)

    replaced = session_minute_bars(BAR_TYPE, JANUARY[2], 200, base=250.0)
    store.write_session_bars(BAR_TYPE, JANUARY[2], replaced)

    after = _rows_by_session(path)
    assert after.keys() == before.keys()
    for session in (JANUARY[0], JANUARY[1], JANUARY[3]):
        assert after[session.date].equals(before[session.date])
    assert store.read_session_bars(BAR_TYPE, JANUARY[2]) == replaced
    assert pq.read_table(path).num_rows == 3 * 390 + 200


def test_writing_the_same_bars_twice_gives_the_same_file(tmp_path):
    store = CatalogStore(tmp_path)
    bars = {s: session_minute_bars(BAR_TYPE, s, 390) for s in JANUARY}
    for session, session_bars in bars.items():
        store.write_session_bars(BAR_TYPE, session, session_bars)
    path = store.month_file(BAR_TYPE, JANUARY[0])
    first = path.read_bytes()
    store.write_session_bars(BAR_TYPE, JANUARY[1], bars[JANUARY[1]])
    assert path.read_bytes() == first
    # the same content written in one go, in another order, is the same file too
    other = CatalogStore(tmp_path / "other")
    other.write_sessions_bars(BAR_TYPE, dict(reversed(bars.items())))
    assert other.month_file(BAR_TYPE, JANUARY[0]).read_bytes() == first


def test_several_sessions_are_one_rewrite_per_month(tmp_path, monkeypatch):
    store = CatalogStore(tmp_path)
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (replaced.append(dst), real_replace(src, dst)))
    sessions = sessions_between("2024-01-29", "2024-02-02")  # 3 in January, 2 in February
    paths = store.write_sessions_bars(BAR_TYPE, {s: session_minute_bars(BAR_TYPE, s, 390) for s in sessions})
    assert [p.name for p in paths] == [
        month_file_name(dt.date(2024, 1, 1)),
        month_file_name(dt.date(2024, 2, 1)),
    ]
    assert [os.fspath(p) for p in replaced] == [os.fspath(p) for p in paths]
    assert store.stored_session_dates(BAR_TYPE) == {s.date for s in sessions}


def test_fx_sessions_opening_the_evening_before_keep_their_own_rows(tmp_path):
    """An FX session's UTC bounds start at the previous evening's open, inside the previous session's UTC
    day: the session index, not the timestamps, says which rows are whose."""
    store = CatalogStore(tmp_path)
    thursday, friday = sessions_between("2024-03-07", "2024-03-08", "FX24x5")
    store.write_session_bars(FX_BAR_TYPE, thursday, session_minute_bars(FX_BAR_TYPE, thursday, 1440))
    store.write_session_bars(FX_BAR_TYPE, friday, session_minute_bars(FX_BAR_TYPE, friday, 1440))
    store.write_session_bars(FX_BAR_TYPE, friday, session_minute_bars(FX_BAR_TYPE, friday, 1440, base=1.5))
    assert store.read_session_bars(FX_BAR_TYPE, thursday) == session_minute_bars(FX_BAR_TYPE, thursday, 1440)
    assert len(store.read_session_bars(FX_BAR_TYPE, friday)) == 1440
    # the first session of a month opens in the previous month; it is stored in the month of its date
    first = session_for("2024-03-01", "FX24x5")
    store.write_session_bars(FX_BAR_TYPE, first, session_minute_bars(FX_BAR_TYPE, first, 1440))
    assert store.bar_files(FX_BAR_TYPE, [first])[0].name == month_file_name(dt.date(2024, 3, 1))


def _write_many(root, day: str, rounds: int) -> None:
    store = CatalogStore(root)
    session = session_for(day)
    for i in range(rounds):
        store.write_session_bars(
            BAR_TYPE, session, session_minute_bars(BAR_TYPE, session, 390, base=100.0 + i)
        )


def test_concurrent_writers_of_one_month_lose_no_session(tmp_path):
    context = multiprocessing.get_context("spawn")
    days = ["2024-01-02", "2024-01-03", "2024-01-04"]
    workers = [context.Process(target=_write_many, args=(tmp_path, day, 8)) for day in days]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    store = CatalogStore(tmp_path)
    assert store.stored_session_dates(BAR_TYPE) == {dt.date.fromisoformat(d) for d in days}
    for day in days:  # every writer's last round is what is stored
        session = session_for(day)
        assert store.read_session_bars(BAR_TYPE, session) == session_minute_bars(
            BAR_TYPE, session, 390, base=107.0
        )


def test_a_month_file_without_a_session_index_is_named(tmp_path):
    store = CatalogStore(tmp_path)
    path = store.write_session_bars(BAR_TYPE, JANUARY[0], session_minute_bars(BAR_TYPE, JANUARY[0], 390))
    table = pq.read_table(path)
    pq.write_table(table.replace_schema_metadata({b"bar_type": str(BAR_TYPE).encode()}), path)
    clear_identity_caches()
    with pytest.raises(SessionIndexError, match="has no ntrader_sessions session index"):
        store.session_index(path)
    # unreadable by session: its sessions count as stored (the quality check fails them by name)
    assert store.has_session(BAR_TYPE, JANUARY[1])
    assert store.stored_session_dates(BAR_TYPE) == set()


def test_session_digests_follow_a_sessions_rows_only(tmp_path):
    store = CatalogStore(tmp_path)
    for session in JANUARY[:3]:
        store.write_session_bars(BAR_TYPE, session, session_minute_bars(BAR_TYPE, session, 390))
    window = JANUARY[:2]
    before = store.session_digests(BAR_TYPE, window)
    assert list(before) == [s.date for s in window] and len(set(before.values())) == 2

    # a session outside the window lands in the same month file: the window's digests stay
    store.write_session_bars(BAR_TYPE, JANUARY[3], session_minute_bars(BAR_TYPE, JANUARY[3], 390))
    store.write_session_bars(BAR_TYPE, JANUARY[2], session_minute_bars(BAR_TYPE, JANUARY[2], 100, base=5.0))
    assert store.session_digests(BAR_TYPE, window) == before
    # the same bars written again: the same digest; other bars: another one
    store.write_session_bars(BAR_TYPE, window[1], session_minute_bars(BAR_TYPE, window[1], 390))
    assert store.session_digests(BAR_TYPE, window) == before
    store.write_session_bars(BAR_TYPE, window[1], session_minute_bars(BAR_TYPE, window[1], 390, base=101.0))
    after = store.session_digests(BAR_TYPE, window)
    first, second = (s.date for s in window)
    assert after[first] == before[first] and after[second] != before[second]


def test_rows_digest_is_the_sha256_of_the_column_bytes(tmp_path):
    import hashlib

    from ntrader_pipeline.catalog.month_files import rows_digest

    store = CatalogStore(tmp_path)
    path = store.write_session_bars(BAR_TYPE, JANUARY[0], session_minute_bars(BAR_TYPE, JANUARY[0], 5))
    table = pq.read_table(path)
    by_hand = hashlib.sha256()
    for name in ("open", "high", "low", "close", "volume", "ts_event", "ts_init"):
        values = table[name].to_pylist()  # bytes for the fixed-point columns, ints for the times
        by_hand.update(b"".join(v if isinstance(v, bytes) else v.to_bytes(8, "little") for v in values))
    assert rows_digest(table) == by_hand.hexdigest()[:32]
    assert rows_digest(table.slice(2, 3)) == rows_digest(pq.read_table(path).slice(2, 3).combine_chunks())
