"""The multi-asset example universe, built in-process from its own files: each instrument on its own
calendar, and a date the union calendar has but the instrument's calendar does not (SPY on MLK day)."""

import dagster as dg

from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.settings import REPO_ROOT
from ntrader_pipeline_tests.defs.helpers import MINUTE_BARS, all_assets, check_evaluations, materialize

UNIVERSE = REPO_ROOT / "data" / "universe.multi_asset.yaml"
BACKTESTS = REPO_ROOT / "data" / "backtests.multi_asset.yaml"
BARS_AND_CHECK = dg.AssetSelection.assets(MINUTE_BARS) | dg.AssetSelection.checks_for_assets(MINUTE_BARS)


def test_fx_range_over_a_us_holiday_and_spy_closed_that_day(ib_resource, storage):
    assets = all_assets(UNIVERSE, BACKTESTS)
    instance = dg.DagsterInstance.ephemeral()
    fx = materialize(
        BARS_AND_CHECK,
        ib_resource,
        storage,
        partition_range=("2024-01-12|EUR/USD.IDEALPRO", "2024-01-16|EUR/USD.IDEALPRO"),
        assets=assets,
        instance=instance,
    )
    assert fx.success
    assert [e.passed for e in check_evaluations(fx)] == [True]
    spy = materialize(
        BARS_AND_CHECK,
        ib_resource,
        storage,
        partition_range=("2024-01-12|SPY.ARCA", "2024-01-16|SPY.ARCA"),
        assets=assets,
        instance=instance,
    )
    assert spy.success
    # January is recorded with three sessions: two stored and MLK day, closed for SPY (flagged so)
    assert instance.get_materialized_partitions(MINUTE_BARS) >= {"2024-01-01|SPY.ARCA"}
    (event,) = spy.asset_materializations_for_node("bars_1_minute")
    assert (event.metadata["sessions"].value, event.metadata["flagged_sessions"].value) == (3, 1)
    assert "| 2024-01-15 | closed |" in event.metadata["flagged"].value
    [evaluation] = check_evaluations(spy)
    assert "2024-01-15" in evaluation.metadata["flagged_sessions"].value
    store = storage.catalog_store()
    for date in ("2024-01-12", "2024-01-15", "2024-01-16"):
        session = session_for(date, "FX24x5")
        assert len(store.read_session_bars("EUR/USD.IDEALPRO-1-MINUTE-MID-EXTERNAL", session)) == 1440
    assert len(store.read_session_bars("SPY.ARCA-1-MINUTE-LAST-EXTERNAL", session_for("2024-01-16"))) == 390
    spy_sessions = store.stored_session_dates("SPY.ARCA-1-MINUTE-LAST-EXTERNAL")
    assert sorted(d.isoformat() for d in spy_sessions) == ["2024-01-12", "2024-01-16"]  # nothing for MLK day
    assert len(store.bar_files("SPY.ARCA-1-MINUTE-LAST-EXTERNAL")) == 1  # one January month file
    assert store.instrument("EUR/USD.IDEALPRO") is not None


def test_instruments_of_one_run_take_turns_session_by_session(ib_gateway, ib_settings, storage):
    """A run over several IB instruments asks for their sessions in turn, not one instrument after the
    other, so a pacing wait on one contract never holds up the next (one request at a time here, so the
    order is exact; ingest/test_concurrent_fetch.py has the concurrent case)."""
    from ntrader_pipeline.ib.fetcher import IBFetcher
    from ntrader_pipeline.ingest.run import SessionStatus, ingest_sessions
    from ntrader_pipeline.markets.bar_specs import BarSpec
    from ntrader_pipeline_tests.defs.helpers import code_location

    _, universe, _ = code_location()
    dates = ["2024-01-03", "2024-01-04", "2024-01-05"]
    records = list(
        ingest_sessions(
            universe,
            BarSpec.parse("1-MINUTE-LAST"),
            {"SPY.ARCA": dates, "QQQ.NASDAQ": dates},
            storage.catalog_store(),
            lambda: IBFetcher(ib_settings.model_copy(update={"max_open_requests": 1})),
        )
    )
    assert [r.status for r in records] == [SessionStatus.WRITTEN] * 6
    assert [(r.instrument_id, r.date) for r in records] == [
        (instrument, date) for date in dates for instrument in ("SPY.ARCA", "QQQ.NASDAQ")
    ]
    asked = [r.symbol for r in ib_gateway.requests.historical_requests()]
    assert asked == ["SPY", "QQQ"] * 3
