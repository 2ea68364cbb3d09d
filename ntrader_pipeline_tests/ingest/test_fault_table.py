"""Each gateway fault → its outcome through the real client: retried to success, an explicitly empty
session, or a failure naming instrument, session, attempts and IB's last error. A cut-off answer is never
stored; an answer IB ran to its end is stored even when minutes are missing (`short_bars` models minutes
without trades at the session's end: stored, with its coverage, never filled in)."""

import time
from dataclasses import dataclass

import dagster as dg
import pytest

from ntrader_pipeline.gateway import Fault
from ntrader_pipeline.ib.fetcher import IBFetcher
from ntrader_pipeline.ingest.errors import ContractNotFoundError, InvalidRequestError, SessionFetchFailedError
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.markets.universe import BarSpec, InstrumentSpec
from ntrader_pipeline_tests.defs.helpers import MINUTE_BARS, materialize
from ntrader_pipeline_tests.ingest.flagged import flagged_rows

SPY = InstrumentSpec(symbol="SPY", primary_exchange="ARCA")
MINUTE = BarSpec.parse("1-MINUTE-LAST")
SESSION = session_for("2024-01-04")
ATTEMPTS = 3
REQUEST_TIMEOUT_S = 1.5
SPY_MINUTE_TYPE = "SPY.ARCA-1-MINUTE-LAST-EXTERNAL"


@dataclass(frozen=True)
class Case:
    fault: Fault
    outcome: str  # "complete", "empty" or the exception class expected
    requests: int  # historical requests the gateway saw
    message: tuple[str, ...] = ()
    bars: int = 390  # bars stored when the outcome is "complete"


CASES = {
    "pacing_twice": Case(Fault(pacing=True, times=2), "complete", 3),
    "pacing_always": Case(
        Fault(pacing=True), "SessionFetchFailedError", ATTEMPTS,
        ("SPY.ARCA 1-MINUTE-LAST session 2024-01-04", f"after {ATTEMPTS} attempts", "pacing violation"),
    ),
    "no_data": Case(Fault(no_data=True), "empty", 1, ("HMDS query returned no data: SPY@",)),
    "no_contract_200": Case(
        Fault(error=(200, "No security definition has been found for the request")), "ContractNotFoundError",
        1, ("SPY.ARCA 1-MINUTE-LAST session 2024-01-04", "IB error 200: No security definition"),
    ),
    "invalid_321": Case(
        Fault(error=(321, "Error validating request")), "InvalidRequestError", 1,
        ("SPY.ARCA 1-MINUTE-LAST session 2024-01-04", "IB error 321"),
    ),
    "connectivity_lost_once": Case(Fault(connectivity=1100, times=1), "complete", 2),
    "connectivity_restored_data_lost": Case(Fault(connectivity=1101, times=1), "complete", 1),
    "connectivity_lost_always": Case(
        Fault(connectivity=1100), "SessionFetchFailedError", ATTEMPTS,
        (f"after {ATTEMPTS} attempts", "IB error 1100: Connectivity between IB and Trader Workstation"),
    ),
    "drop_once": Case(Fault(drop=True, times=1), "complete", 2),
    "drop_always": Case(
        Fault(drop=True), "SessionFetchFailedError", ATTEMPTS,
        ("SPY.ARCA 1-MINUTE-LAST session 2024-01-04", f"after {ATTEMPTS} attempts"),
    ),
    "slow_answer_once": Case(Fault(delay=REQUEST_TIMEOUT_S + 1, times=1), "complete", 2),
    "malformed_once": Case(Fault(malformed=True, times=1), "complete", 2),
    "short_bars_once": Case(Fault(short_bars=5, times=1), "complete", 1, bars=385),
    "short_bars_always": Case(Fault(short_bars=5), "complete", 1, bars=385),
    "no_bar_at_all": Case(Fault(short_bars=390), "SessionFetchFailedError", ATTEMPTS,
        (f"after {ATTEMPTS} attempts", "cut off", "0 of 390 bars")),
    "drop_after_sparse": Case(
        Fault(drop=True, short_bars=5), "SessionFetchFailedError", ATTEMPTS,
        ("SPY.ARCA 1-MINUTE-LAST session 2024-01-04", "stopped reading from the gateway"),
    ),
}  # fmt: skip


