"""Concurrent fetching within IB's rules, through the real Nautilus client against the embedded gateway:
at most IB_MAX_OPEN_REQUESTS historical requests open at once (the gateway's request log shows the peak),
instruments and sessions interleaved, a failing instrument failing alone, retries after a 162 intact.

The gateway here lists synthetic stocks and holds each answer back a little (a fixed 0.2 s, no per-bar
cost, no throttle), so requests overlap at the gateway; the figures come from its request log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.gateway import EmbeddedGateway, Fault, MarketReality
from ntrader_pipeline.gateway.latency import AnswerTimeModel
from ntrader_pipeline.gateway.universe import synthetic_stocks
from ntrader_pipeline.ib.fetcher import IBFetcher
from ntrader_pipeline.ingest.run import SessionRecord, SessionStatus, ingest_sessions
from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.markets.universe import InstrumentSpec, Universe
from ntrader_pipeline.settings import IBSettings
from ntrader_pipeline_tests.conftest import cleared, gateway_ib_settings

MINUTE = BarSpec.parse("1-MINUTE-LAST")
STOCKS = synthetic_stocks(6)
DATES = [s.key for s in sessions_between("2024-01-08", "2024-01-12")]  # 5 sessions
HOLD_S = 0.2  # each answer's hold-back: long enough for requests to overlap, short for the suite


@pytest.fixture(scope="module")
def slow_gateway() -> Iterator[EmbeddedGateway]:
    model = AnswerTimeModel(base_s=HOLD_S, per_bar_s=0.0, throttle_free_open=50)
    with EmbeddedGateway(synthetic_stocks=len(STOCKS), answer_time=model) as gateway:
        yield gateway


@pytest.fixture
def gateway(slow_gateway: EmbeddedGateway) -> Iterator[EmbeddedGateway]:
    yield from cleared(slow_gateway)


def _spec(symbol: str, exchange: str) -> InstrumentSpec:
    return InstrumentSpec(symbol=symbol, primary_exchange=exchange)


def _universe(*specs: InstrumentSpec) -> Universe:
    return Universe(instruments=specs, bar_specs=(MINUTE,))


def _ingest(
    gateway: EmbeddedGateway, universe: Universe, tmp_path: Path, max_open: int, **settings: object
) -> list[SessionRecord]:
    ib = gateway_ib_settings(gateway).model_copy(update={"max_open_requests": max_open, **settings})
    requested = {i.instrument_id: DATES for i in universe.instruments}
    store = CatalogStore(tmp_path / "catalog")
    return list(ingest_sessions(universe, MINUTE, requested, store, lambda: IBFetcher(ib)))


def test_max_open_requests_are_respected_and_filled(gateway, tmp_path):
    universe = _universe(*(_spec(s.symbol, s.primary_exchange) for s in STOCKS))
    records = _ingest(gateway, universe, tmp_path, max_open=3)
    assert len(records) == len(STOCKS) * len(DATES)
    assert {r.status for r in records} == {SessionStatus.WRITTEN}
    assert all(r.bars == 390 for r in records)
    assert gateway.requests.peak_open_historical() == 3  # never more, and the pool kept 3 busy
    assert len(gateway.requests.historical_requests()) == len(STOCKS) * len(DATES)  # one per session


def test_one_request_at_a_time_when_the_setting_is_1(gateway, tmp_path):
    universe = _universe(*(_spec(s.symbol, s.primary_exchange) for s in STOCKS[:2]))
    records = _ingest(gateway, universe, tmp_path, max_open=1)
    assert [r.status for r in records] == [SessionStatus.WRITTEN] * 10
    assert gateway.requests.peak_open_historical() == 1


def test_instruments_and_sessions_interleave(gateway, tmp_path):
    """Instruments take turns: each instrument's first request comes before any instrument's last, so no
    instrument is fetched to its end before another starts."""
    stocks = STOCKS[:3]
    universe = _universe(*(_spec(s.symbol, s.primary_exchange) for s in stocks))
    _ingest(gateway, universe, tmp_path, max_open=2)
    asked = [r.symbol for r in gateway.requests.historical_requests()]
    assert sorted(asked) == sorted(s.symbol for s in stocks for _ in DATES)
    first = {symbol: asked.index(symbol) for symbol in set(asked)}
    last = {symbol: len(asked) - 1 - asked[::-1].index(symbol) for symbol in set(asked)}
    assert max(first.values()) < min(last.values())
    assert set(asked[: len(stocks)]) == {s.symbol for s in stocks}  # each instrument's first request first


def test_a_failing_instrument_does_not_stop_the_others(gateway, tmp_path):
    """An unknown contract (200) and a missing permission fail their own sessions, by name, after one
    request each; the other instruments' sessions are all written."""
    gateway.realities.set("SPY", MarketReality(permission="no_permissions"))
    good = [_spec(s.symbol, s.primary_exchange) for s in STOCKS[:2]]
    universe = _universe(_spec("ZZZZ", "NYSE"), _spec("SPY", "ARCA"), *good)
    records = _ingest(gateway, universe, tmp_path, max_open=4)
    by_instrument: dict[str, list[SessionRecord]] = {}
    for record in records:
        by_instrument.setdefault(record.instrument_id, []).append(record)
    assert sorted(r.date for r in by_instrument["ZZZZ.NYSE"]) == DATES
    assert all(r.status is SessionStatus.FAILED for r in by_instrument["ZZZZ.NYSE"])
    assert "IB has no contract for instrument ZZZZ.NYSE" in (by_instrument["ZZZZ.NYSE"][0].detail or "")
    assert all(r.status is SessionStatus.FAILED for r in by_instrument["SPY.ARCA"])
    assert "SPY.ARCA TRADES" in (by_instrument["SPY.ARCA"][0].detail or "")
    assert "Retrying cannot help" in (by_instrument["SPY.ARCA"][0].detail or "")
    for spec in good:
        assert [r.status for r in by_instrument[spec.instrument_id]] == [SessionStatus.WRITTEN] * 5
    asked = gateway.requests.historical_requests()
    assert not [r for r in asked if r.symbol in ("SPY", "ZZZZ")]  # refused before any bar request


