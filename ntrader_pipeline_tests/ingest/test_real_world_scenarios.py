"""The real-world scenario table (issue 10): each row runs end to end through the real Nautilus IB client
and Dagster against the embedded gateway's market realities, on a universe written by the test: the
illiquid ILLQ.NASDAQ (listed 2023-09-12, ~30 % of minutes without a trade, halted 2024-01-18 11:05-11:30,
4:1 split ex 2024-02-15), its adjusted twin (`adjusted: true`) and SPY.ARCA as the benchmark index.

| row | scenario                       | expected outcome                                                |
|-----|--------------------------------|-----------------------------------------------------------------|
| 1   | sparse session                 | stored, its gaps in the metadata; the check warns and passes    |
| 1b  | sparse session, blocking rule  | the check fails naming session, missing fraction and threshold  |
| 1c  | sparse, blocking, backtest     | the backtest is refused naming sessions; remedy: the threshold  |
| 2   | halt                           | stored and flagged, longest gap >= the halt's 25 minutes        |
| 3   | pre-listing sessions           | NOT_LISTED without a request each: one head-timestamp request   |
| 4   | missing market-data permission | the run fails after one request, at once, naming what to check  |
| 5   | a session that has not closed  | not offered as a partition; a fetch of it sends nothing         |
| 6   | 4:1 split                      | flagged; the `splits` backtest reads no jump, `none` reads ~4x  |
| 6b  | adjusted twin, minute bars     | fails without a request: adjusted series are daily only         |
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from ntrader_pipeline.app import bars as bars_module
from ntrader_pipeline.defs import build_assets
from ntrader_pipeline.defs.partitions import build_partitions
from ntrader_pipeline.gateway.realities import ILLQ_REALITY
from ntrader_pipeline.ingest.run import ingest_sessions
from ntrader_pipeline.markets.sessions import session_for, sessions_between
from ntrader_pipeline.markets.universe import load_universe
from ntrader_pipeline_tests.defs.helpers import (
    BAR_QUALITY,
    DAILY_BARS,
    MINUTE_BARS,
    check_evaluations,
    code_location,
    materializations_of,
    materialize,
)
from ntrader_pipeline_tests.ingest.flagged import flagged_rows

ILLQ = "ILLQ.NASDAQ"
ILLQ_ADJ = "ILLQ-ADJ.NASDAQ"
SPY = "SPY.ARCA"
ILLQ_MINUTES = f"{ILLQ}-1-MINUTE-LAST-EXTERNAL"
SESSION_MINUTES = 390
FIRST_SESSION = dt.date(2023, 9, 1)  # before ILLQ's listing, so its pre-listing sessions are partitions
SPLIT_WINDOW = ("2024-02-12", "2024-02-20")  # 12, 13, 14, 15 (ex-date), 16, 20 (19th: Presidents Day)
FACTORS = dg.AssetKey("adjustment_factors")
MINUTE_VERSION = dg.AssetKey("bars_1_minute_version")
MINUTE_AND_CHECK = dg.AssetSelection.assets(MINUTE_BARS) | dg.AssetSelection.checks_for_assets(MINUTE_BARS)


def _write_code_location(tmp_path: Path, max_missing_fraction: float | None = None) -> list:
    """Universe and backtests files for the scenarios; the assets and checks built from them."""
    threshold = "" if max_missing_fraction is None else f", max_missing_fraction: {max_missing_fraction}"
    universe = tmp_path / "universe.yaml"
    universe.write_text(
        "bar_specs: [1-MINUTE-LAST, 1-DAY-LAST]\ninstruments:\n"
        f"  - {{symbol: ILLQ, primary_exchange: NASDAQ{threshold}}}\n"
        "  - {symbol: ILLQ, primary_exchange: NASDAQ, adjusted: true}\n"
        "  - {symbol: SPY, primary_exchange: ARCA}\n"
    )
    window = f"{{start: {SPLIT_WINDOW[0]}, end: {SPLIT_WINDOW[1]}}}"
    backtests = tmp_path / "backtests.yaml"
    backtests.write_text(
        "backtests:\n"
        + "".join(
            f"  split_{adjustment}:\n    strategy: sma_cross\n    instruments: [{ILLQ}]\n"
            f"    parameters: {{fast_period: 10, slow_period: 30}}\n"
            f"    index_instrument: {SPY}\n    adjustment: {adjustment}\n    window: {window}\n"
            for adjustment in ("none", "splits")
        )
    )
    assets, checks = build_assets(*code_location(universe, backtests, first_session=FIRST_SESSION))
    return [*assets, *checks]


@pytest.fixture
def scenario_assets(tmp_path) -> list:
    return _write_code_location(tmp_path)


def _session_metadata(result: dg.ExecuteInProcessResult) -> dict:
    return result.asset_materializations_for_node("bars_1_minute")[0].metadata


def _assert_stored_as_reported(storage, date: str, bars: int) -> None:
    """Nothing lost, nothing duplicated: the file holds the reported bars, one per minute, in session."""
    session = session_for(date)
    stored = storage.catalog_store().read_session_bars(ILLQ_MINUTES, session)
    closes = [b.ts_init for b in stored]  # a bar's close; ts_event is its open
    assert len(stored) == bars
    assert len(set(closes)) == len(closes) and closes == sorted(closes)
    assert session.open.timestamp() * 1e9 <= stored[0].ts_event
    assert closes[-1] <= session.close.timestamp() * 1e9


# -- row 1: a sparse session ------------------------------------------------------------------------


def test_row1_sparse_session_is_stored_and_flagged(ib_gateway, ib_resource, storage, scenario_assets):
    """ILLQ on 2024-01-10 (~30 % of minutes without a trade): stored after one request with fewer than 390
    bars; the partition metadata gives expected and missing bars and the longest gap; bar_quality passes
    with a session_gaps warning (no threshold declared)."""
    date = "2024-01-10"
    result = materialize(
        MINUTE_AND_CHECK, ib_resource, storage, partition_key=f"{date}|{ILLQ}", assets=scenario_assets
    )
    assert result.success
    assert len(ib_gateway.requests.historical_requests()) == 1  # stored at once, not retried as short
    metadata = _session_metadata(result)
    bars, missing = metadata["bars"].value, metadata["missing_bars"].value
    assert (metadata["session"].value, metadata["flagged_sessions"].value) == (date, 1)
    row = flagged_rows(metadata)[date]
    assert (row["status"], row["bars"], row["missing"]) == ("written", str(bars), str(missing))
    assert row["expected"] == str(SESSION_MINUTES)
    assert SESSION_MINUTES * 0.6 < bars < SESSION_MINUTES * 0.8
    assert bars + missing == SESSION_MINUTES
    assert int(row["longest gap"]) >= 2
    _assert_stored_as_reported(storage, date, bars)
    (evaluation,) = check_evaluations(result)
    assert evaluation.check_name == BAR_QUALITY and evaluation.passed
    checked = evaluation.metadata
    assert (checked["sessions_with_gaps"].value, checked["warnings_session_gaps"].value) == (1, 1)
    assert checked["missing_bars"].value == missing
    fraction = missing / SESSION_MINUTES
    assert f"| {date} | {bars} | {SESSION_MINUTES} | {missing} ({fraction:.1%}) |" in checked["gaps"].value


def test_row1b_blocking_threshold_fails_naming_session_fraction_and_threshold(
    ib_gateway, ib_resource, storage, tmp_path
):
    """The same session with `max_missing_fraction: 0.1` for ILLQ: still stored (IB answered the whole
    session), but the blocking bar_quality check fails naming the session, its missing share and 10 %."""
    date = "2024-01-10"
    assets = _write_code_location(tmp_path, max_missing_fraction=0.1)
    result = materialize(
        MINUTE_AND_CHECK, ib_resource, storage, partition_key=f"{date}|{ILLQ}", assets=assets
    )
    metadata = _session_metadata(result)
    bars, missing = metadata["bars"].value, metadata["missing_bars"].value
    _assert_stored_as_reported(storage, date, bars)
    (evaluation,) = check_evaluations(result)
    assert not evaluation.passed
    failed = evaluation.metadata["failed_sessions"].value
    assert f"session {date} fails session_gaps" in failed
    assert f"{missing} of {SESSION_MINUTES} bars missing ({missing / SESSION_MINUTES:.1%})" in failed
    assert "more than max_missing_fraction 10.0%" in failed


def test_row1c_blocking_threshold_refuses_the_backtest_without_suggesting_a_refetch(
    ib_gateway, ib_resource, storage, tmp_path
):
    """With `max_missing_fraction: 0.1`, a backtest over ILLQ's sparse sessions is refused naming each
    session with its missing share; the remedy is the threshold or the window, not a re-fetch (IB would
    answer the same)."""
    assets = _write_code_location(tmp_path, max_missing_fraction=0.1)
    first, last = SPLIT_WINDOW
    for instrument in (ILLQ, SPY):
        fetched = materialize(
            dg.AssetSelection.assets(MINUTE_BARS), ib_resource, storage, assets=assets,
            partition_range=(f"{first}|{instrument}", f"{last}|{instrument}"),
        )  # fmt: skip
        # stored (IB answered every session); the blocking check fails for ILLQ only
        assert fetched.asset_materializations_for_node("bars_1_minute")[-1].metadata["sessions"].value == 6
        (evaluation,) = check_evaluations(fetched)
        assert evaluation.passed is (instrument == SPY)
    result = materialize(
        dg.AssetSelection.assets(MINUTE_VERSION, "split_none_backtest"), ib_resource, storage,
        assets=assets, partition_key=ILLQ,
    )  # fmt: skip
    assert not result.success
    message = result.failure_data_for_node("split_none").error.message  # the chain's one step
    assert "6 sessions fail the quality rules" in message
    assert f"{ILLQ_MINUTES} session 2024-02-15 fails session_gaps" in message
    assert "more than max_missing_fraction 10.0%" in message
    assert "raise the instrument's max_missing_fraction in the universe" in message
    assert "(re-fetch failing ones)" not in message


# -- row 2: a halt ------------------------------------------------------------------------------------


def test_row2_halt_session_is_stored_and_flagged(ib_gateway, ib_resource, storage, scenario_assets):
    """ILLQ on 2024-01-18, halted 11:05-11:30: stored after one request; the longest gap is at least the
    halt's 25 minutes; bar_quality passes with the gap warning."""
    halt = ILLQ_REALITY.halts[0]
    date = halt.session.isoformat()
    result = materialize(
        MINUTE_AND_CHECK, ib_resource, storage, partition_key=f"{date}|{ILLQ}", assets=scenario_assets
    )
    assert result.success
    assert len(ib_gateway.requests.historical_requests()) == 1
    metadata = _session_metadata(result)
    row = flagged_rows(metadata)[date]
    assert row["status"] == "written" and int(row["longest gap"]) >= halt.minutes == 25
    assert row["missing"] == str(metadata["missing_bars"].value)
    assert metadata["missing_bars"].value >= halt.minutes
    assert metadata["bars"].value + metadata["missing_bars"].value == SESSION_MINUTES
    _assert_stored_as_reported(storage, date, metadata["bars"].value)
    (evaluation,) = check_evaluations(result)
    assert evaluation.passed and evaluation.metadata["longest_gap"].value >= halt.minutes
    # no bar inside the halt
    session = session_for(date)
    stored = storage.catalog_store().read_session_bars(ILLQ_MINUTES, session)
    start = dt.datetime.combine(halt.session, halt.start, dt.timezone(dt.timedelta(hours=-5)))
    halted = (start.timestamp() * 1e9, (start.timestamp() + halt.minutes * 60) * 1e9)
    inside = [b for b in stored if halted[0] <= b.ts_event < halted[1]]
    assert inside == []


