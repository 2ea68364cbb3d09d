"""Real IB is not ideal: sparse minutes, halts, late listings, splits, missing permissions. Each case runs
through the real Nautilus client against the gateway's market realities (and through Dagster where the
pipeline's decision is what matters).

Sparse and halted sessions are asserted at the client level (IBConnection): what the fetcher stores for
them is decided by its completeness rule (issue 10, item 2)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import dagster as dg
import pytest

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.gateway.realities import ILLQ_REALITY, MarketReality
from ntrader_pipeline.ib.client import IBConnection
from ntrader_pipeline.ib.fetcher import IBFetcher
from ntrader_pipeline.ingest.errors import MarketDataPermissionError
from ntrader_pipeline.ingest.run import SessionStatus, ingest_sessions
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.markets.universe import BarSpec, InstrumentSpec, load_universe
from ntrader_pipeline_tests.defs.helpers import MINUTE_BARS, check_evaluations, materialize
from ntrader_pipeline_tests.ingest.flagged import flagged_rows

SPY = InstrumentSpec(symbol="SPY", primary_exchange="ARCA")
ILLQ = InstrumentSpec(symbol="ILLQ", primary_exchange="NASDAQ")
ILLQ_ADJ = InstrumentSpec(symbol="ILLQ", primary_exchange="NASDAQ", adjusted=True)
MINUTE = BarSpec.parse("1-MINUTE-LAST")
MINUTE_MID = BarSpec.parse("1-MINUTE-MID")
DAY = BarSpec.parse("1-DAY-LAST")
NEW_YORK = dt.timezone(dt.timedelta(hours=-5))  # EST: every session asserted here is in winter


def _bars(connection: IBConnection, spec: InstrumentSpec, bar_spec: BarSpec, day: str, duration: str = "1 D"):
    session = session_for(day)
    bars, errors = connection.fetch_bars(spec, bar_spec, session.close.replace(tzinfo=None), duration)
    return bars, errors


def _local(bar) -> dt.datetime:
    return dt.datetime.fromtimestamp(bar.ts_event / 1e9, NEW_YORK)


@pytest.fixture
def connection(ib_settings):
    with IBConnection(ib_settings) as connected:
        yield connected


# -- permissions: fatal at once, naming what to check ---------------------------------------------

PERMISSION_CASES = {
    "no_permissions": (162, "No market data permissions for ARCA STK", "Market Data Subscriptions"),
    "not_subscribed": (354, "Requested market data is not subscribed", "Market Data Subscriptions"),
    "api_subscription": (10089, "requires additional subscription for API", "Market Data Connections"),
    "delayed_disabled": (10168, "Delayed market data is not enabled", "subscription"),
    "competing_session": (10197, "competing live session", "live user"),
}


@pytest.mark.parametrize("kind", list(PERMISSION_CASES))
def test_permission_error_fails_after_one_request_within_a_second(kind, ib_gateway, ib_settings):
    code, text, remedy = PERMISSION_CASES[kind]
    ib_gateway.realities.set("SPY", MarketReality(permission=kind))
    settings = ib_settings.model_copy(update={"max_attempts": 3})
    with IBFetcher(settings) as fetcher:
        fetcher.connection()  # connected beforehand: the bound is on the request
        started = time.monotonic()
        with pytest.raises(MarketDataPermissionError) as raised:
            fetcher.session(SPY, MINUTE, session_for("2024-01-04"))
        elapsed = time.monotonic() - started
    assert elapsed < 1.0
    assert len(ib_gateway.requests.historical_requests()) == 1  # no retry
    message = str(raised.value)
    for part in ("SPY.ARCA", "TRADES", f"error {code}", text, remedy, "Retrying cannot help"):
        assert part in message


def test_permission_error_fails_the_partition_after_one_request(ib_gateway, ib_resource, storage):
    ib_gateway.realities.set("SPY", MarketReality(permission="no_permissions"))
    started = time.monotonic()
    result = materialize(
        dg.AssetSelection.assets(MINUTE_BARS),
        ib_resource,
        storage,
        partition_range=("2024-01-02|SPY.ARCA", "2024-01-12|SPY.ARCA"),
    )
    elapsed = time.monotonic() - started
    assert not result.success
    message = result.failure_data_for_node("bars_1_minute").error.message
    assert "SPY.ARCA TRADES" in message and "354" in message and "Market Data Subscriptions" in message
    # the head timestamp request is refused first: one request for nine sessions, and no bar request
    asked = [r for r in ib_gateway.requests.all() if r.message_id in (20, 87)]
    assert len(asked) == 1 and asked[0].message_id == 87
    assert elapsed < 30  # Dagster's own overhead; the IB part is one round trip


def test_permission_error_on_a_yearly_daily_request_is_fatal_at_once(ib_gateway, ib_settings):
    ib_gateway.realities.set("SPY", MarketReality(permission="no_permissions"))
    sessions = [session_for(d) for d in ("2024-01-02", "2024-01-03", "2024-01-04")]
    with IBFetcher(ib_settings) as fetcher, pytest.raises(MarketDataPermissionError, match="error 162"):
        list(fetcher.sessions(SPY, DAY, sessions))
    assert [r.duration for r in ib_gateway.requests.historical_requests()] == ["1 Y"]


def test_delayed_data_notice_is_logged_not_fatal(ib_gateway, ib_settings):
    ib_gateway.realities.set("SPY", MarketReality(permission="delayed"))
    with IBFetcher(ib_settings) as fetcher:
        result = fetcher.session(SPY, MINUTE, session_for("2024-01-04"))
    assert len(result.bars) == 390 and result.attempts == 1


# -- listing dates: pre-listing sessions without a request each ----------------------------------


def test_pre_listing_sessions_are_not_listed_without_a_request_each(ib_gateway, ib_resource, storage):
    ib_gateway.realities.set("SPY", MarketReality(listed=dt.date(2024, 1, 5)))
    result = materialize(
        dg.AssetSelection.assets(MINUTE_BARS) | dg.AssetSelection.checks_for_assets(MINUTE_BARS),
        ib_resource,
        storage,
        partition_range=("2024-01-02|SPY.ARCA", "2024-01-09|SPY.ARCA"),
    )
    assert result.success
    historical = ib_gateway.requests.historical_requests()
    assert [r.end_date_time[:8] for r in historical] == ["20240105", "20240108", "20240109"]
    assert len(ib_gateway.requests.of_type(87)) == 1
    (event,) = result.asset_materializations_for_node("bars_1_minute")  # one event: the month 2024-01
    metadata = event.metadata
    assert (metadata["sessions"].value, metadata["bars"].value) == (6, 3 * 390)
    flagged = flagged_rows(metadata)
    assert metadata["flagged_sessions"].value == 3
    assert {day: row["status"] for day, row in flagged.items()} == {
        day: "not_listed" for day in ("2024-01-02", "2024-01-03", "2024-01-04")
    }
    evaluation = check_evaluations(result)[0]
    assert evaluation.passed
    assert evaluation.metadata["not_listed_days"].value == 3
    store = storage.catalog_store()
    assert store.head_timestamp("SPY.ARCA", "TRADES") == dt.datetime(2024, 1, 5, 14, 30, tzinfo=dt.UTC)
    # a later run reads the head timestamp from the catalog: no request for it, none per session
    ib_gateway.requests.clear()
    again = materialize(
        dg.AssetSelection.assets(MINUTE_BARS),
        ib_resource,
        storage,
        partition_range=("2024-01-02|SPY.ARCA", "2024-01-04|SPY.ARCA"),
    )
    assert again.success
    assert not [r for r in ib_gateway.requests.all() if r.message_id in (20, 87)]


def test_illiquid_listing_through_ingest(ib_gateway, ib_settings, tmp_path: Path):
    universe_file = tmp_path / "universe.yaml"
    universe_file.write_text(
        "bar_specs: [1-DAY-LAST]\ninstruments:\n  - {symbol: ILLQ, primary_exchange: NASDAQ}\n"
    )
    universe = load_universe(universe_file)
    store = CatalogStore(tmp_path / "catalog")
    dates = [s.key for s in (session_for(d) for d in ("2023-09-07", "2023-09-08", "2023-09-11"))]
    dates += ["2023-09-12", "2023-09-13"]
    records = list(
        ingest_sessions(universe, DAY, {"ILLQ.NASDAQ": dates}, store, lambda: IBFetcher(ib_settings))
    )
    statuses = {r.date: r.status for r in records}
    assert [statuses[d] for d in dates[:3]] == [SessionStatus.NOT_LISTED] * 3
    assert [statuses[d] for d in dates[3:]] == [SessionStatus.WRITTEN] * 2
    assert "head timestamp" in next(r.detail for r in records if r.status is SessionStatus.NOT_LISTED)
    assert len(ib_gateway.requests.historical_requests()) == 1  # the listed sessions, one "1 Y" request


def test_request_before_the_listing_is_answered_as_ib_does(connection, ib_gateway):
    bars, errors = _bars(connection, ILLQ, MINUTE, "2023-08-01")
    assert bars == []
    assert [(e.code, e.text) for e in errors] == [
        (162, "Historical Market Data Service error message:HMDS query returned no data: ILLQ@NASDAQ Trades")
    ]
    head, errors = connection.head_timestamp(ILLQ, "TRADES")
    assert head == dt.datetime(2023, 9, 12, 13, 30, tzinfo=dt.UTC) and not errors


# -- liquidity, halts, late opens -------------------------------------------------------------------


def test_sparse_session_has_fewer_trades_bars_midpoint_stays_continuous(connection):
    trades, _ = _bars(connection, ILLQ, MINUTE, "2024-01-10")
    midpoint, _ = _bars(connection, ILLQ, MINUTE_MID, "2024-01-10")
    daily, _ = _bars(connection, ILLQ, DAY, "2024-01-10")
    assert len(midpoint) == 390
    assert 390 * 0.6 < len(trades) < 390 * 0.8  # about 30 % of the minutes without a trade
    assert len(daily) == 1
    day = daily[0]
    assert day.open == trades[0].open and day.close == trades[-1].close
    assert day.high == max(b.high for b in trades) and day.low == min(b.low for b in trades)
    assert day.volume == sum(b.volume for b in trades)


def test_halt_leaves_no_bars_of_any_kind(connection):
    halt = ILLQ_REALITY.halts[0]
    trades, _ = _bars(connection, ILLQ, MINUTE, halt.session.isoformat())
    midpoint, _ = _bars(connection, ILLQ, MINUTE_MID, halt.session.isoformat())
    start = dt.datetime.combine(halt.session, halt.start, NEW_YORK)
    end = start + dt.timedelta(minutes=halt.minutes)
    for bars in (trades, midpoint):
        assert not [b for b in bars if start <= _local(b) < end]
        assert [b for b in bars if _local(b) == end]  # trading resumes (the reopening auction trades)
    assert len(midpoint) == 390 - halt.minutes


def test_late_open_starts_the_session_late(connection):
    late = ILLQ_REALITY.halts[1]
    trades, _ = _bars(connection, ILLQ, MINUTE, late.session.isoformat())
    first = dt.datetime.combine(late.session, late.start, NEW_YORK) + dt.timedelta(minutes=late.minutes)
    assert _local(trades[0]) >= first


def test_ideal_symbols_stay_ideal(connection):
    trades, _ = _bars(connection, SPY, MINUTE, "2024-01-10")
    assert len(trades) == 390


# -- splits and dividends ---------------------------------------------------------------------------


def test_split_jumps_in_trades_not_in_adjusted_last(connection):
    split = ILLQ_REALITY.splits[0]
    unadjusted, _ = _bars(connection, ILLQ, DAY, "2024-02-21", "1 M")
    adjusted, errors = _bars(connection, ILLQ_ADJ, DAY, "2024-02-21", "1 M")
    assert adjusted, errors
    by_day = {b.ts_event: b for b in unadjusted}
    adjusted_by_day = {b.ts_event: b for b in adjusted}
    days = sorted(by_day)
    before = max(d for d in days if dt.datetime.fromtimestamp(d / 1e9, dt.UTC).date() < split.ex_date)
    after = min(d for d in days if dt.datetime.fromtimestamp(d / 1e9, dt.UTC).date() >= split.ex_date)
    jump = float(by_day[after].close) / float(by_day[before].close)
    assert 0.9 / split.ratio < jump < 1.1 / split.ratio  # a 4:1 split: a 75 % "drop" unadjusted
    smooth = float(adjusted_by_day[after].close) / float(adjusted_by_day[before].close)
    assert 0.9 < smooth < 1.1
    # consistent: before the split, adjusted = unadjusted / ratio × the later dividends' factor
    for day in days:
        ratio = float(adjusted_by_day[day].close) / float(by_day[day].close)
        if day < after:
            assert ratio == pytest.approx(1 / split.ratio, rel=0.01)
        else:
            assert ratio == pytest.approx(1.0, rel=0.01)
    # volumes: unadjusted share counts ×4 after the split, the adjusted series continuous
    assert float(adjusted_by_day[before].volume) == pytest.approx(float(by_day[before].volume) * 4, rel=0.01)


def test_a_single_pre_listing_partition_is_materialized_as_not_listed(ib_gateway, ib_resource, storage):
    ib_gateway.realities.set("SPY", MarketReality(listed=dt.date(2024, 1, 5)))
    result = materialize(
        dg.AssetSelection.assets(MINUTE_BARS), ib_resource, storage, partition_key="2024-01-03|SPY.ARCA"
    )
    assert result.success
    (event,) = result.asset_materializations_for_node("bars_1_minute")
    metadata = event.metadata
    assert (metadata["session"].value, metadata["bars"].value, metadata["flagged_sessions"].value) == (
        "2024-01-03", 0, 1,
    )  # fmt: skip
    row = flagged_rows(metadata)["2024-01-03"]
    assert row["status"] == "not_listed" and "2024-01-05 14:30Z" in row["note"]
    assert not ib_gateway.requests.historical_requests()


def test_inventory_shows_not_listed_sessions(ib_gateway, ib_resource, storage):
    from ntrader_pipeline.cli.inventory import inventory

    ib_gateway.realities.set("SPY", MarketReality(listed=dt.date(2024, 1, 5)))
    materialize(
        dg.AssetSelection.assets(MINUTE_BARS),
        ib_resource,
        storage,
        partition_range=("2024-01-04|SPY.ARCA", "2024-01-05|SPY.ARCA"),
    )
    report = inventory(Path(storage.catalog), "2024-01-02", "2024-01-08")
    row = next(r for r in report["bar_types"] if r["bar_type"].startswith("SPY.ARCA-1-MINUTE"))
    assert row["not_listed"] == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert row["missing"] == ["2024-01-08"] and row["present"] == ["2024-01-05"]
    assert row["head_timestamp"].startswith("2024-01-05T14:30")