def test_a_refused_contract_costs_one_bar_request(gateway, tmp_path):
    """With its head timestamp stored, a contract without permissions gets its first bar request alone
    (refused: 162), and none of its other sessions is asked, while the others run concurrently."""
    store = CatalogStore(tmp_path / "catalog")
    store.write_head_timestamp("SPY.ARCA", "TRADES", dt.datetime(2000, 1, 3, 14, 30, tzinfo=dt.UTC))
    gateway.realities.set("SPY", MarketReality(permission="no_permissions"))
    other = _spec(STOCKS[0].symbol, STOCKS[0].primary_exchange)
    records = _ingest(gateway, _universe(_spec("SPY", "ARCA"), other), tmp_path, max_open=8)
    spy = [r for r in records if r.instrument_id == "SPY.ARCA"]
    assert len(spy) == 5 and all(r.status is SessionStatus.FAILED for r in spy)
    assert all("error 162" in (r.detail or "") for r in spy)
    assert [r.error_code for r in gateway.requests.historical_requests() if r.symbol == "SPY"] == [162]
    assert [r.status for r in records if r.instrument_id == other.instrument_id] == [
        SessionStatus.WRITTEN
    ] * 5


def test_retries_after_a_pacing_violation_work_under_concurrency(gateway, tmp_path):
    """Two sessions of two instruments get a 162 pacing violation once; they are retried (backing off)
    while the other requests run, and every session is written once, the two on their second attempt."""
    first, second = STOCKS[0], STOCKS[1]
    gateway.faults.script(first.symbol, Fault(pacing=True, times=1), session=dt.date.fromisoformat(DATES[2]))
    gateway.faults.script(second.symbol, Fault(pacing=True, times=1), session=dt.date.fromisoformat(DATES[4]))
    universe = _universe(*(_spec(s.symbol, s.primary_exchange) for s in STOCKS[:4]))
    records = _ingest(gateway, universe, tmp_path, max_open=4, backoff_base_s=0.05, backoff_cap_s=0.1)
    assert {r.status for r in records} == {SessionStatus.WRITTEN} and len(records) == 20
    retried = {(r.instrument_id, r.date): r.attempts for r in records if r.attempts > 1}
    assert retried == {
        (f"{first.symbol}.{first.primary_exchange}", DATES[2]): 2,
        (f"{second.symbol}.{second.primary_exchange}", DATES[4]): 2,
    }
    outcomes = [r.outcome for r in gateway.requests.historical_requests()]
    assert outcomes.count("error 162") == 2 and outcomes.count("bars 390") == 20