# -- row 3: pre-listing sessions ---------------------------------------------------------------------


def test_row3_pre_listing_sessions_are_recorded_without_a_request_each(
    ib_gateway, ib_resource, storage, scenario_assets
):
    """ILLQ 2023-09-05..2023-09-14 in one run: the 5 sessions before the 2023-09-12 listing are NOT_LISTED
    after one head-timestamp request, without a bar request each; the 3 listed ones are fetched (one
    request each) and stored; nothing is lost or duplicated."""
    result = materialize(
        MINUTE_AND_CHECK, ib_resource, storage, assets=scenario_assets,
        partition_range=(f"2023-09-05|{ILLQ}", f"2023-09-14|{ILLQ}"),
    )  # fmt: skip
    assert result.success
    historical = ib_gateway.requests.historical_requests()
    assert [r.end_date_time[:8] for r in historical] == ["20230912", "20230913", "20230914"]
    assert len(ib_gateway.requests.of_type(87)) == 1  # reqHeadTimeStamp, once for the run
    (event,) = result.asset_materializations_for_node("bars_1_minute")  # one event: the month 2023-09
    summary = event.metadata
    flagged = flagged_rows(summary)
    pre_listing = ("2023-09-05", "2023-09-06", "2023-09-07", "2023-09-08", "2023-09-11")
    assert {day for day, row in flagged.items() if row["status"] == "not_listed"} == set(pre_listing)
    assert summary["sessions"].value == 8
    stored = storage.catalog_store()
    total = 0
    for date in ("2023-09-12", "2023-09-13", "2023-09-14"):
        count = len(stored.read_session_bars(ILLQ_MINUTES, session_for(date)))
        assert 0 < count < SESSION_MINUTES
        total += count
    assert summary["bars"].value == total
    for date in pre_listing:
        assert not stored.has_session(ILLQ_MINUTES, session_for(date))
    evaluation = check_evaluations(result)[0]
    assert evaluation.passed and evaluation.metadata["not_listed_days"].value == 5
    assert stored.head_timestamp(ILLQ, "TRADES") == dt.datetime(2023, 9, 12, 13, 30, tzinfo=dt.UTC)


