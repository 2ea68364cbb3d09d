"""Sessions as real IB serves them, end to end through the real client and Dagster: sparse sessions are
stored and flagged (blocking above a universe threshold), cut-off answers are retried, and a session that
has not closed is neither offered nor fetched."""

import datetime as dt

import dagster as dg
import pytest

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.gateway import Fault
from ntrader_pipeline.ib.fetcher import IBFetcher
from ntrader_pipeline.ingest.run import SessionStatus, ingest_sessions
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.markets.universe import BarSpec, load_universe
from ntrader_pipeline_tests.defs.helpers import (
    BAR_QUALITY,
    MINUTE_BARS,
    all_assets,
    check_evaluations,
    code_location,
    materialize,
)
from ntrader_pipeline_tests.ingest.flagged import flagged_rows

MINUTE_AND_CHECK = dg.AssetSelection.assets(MINUTE_BARS) | dg.AssetSelection.checks_for_assets(MINUTE_BARS)
SPY_MINUTES = "SPY.ARCA-1-MINUTE-LAST-EXTERNAL"
SESSION = "2024-01-05"


def _universe_file(tmp_path, max_missing_fraction: float | None):
    threshold = "" if max_missing_fraction is None else f", max_missing_fraction: {max_missing_fraction}"
    path = tmp_path / "universe.yaml"
    path.write_text(
        "bar_specs: [1-MINUTE-LAST, 1-DAY-LAST]\ninstruments:\n"
        f"  - {{symbol: SPY, primary_exchange: ARCA{threshold}}}\n"
    )
    backtests = tmp_path / "backtests.yaml"
    backtests.write_text(
        "backtests:\n  sma:\n    strategy: sma_cross\n    instruments: [SPY.ARCA]\n"
        "    index_instrument: SPY.ARCA\n    window: {start: 2024-01-02, end: 2024-01-31}\n"
    )
    return path, backtests


def test_a_sparse_session_is_stored_and_flagged(ib_gateway, ib_resource, storage, tmp_path):
    # 30 minutes without a trade at the session's end: IB's answer ends normally with 360 bars
    ib_gateway.faults.set("SPY", Fault(short_bars=30), session=session_for(SESSION).date)
    universe, backtests = _universe_file(tmp_path, None)
    result = materialize(
        MINUTE_AND_CHECK, ib_resource, storage, partition_key=f"{SESSION}|SPY.ARCA",
        assets=all_assets(universe, backtests),
    )  # fmt: skip
    assert result.success
    assert len(ib_gateway.requests.historical_requests()) == 1  # stored at once, not retried
    metadata = result.asset_materializations_for_node("bars_1_minute")[0].metadata
    assert metadata["session"].value == SESSION
    assert (metadata["bars"].value, metadata["missing_bars"].value) == (360, 30)
    assert metadata["flagged_sessions"].value == 1
    row = flagged_rows(metadata)[SESSION]
    assert (row["status"], row["bars"], row["expected"], row["missing"], row["longest gap"]) == (
        "written", "360", "390", "30", "30",
    )  # fmt: skip
    assert len(storage.catalog_store().read_session_bars(SPY_MINUTES, session_for(SESSION))) == 360
    (evaluation,) = check_evaluations(result)
    assert evaluation.check_name == BAR_QUALITY and evaluation.passed  # a warning by default
    checked = evaluation.metadata
    assert checked["sessions_with_gaps"].value == 1
    assert checked["warnings_session_gaps"].value == 1
    assert f"| {SESSION} | 360 | 390 | 30 (7.7%) | 30 | no |" in checked["gaps"].value