@pytest.fixture
def fault_settings(ib_settings):
    return ib_settings.model_copy(
        update={
            "max_attempts": ATTEMPTS,
            "request_timeout_s": REQUEST_TIMEOUT_S,
            "backoff_base_s": 0.05,
            "backoff_cap_s": 0.2,
        }
    )


def _bound_s(settings) -> float:
    """Worst case the settings allow: every attempt reconnects, times out and backs off (plus slack)."""
    per_attempt = settings.connect_timeout_s + settings.request_timeout_s + settings.backoff_cap_s * 2
    return settings.max_attempts * per_attempt + 5


@pytest.mark.parametrize("name", list(CASES))
def test_fault_outcome(name, ib_gateway, fault_settings):
    case = CASES[name]
    ib_gateway.faults.script("SPY", case.fault, session=SESSION.date)
    started = time.monotonic()
    with IBFetcher(fault_settings) as fetcher:
        try:
            result = fetcher.session(SPY, MINUTE, SESSION)
            outcome, message = ("empty" if result.is_empty else "complete"), result.empty_reason or ""
        except (SessionFetchFailedError, ContractNotFoundError, InvalidRequestError) as exc:
            outcome, message, result = type(exc).__name__, str(exc), None
        # The run's connection still serves the next request, whatever happened before.
        ib_gateway.faults.clear()
        after = fetcher.session(SPY, MINUTE, session_for("2024-01-05"))
    assert time.monotonic() - started < _bound_s(fault_settings)
    assert outcome == case.outcome, message
    for part in case.message:
        assert part in message
    spy_requests = [r for r in ib_gateway.requests.historical_requests() if r.symbol == "SPY"]
    assert len(spy_requests) == case.requests + 1
    if outcome == "complete":
        assert result is not None and len(result.bars) == case.bars
        assert len({b.ts_init for b in result.bars}) == case.bars  # no duplicate bar, none made up
        assert result.attempts == case.requests
        assert result.coverage is not None
        assert (result.coverage.expected, result.coverage.present) == (390, case.bars)
        assert result.coverage.longest_gap == 390 - case.bars
    assert len(after.bars) == 390


def test_backoff_is_exponential_with_jitter_and_bounded(ib_gateway, fault_settings):
    ib_gateway.faults.script("SPY", Fault(pacing=True, times=2), session=SESSION.date)
    slept: list[float] = []
    settings = fault_settings.model_copy(update={"backoff_base_s": 0.1, "backoff_cap_s": 0.15})
    with IBFetcher(settings, sleep=slept.append) as fetcher:
        assert len(fetcher.session(SPY, MINUTE, SESSION).bars) == 390
    assert len(slept) == 2
    assert 0.1 <= slept[0] <= 0.1 * (1 + settings.backoff_jitter)
    assert 0.15 <= slept[1] <= 0.15 * (1 + settings.backoff_jitter)  # capped


def test_daily_backfill_is_one_request_per_year(ib_gateway, fault_settings):
    sessions = [session_for(d) for d in ("2024-01-02", "2024-03-15", "2024-12-31", "2025-06-02")]
    started = time.monotonic()
    with IBFetcher(fault_settings) as fetcher:
        results = list(fetcher.sessions(SPY, BarSpec.parse("1-DAY-LAST"), sessions))
    assert [r.session for r in results] == sessions
    assert all(len(r.bars) == 1 for r in results)
    # this test's connection only (the one that asked for the year): the gateway is shared by the worker's
    # tests, and a run stopped by an earlier test may still be asking for its bars for a few seconds
    daily = [
        r
        for r in ib_gateway.requests.historical_requests()
        if r.received_monotonic >= started and r.bar_size == "1 day"
    ]
    connection = next(r.connection_id for r in daily if r.duration == "1 Y")
    durations = [r.duration for r in daily if r.connection_id == connection]
    assert durations == ["1 Y", "1 D"]  # 2024 in one request; 2025-06-02 alone is a "1 D"