# -- row 4: a missing market-data permission --------------------------------------------------------


PERMISSION_ROWS = {
    # head timestamp not yet in the catalog: IB refuses reqHeadTimeStamp (87) with 354
    "head_unknown": (87, 354, "Requested market data is not subscribed."),
    # head timestamp stored by an earlier run: the first bar request (20) gets 162 and IB's text
    "head_stored": (20, 162, "No market data permissions for ISLAND STK"),
}


@pytest.mark.parametrize("row", list(PERMISSION_ROWS))
def test_row4_permission_error_fails_the_partition_after_one_request(
    ib_gateway, ib_resource, storage, scenario_assets, row
):
    """ILLQ without market-data permissions, 2024-01-08..2024-01-12 (5 sessions) in one run: the run fails
    after one request to IB (no retry, no request for the other sessions), naming instrument,
    what-to-show, IB's code and text and the subscription to check; nothing is stored. Measured (2 shared
    cores): from the gateway's receipt of that request to Dagster's STEP_FAILURE event ~0.01-0.05 s,
    asserted < 1 s; the whole in-process Dagster run ~0.2-1 s, bounded at 10 s for Dagster's start-up."""
    message_id, code, text = PERMISSION_ROWS[row]
    if row == "head_stored":
        storage.catalog_store().write_head_timestamp(
            ILLQ, "TRADES", dt.datetime(2023, 9, 12, 13, 30, tzinfo=dt.UTC)
        )
    ib_gateway.realities.update("ILLQ", permission="no_permissions")
    with dg.DagsterInstance.ephemeral() as instance:
        started = time.monotonic()
        result = materialize(
            dg.AssetSelection.assets(MINUTE_BARS), ib_resource, storage, assets=scenario_assets,
            partition_range=(f"2024-01-08|{ILLQ}", f"2024-01-12|{ILLQ}"), instance=instance,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        assert not result.success
        asked = [r for r in ib_gateway.requests.all() if r.message_id in (20, 87)]  # bars, head timestamp
        assert [r.message_id for r in asked] == [message_id]
        failed_at = next(
            e.timestamp
            for e in instance.all_logs(result.run_id)
            if e.dagster_event_type == dg.DagsterEventType.STEP_FAILURE
        )
    ib_part = failed_at - asked[0].received_at.timestamp()
    print(f"permission row {row}: request → step failure {ib_part:.3f} s, whole run {elapsed:.3f} s")
    assert 0 <= ib_part < 1.0, ib_part
    assert elapsed < 10.0, elapsed
    message = result.failure_data_for_node("bars_1_minute").error.message
    for part in (
        f"{ILLQ} TRADES",
        f"error {code}",
        text,
        "Market Data Subscriptions",
        "Retrying cannot help",
    ):
        assert part in message, (part, message)
    store = storage.catalog_store()
    assert not any(store.has_session(ILLQ_MINUTES, s) for s in sessions_between("2024-01-08", "2024-01-12"))


# -- row 5: a session that has not closed -----------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "last_key"),
    [
        (dt.datetime(2024, 7, 6, 12, tzinfo=dt.UTC), "2024-07-05"),  # Saturday: Friday's session
        (dt.datetime(2024, 7, 4, 18, tzinfo=dt.UTC), "2024-07-03"),  # holiday: the session before
        (dt.datetime(2024, 7, 5, 19, 59, tzinfo=dt.UTC), "2024-07-03"),  # Friday, trading
        (dt.datetime(2024, 7, 5, 22, 0, tzinfo=dt.UTC), "2024-07-05"),  # Friday, after the close
    ],
)
def test_row5a_a_session_that_has_not_closed_is_not_offered(tmp_path, now, last_key):
    """At `now`, the offered sessions end with the last session that has closed; the current month is a
    partition (its sessions are offered one by one as they close)."""
    _write_code_location(tmp_path)
    _, universe, _ = code_location(tmp_path / "universe.yaml", tmp_path / "backtests.yaml")
    partitions = build_partitions(universe, FIRST_SESSION)
    assert partitions.sessions.last_offered(now).isoformat() == last_key
    offered = partitions.sessions.in_month("2024-07-01", now)
    assert offered[-1] == last_key
    assert session_for(offered[-1]).close <= now
    assert partitions.months.get_partition_keys(current_time=now)[-1] == "2024-07-01"


