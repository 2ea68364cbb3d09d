import os

import polars as pl
import pyarrow.parquet as pq
import pytest
from nautilus_trader.model.data import BarType

from ntrader_pipeline.catalog.frames import bars_to_frame, read_bar_files
from ntrader_pipeline.catalog.store import CatalogStore, CatalogWriteError
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity, minute_bars

SESSION = session_for("2024-01-02")  # the fixture bars start at its 14:30 UTC open
BAR_TYPE = BarType.from_str("SPY.ARCA-1-MINUTE-LAST-EXTERNAL")


@pytest.fixture
def session_bars():
    closes = [470 + (i % 7) * 0.1 for i in range(390)]
    return minute_bars(ib_equity(), closes)


def _catalog_files(root):
    return sorted(p.relative_to(root) for p in root.rglob("*.parquet"))


def test_rewrite_replaces_the_session_in_its_month_file_without_duplicates(tmp_path, session_bars):
    store = CatalogStore(tmp_path)
    first = store.write_session_bars(BAR_TYPE, SESSION, session_bars)
    before = first.read_bytes()
    second = store.write_session_bars(BAR_TYPE, SESSION, session_bars)
    assert first == second == store.month_file(BAR_TYPE, SESSION)
    assert second.name == "2024-01-01T00-00-00-000000000Z_2024-01-31T23-59-59-999999999Z.parquet"
    assert second.read_bytes() == before
    assert len(store.read_session_bars(BAR_TYPE, SESSION)) == 390
    assert _catalog_files(tmp_path) == [first.relative_to(tmp_path)]
    assert not list((tmp_path / ".staging").iterdir())


def test_instrument_is_written_once(tmp_path):
    store = CatalogStore(tmp_path)
    assert store.write_instrument(ib_equity())
    restamped = ib_equity()
    assert not store.write_instrument(restamped)
    assert len(store.catalog.instruments()) == 1
    changed = ib_equity(isin="US0000000000")
    assert store.write_instrument(changed)
    assert [i.isin for i in store.catalog.instruments()] == ["US0000000000"]


def test_bars_outside_the_session_day_are_refused(tmp_path, session_bars):
    store = CatalogStore(tmp_path)
    with pytest.raises(CatalogWriteError, match="outside session 2024-01-03"):
        store.write_session_bars(BAR_TYPE, session_for("2024-01-03"), session_bars)
    with pytest.raises(CatalogWriteError, match=r"no .* bars for session 2024-01-02"):
        store.write_session_bars(BAR_TYPE, SESSION, [])
    assert _catalog_files(tmp_path) == []


def test_failed_write_leaves_the_previous_file(tmp_path, session_bars, monkeypatch):
    store = CatalogStore(tmp_path)
    path = store.write_session_bars(BAR_TYPE, SESSION, session_bars)
    before = path.read_bytes()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        store.write_session_bars(BAR_TYPE, SESSION, session_bars[:10])
    assert path.read_bytes() == before
    assert _catalog_files(tmp_path) == [path.relative_to(tmp_path)]


def test_stored_files_decode_to_the_same_frame(tmp_path, session_bars):
    store = CatalogStore(tmp_path)
    path = store.write_session_bars(BAR_TYPE, SESSION, session_bars)
    decoded = read_bar_files([path])
    assert decoded.equals(bars_to_frame(session_bars))
    assert decoded.schema["ts_init"] == pl.Datetime("ns", "UTC")
    assert pq.read_table(path).num_rows == 390


def test_definition_files_are_the_instrument_definition_parquet_files(tmp_path):
    store = CatalogStore(tmp_path)
    assert store.definition_files("SPY.ARCA") == []
    store.write_instrument(ib_equity())
    store.write_instrument(ib_equity("QQQ", "NASDAQ"))

    (definition,) = store.definition_files("SPY.ARCA")

    assert definition.exists() and definition.suffix == ".parquet"
    assert definition.parent == tmp_path / "data" / "equity" / "SPY.ARCA"
    assert store.definition_files("QQQ.NASDAQ")[0].parent.name == "QQQ.NASDAQ"
    assert store.definition_files("IWM.ARCA") == []