def test_more_than_ibs_50_open_requests_is_refused_with_a_clear_message():
    assert IBSettings(max_open_requests=50).max_open_requests == 50
    with pytest.raises(ValidationError) as refused:
        IBSettings(max_open_requests=51)
    message = str(refused.value)
    assert "51 historical requests in flight is more than IB allows (50 open historical requests" in message
    assert "use 1 to 50" in message


def test_ib_max_open_requests_51_in_the_environment_names_the_variable(monkeypatch):
    from ntrader_pipeline.settings import SettingsError, load_settings

    monkeypatch.setenv("IB_MAX_OPEN_REQUESTS", "51")
    with pytest.raises(SettingsError, match=r"IB_MAX_OPEN_REQUESTS='51' is invalid: 51 historical requests"):
        load_settings(env_file=None)
    monkeypatch.setenv("IB_MAX_OPEN_REQUESTS", "12")
    assert load_settings(env_file=None).ib.max_open_requests == 12


def test_closing_the_records_early_starts_no_more_requests(gateway, tmp_path):
    """The Dagster step's watchdog closes the record stream: the run's connection closes, the requests in
    flight wind down and nothing more is asked of IB."""
    universe = _universe(*(_spec(s.symbol, s.primary_exchange) for s in STOCKS))
    ib = gateway_ib_settings(gateway).model_copy(update={"max_open_requests": 3})
    requested = {i.instrument_id: DATES for i in universe.instruments}
    records = ingest_sessions(
        universe, MINUTE, requested, CatalogStore(tmp_path / "catalog"), lambda: IBFetcher(ib)
    )
    taken = [next(records) for _ in range(4)]
    records.close()
    asked = len(gateway.requests.historical_requests())
    assert all(r.status is SessionStatus.WRITTEN for r in taken)
    assert asked <= len(taken) + 3  # the ones answered, and at most the 3 then in flight
    assert asked < len(STOCKS) * len(DATES)


def test_a_session_that_drops_the_connection_fails_alone(gateway, tmp_path):
    """A request the gateway answers by dropping the connection takes the requests in flight beside it
    down too; their retries run alone, so only the session that drops it fails, by name, and the others
    of the range are written."""
    stock = STOCKS[0]
    gateway.faults.set(stock.symbol, Fault(drop=True), session=dt.date.fromisoformat(DATES[1]))
    records = _ingest(gateway, _universe(_spec(stock.symbol, stock.primary_exchange)), tmp_path, max_open=4)
    status = {r.date: r.status for r in records}
    assert status == {d: SessionStatus.FAILED if d == DATES[1] else SessionStatus.WRITTEN for d in DATES}
    (failed,) = [r for r in records if r.status is SessionStatus.FAILED]
    assert f"session {DATES[1]}: not stored after 3 attempts" in (failed.detail or "")
    assert max(r.attempts for r in records if r.status is SessionStatus.WRITTEN) > 1, "they were in flight"