def test_row5b_a_session_that_has_not_closed_is_not_fetched(
    ib_gateway, ib_resource, storage, scenario_assets, monkeypatch
):
    """A run of ILLQ's 2024-01-10 partition one minute before its close (the asset's clock set to then):
    the partition fails naming the close time; no request reaches IB; nothing is stored."""
    session = session_for("2024-01-10")
    before_close = session.close - dt.timedelta(minutes=1)

    def ingest_before_close(*args, now, **kwargs):  # the asset passes its own clock: replace it
        return ingest_sessions(*args, now=lambda: before_close, **kwargs)

    monkeypatch.setattr(bars_module, "ingest_sessions", ingest_before_close)
    result = materialize(
        dg.AssetSelection.assets(MINUTE_BARS), ib_resource, storage, assets=scenario_assets,
        partition_key=f"2024-01-10|{ILLQ}",
    )  # fmt: skip
    assert not result.success
    message = result.failure_data_for_node("bars_1_minute").error.message
    assert f"{ILLQ} session 2024-01-10 has not closed yet" in message
    assert "closes at 2024-01-10T21:00:00+00:00" in message
    assert ib_gateway.requests.historical_requests() == []
    assert not storage.catalog_store().has_session(ILLQ_MINUTES, session)


# -- row 6: a 4:1 split ------------------------------------------------------------------------------