# -- through Dagster -------------------------------------------------------------------------------


@pytest.fixture
def fault_resource(fault_settings):
    from ntrader_pipeline.defs.resources import IBGatewayResource

    return IBGatewayResource(**fault_settings.model_dump())


def test_empty_partition_materializes_with_its_reason(ib_gateway, fault_resource, storage):
    ib_gateway.faults.script("SPY", Fault(no_data=True), session=SESSION.date)
    result = materialize(
        dg.AssetSelection.assets(MINUTE_BARS) | dg.AssetSelection.checks_for_assets(MINUTE_BARS),
        fault_resource,
        storage,
        partition_key="2024-01-04|SPY.ARCA",
    )
    assert result.success
    metadata = result.asset_materializations_for_node("bars_1_minute")[0].metadata
    assert (metadata["session"].value, metadata["bars"].value, metadata["flagged_sessions"].value) == (
        "2024-01-04", 0, 1,
    )  # fmt: skip
    row = flagged_rows(metadata)["2024-01-04"]
    assert (row["status"], row["bars"]) == ("empty", "0")
    assert "HMDS query returned no data" in row["note"]
    store = storage.catalog_store()
    assert not store.has_session(SPY_MINUTE_TYPE, SESSION)
    assert "HMDS query returned no data" in store.empty_reason(SPY_MINUTE_TYPE, SESSION)
    # a later refetch with data replaces the empty record
    ib_gateway.faults.clear()
    again = materialize(
        dg.AssetSelection.assets(MINUTE_BARS), fault_resource, storage, partition_key="2024-01-04|SPY.ARCA"
    )
    assert again.success
    assert store.empty_reason(SPY_MINUTE_TYPE, SESSION) is None
    assert len(store.read_session_bars(SPY_MINUTE_TYPE, SESSION)) == 390


def test_failed_partition_names_instrument_session_attempts_and_ib_error(ib_gateway, fault_resource, storage):
    ib_gateway.faults.script("SPY", Fault(pacing=True), session=SESSION.date)
    ib_gateway.faults.script("SPY", Fault(drop=True, times=1), session=session_for("2024-01-05").date)
    result = materialize(
        dg.AssetSelection.assets(MINUTE_BARS),
        fault_resource,
        storage,
        partition_range=("2024-01-04|SPY.ARCA", "2024-01-05|SPY.ARCA"),
    )
    assert not result.success
    message = result.failure_data_for_node("bars_1_minute").error.message
    assert "SPY.ARCA 1-MINUTE-LAST session 2024-01-04" in message
    assert f"after {ATTEMPTS} attempts" in message
    assert "pacing violation" in message
    store = storage.catalog_store()
    assert not store.has_session(SPY_MINUTE_TYPE, SESSION)
    assert store.empty_reason(SPY_MINUTE_TYPE, SESSION) is None
    stored = store.read_session_bars(SPY_MINUTE_TYPE, session_for("2024-01-05"))  # retried after the drop
    assert len(stored) == 390 and len({b.ts_init for b in stored}) == 390
    assert not list((store.path / ".staging").iterdir())


def test_gateway_gone_mid_run_fails_the_session_after_its_attempts(fault_settings):
    from ntrader_pipeline.gateway import EmbeddedGateway

    with EmbeddedGateway() as gateway:
        settings = fault_settings.model_copy(update={"port": gateway.port})
        fetcher = IBFetcher(settings)
        assert len(fetcher.session(SPY, MINUTE, SESSION).bars) == 390
        gateway.stop()
        started = time.monotonic()
        with pytest.raises(SessionFetchFailedError) as error:
            fetcher.session(SPY, MINUTE, session_for("2024-01-05"))
        fetcher.close()
    assert time.monotonic() - started < _bound_s(settings)
    message = str(error.value)
    assert "SPY.ARCA 1-MINUTE-LAST session 2024-01-05" in message
    assert f"after {ATTEMPTS} attempts" in message
    assert "reconnecting failed: nothing answers at" in message