def test_a_blocking_threshold_fails_the_check_naming_session_fraction_and_threshold(
    ib_gateway, ib_resource, storage, tmp_path
):
    ib_gateway.faults.set("SPY", Fault(short_bars=30), session=session_for(SESSION).date)
    universe, backtests = _universe_file(tmp_path, 0.05)
    result = materialize(
        MINUTE_AND_CHECK, ib_resource, storage, partition_key=f"{SESSION}|SPY.ARCA",
        assets=all_assets(universe, backtests),
    )  # fmt: skip
    (evaluation,) = check_evaluations(result)
    assert not evaluation.passed
    failed = evaluation.metadata["failed_sessions"].value
    assert f"session {SESSION} fails session_gaps" in failed
    assert "30 of 390 bars missing (7.7%)" in failed
    assert "more than max_missing_fraction 5.0%" in failed


def test_a_cut_off_answer_is_retried_not_stored(ib_gateway, ib_settings, tmp_path):
    ib_gateway.faults.script(
        "SPY", Fault(drop=True, short_bars=30), session=session_for(SESSION).date, times=1
    )
    universe = load_universe(_universe_file(tmp_path, None)[0])
    store = CatalogStore(tmp_path / "catalog")
    records = list(
        ingest_sessions(universe, BarSpec.parse("1-MINUTE-LAST"), {"SPY.ARCA": [SESSION]}, store,
                        lambda: IBFetcher(ib_settings, limiter=None))
    )  # fmt: skip
    (record,) = records
    assert record.status is SessionStatus.WRITTEN
    assert (record.attempts, record.bars, record.missing_bars) == (2, 390, 0)


def test_a_session_that_has_not_closed_is_not_fetched(ib_gateway, ib_settings, tmp_path):
    universe = load_universe(_universe_file(tmp_path, None)[0])
    store = CatalogStore(tmp_path / "catalog")
    session = session_for(SESSION)
    before_close = session.close - dt.timedelta(minutes=1)
    records = list(
        ingest_sessions(universe, BarSpec.parse("1-MINUTE-LAST"), {"SPY.ARCA": [SESSION]}, store,
                        lambda: IBFetcher(ib_settings, limiter=None), now=lambda: before_close)
    )  # fmt: skip
    (record,) = records
    assert record.status is SessionStatus.FAILED
    assert f"SPY.ARCA session {SESSION} has not closed yet" in record.detail
    assert "closes at 2024-01-05T21:00:00+00:00 (16:00 EST)" in record.detail
    assert ib_gateway.requests.historical_requests() == []
    assert not store.has_session(SPY_MINUTES, session)


def test_a_future_session_is_not_offered_as_a_partition():
    settings, universe, _ = code_location()
    from ntrader_pipeline.defs.partitions import build_partitions

    partitions = build_partitions(universe, settings.ntrader.first_session)
    now = dt.datetime.now(dt.UTC)
    month = now.date().replace(day=1)
    offered = partitions.sessions.in_month(month, now)
    last = partitions.sessions.last_offered(now)
    assert last is not None and session_for(last).close <= now
    assert not offered or offered[-1] == last.isoformat()  # the month's offered sessions end at the last
    assert (now + dt.timedelta(days=1)).date().isoformat() not in offered
    assert all(session_for(s).close <= now for s in offered)
    # the current month is a partition while its sessions close one by one; the next month is not
    months = partitions.months.get_partition_keys(current_time=now)
    assert months[-1] == month.isoformat()


@pytest.mark.parametrize("short", [0, 5])
def test_ingest_records_expected_and_missing_bars(ib_gateway, ib_settings, tmp_path, short):
    if short:
        ib_gateway.faults.set("SPY", Fault(short_bars=short))
    universe = load_universe(_universe_file(tmp_path, None)[0])
    store = CatalogStore(tmp_path / "catalog")
    (record,) = ingest_sessions(
        universe, BarSpec.parse("1-MINUTE-LAST"), {"SPY.ARCA": [SESSION]}, store,
        lambda: IBFetcher(ib_settings, limiter=None),
    )  # fmt: skip
    assert (record.expected_bars, record.bars, record.missing_bars) == (390, 390 - short, short)
    assert record.sparse == bool(short)
    assert record.longest_gap == short