def _overnight_ratios(equity: pl.DataFrame) -> dict[dt.date, float]:
    """Previous session's last close ÷ this session's first close, by session date (New York)."""
    daily = (
        equity.select("ts", "close")
        .with_columns(pl.col("ts").dt.convert_time_zone("America/New_York").dt.date().alias("date"))
        .group_by("date", maintain_order=True)
        .agg(pl.col("close").first().alias("first"), pl.col("close").last().alias("last"))
    )
    ratios = daily.with_columns((pl.col("last").shift(1) / pl.col("first")).alias("ratio")).drop_nulls()
    return dict(zip(ratios["date"].to_list(), ratios["ratio"].to_list(), strict=True))


def test_row6_split_is_flagged_and_only_the_unadjusted_backtest_jumps(
    ib_gateway, ib_resource, storage, scenario_assets
):
    """ILLQ's 4:1 split ex 2024-02-15, window 2024-02-12..2024-02-20: the minutes are stored as fetched and
    bar_quality warns `possible_split` naming 2024-02-15 and 4:1; daily TRADES and ADJUSTED_LAST bars give
    adjustment factors with one split; the backtest declared with `adjustment: splits` reads bars with no
    overnight jump at the split (ratio ~1), the one with `adjustment: none` reads the ~4× jump."""
    first, last = SPLIT_WINDOW
    sessions = sessions_between(first, last)
    assert len(sessions) == 6

    def run(selection, instrument=None, **kwargs):
        if instrument:
            kwargs["partition_range"] = (f"{first}|{instrument}", f"{last}|{instrument}")
        result = materialize(selection, ib_resource, storage, assets=scenario_assets, **kwargs)
        assert result.success
        return result

    minutes = run(MINUTE_AND_CHECK, ILLQ)
    assert len(ib_gateway.requests.historical_requests()) == len(sessions)  # one per session, no retry
    summary = minutes.asset_materializations_for_node("bars_1_minute")[-1].metadata
    stored = storage.catalog_store()
    counts = [len(stored.read_session_bars(ILLQ_MINUTES, s)) for s in sessions]
    assert summary["bars"].value == sum(counts) and all(0 < c < SESSION_MINUTES for c in counts)
    (evaluation,) = check_evaluations(minutes)
    assert evaluation.passed  # a warning
    assert evaluation.metadata["warnings_possible_split"].value == 1
    warning = evaluation.metadata["possible_splits"].value
    assert "2024-02-15" in warning and "4:1" in warning
    run(dg.AssetSelection.assets(DAILY_BARS), ILLQ)
    run(dg.AssetSelection.assets(DAILY_BARS), ILLQ_ADJ)
    run(dg.AssetSelection.assets(MINUTE_BARS), SPY)  # the benchmark index
    factors = run(dg.AssetSelection.assets(FACTORS), partition_key=ILLQ)
    factor_metadata = factors.asset_materializations_for_node("adjustment_factors")[0].metadata
    assert (factor_metadata["sessions"].value, factor_metadata["splits"].value) == (6, 1)
    assert "2024-02-15 split 4:1" in factor_metadata["corporate_actions"].value

    ratios = {}
    for adjustment in ("none", "splits"):
        name = f"split_{adjustment}"
        result = run(dg.AssetSelection.assets(MINUTE_VERSION, f"{name}_backtest"), partition_key=ILLQ)
        metadata = materializations_of(result, f"{name}_backtest")[0].metadata
        assert metadata["adjustment"].value == adjustment
        assert metadata["bars"].value == sum(counts)  # every stored bar read, none fabricated
        equity = pl.read_parquet(Path(metadata["artifacts"].value) / "equity.parquet")
        ratios[adjustment] = _overnight_ratios(equity)
    split_day = dt.date(2024, 2, 15)
    assert ratios["none"][split_day] == pytest.approx(4.0, rel=0.05)
    assert ratios["splits"][split_day] == pytest.approx(1.0, abs=0.05)
    assert max(max(r, 1 / r) for r in ratios["splits"].values()) < 1.1  # no jump anywhere
    # the files stay as fetched: the pre-split minutes are still at the unadjusted (×4) level
    before = stored.read_session_bars(ILLQ_MINUTES, session_for("2024-02-14"))[-1].close.as_double()
    after = stored.read_session_bars(ILLQ_MINUTES, session_for("2024-02-15"))[0].close.as_double()
    assert before / after == pytest.approx(4.0, rel=0.05)


