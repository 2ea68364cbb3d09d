"""Explicitly empty sessions: recorded with IB's reason, replaced by bars, never replacing bars."""

import pytest
from nautilus_trader.model.data import BarType

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.quality.catalog_quality import check_stored_sessions
from ntrader_pipeline.quality.gate import SessionsNotReadyError, require_clean_sessions
from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity, minute_bars

SESSION = session_for("2024-01-02")
BAR_TYPE = BarType.from_str("SPY.ARCA-1-MINUTE-LAST-EXTERNAL")
NO_DATA = "HMDS query returned no data: SPY@ARCA Trades"


@pytest.fixture
def session_bars():
    return minute_bars(ib_equity(), [470 + (i % 7) * 0.1 for i in range(390)])


def test_empty_session_is_recorded_with_its_reason(tmp_path):
    store = CatalogStore(tmp_path)
    marker = store.write_empty_session(BAR_TYPE, SESSION, NO_DATA)
    assert marker is not None and marker.exists()
    assert store.empty_reason(BAR_TYPE, SESSION) == NO_DATA
    assert store.empty_session_dates(BAR_TYPE) == [SESSION.date]
    assert store.empty_bar_types() == [str(BAR_TYPE)]
    assert not store.has_session(BAR_TYPE, SESSION)
    assert store.read_session_bars(BAR_TYPE, SESSION) == []
    assert not list(tmp_path.rglob("*.tmp"))


def test_bars_written_later_replace_the_empty_marker(tmp_path, session_bars):
    store = CatalogStore(tmp_path)
    store.write_empty_session(BAR_TYPE, SESSION, NO_DATA)
    store.write_session_bars(BAR_TYPE, SESSION, session_bars)
    assert store.empty_reason(BAR_TYPE, SESSION) is None
    assert store.empty_session_dates(BAR_TYPE) == []
    assert len(store.read_session_bars(BAR_TYPE, SESSION)) == 390


def test_no_data_never_drops_stored_bars(tmp_path, session_bars):
    store = CatalogStore(tmp_path)
    store.write_session_bars(BAR_TYPE, SESSION, session_bars)
    assert store.write_empty_session(BAR_TYPE, SESSION, NO_DATA) is None
    assert store.empty_reason(BAR_TYPE, SESSION) is None
    assert len(store.read_session_bars(BAR_TYPE, SESSION)) == 390


def test_quality_gate_accepts_a_recorded_empty_session_but_not_a_missing_one(tmp_path, session_bars):
    store = CatalogStore(tmp_path)
    store.write_session_bars(BAR_TYPE, SESSION, session_bars)
    store.write_empty_session(BAR_TYPE, session_for("2024-01-03"), NO_DATA)
    spec = BarSpec.parse("1-MINUTE-LAST")
    window = [SESSION, session_for("2024-01-03")]
    results = check_stored_sessions(store, "SPY.ARCA", spec, window)
    assert [r.passed for r in results] == [True, True]
    require_clean_sessions(store, "SPY.ARCA", spec, window, asset_hint="bars_1_minute")
    with pytest.raises(SessionsNotReadyError, match="1 sessions are not in the catalog: 2024-01-04"):
        require_clean_sessions(store, "SPY.ARCA", spec, [*window, session_for("2024-01-04")], "bars_1_minute")
