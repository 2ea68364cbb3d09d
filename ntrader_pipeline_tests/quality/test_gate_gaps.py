"""The backtest gate and missing bars: a sparse session passes (backtests run on the bars that exist,
none are made up) unless the instrument's max_missing_fraction is exceeded, which names the session."""

import pytest
from nautilus_trader.model.data import BarType

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.gate import SessionsNotReadyError, require_clean_sessions
from ntrader_pipeline.quality.session_quality import GAPS_RULE
from ntrader_pipeline_tests.adjustments.session_bars import session_minutes
from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity

MINUTE = BarSpec.parse("1-MINUTE-LAST")
SESSIONS = sessions_between("2024-01-02", "2024-01-04")


@pytest.fixture
def sparse_store(tmp_path) -> CatalogStore:
    """Three sessions; 2024-01-03 has a 60-minute halt (15.4 % of its bars missing)."""
    store = CatalogStore(tmp_path / "catalog")
    store.write_instrument(ib_equity())
    bar_type = BarType.from_str(MINUTE.bar_type("SPY.ARCA"))
    for session in SESSIONS:
        bars = session_minutes(bar_type, session, 400.0)
        if session.key == "2024-01-03":
            bars = bars[:100] + bars[160:]
        store.write_session_bars(bar_type, session, bars)
    return store


def test_a_sparse_session_passes_the_gate_with_its_warning(sparse_store):
    results = require_clean_sessions(sparse_store, "SPY.ARCA", MINUTE, SESSIONS, "bars_1_minute")
    sparse = [r for r in results if r.missing_bars]
    assert [(str(r.session), r.missing_bars, r.longest_gap) for r in sparse] == [("2024-01-03", 60, 60)]
    assert GAPS_RULE in sparse[0].warnings


def test_above_max_missing_fraction_the_gate_names_session_fraction_and_threshold(sparse_store):
    with pytest.raises(SessionsNotReadyError) as error:
        require_clean_sessions(
            sparse_store, "SPY.ARCA", MINUTE, SESSIONS, "bars_1_minute", max_missing_fraction=0.1
        )
    text = str(error.value)
    assert "1 sessions fail the quality rules" in text
    assert "session 2024-01-03 fails session_gaps (60 of 390 bars missing (15.4%), longest gap 60" in text
    assert "more than max_missing_fraction 10.0%" in text
    # re-fetching brings the same answer: the remedy is the threshold or the window
    assert "re-fetch" not in text.replace("re-fetching does not fill them", "")
    assert "raise the instrument's max_missing_fraction in the universe" in text
    require_clean_sessions(
        sparse_store, "SPY.ARCA", MINUTE, SESSIONS, "bars_1_minute", max_missing_fraction=0.2
    )