def test_row6b_the_adjusted_twin_has_no_minute_partitions_to_fetch(
    ib_gateway, ib_resource, storage, scenario_assets
):
    """The adjusted twin's 1-minute partitions (a backfill of every minute partition reaches them): they
    fail without a request, saying that adjusted series are daily only and how to get adjusted minutes,
    not to add a bar spec the universe already has."""
    result = materialize(
        dg.AssetSelection.assets(MINUTE_BARS), ib_resource, storage, assets=scenario_assets,
        partition_range=(f"2024-02-14|{ILLQ_ADJ}", f"2024-02-15|{ILLQ_ADJ}"),
    )  # fmt: skip
    assert not result.success
    assert not [r for r in ib_gateway.requests.all() if r.message_id in (20, 87)]
    message = result.failure_data_for_node("bars_1_minute").error.message
    assert f"{ILLQ_ADJ} has no 1-MINUTE-LAST bars (an adjusted series is daily only" in message
    assert f"fetch {ILLQ}'s and declare the backtest with `adjustment: splits`" in message
    assert "add the bar spec" not in message


def test_universe_declares_the_scenario_instruments(tmp_path):
    """The scenarios' universe: ILLQ, its adjusted twin and the SPY index, minute and daily bars."""
    _write_code_location(tmp_path)
    universe = load_universe(tmp_path / "universe.yaml")
    assert universe.instrument_ids == [ILLQ, ILLQ_ADJ, SPY]
