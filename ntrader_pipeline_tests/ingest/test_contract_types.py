"""Each IB contract type end to end: the real Nautilus client against the embedded gateway, into a tmp
catalog, checked with the session quality rules on the instrument's own calendar."""

import datetime as dt

import pytest

from ntrader_pipeline.catalog.frames import bars_to_frame
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.gateway.synthetic import adjustment_factor
from ntrader_pipeline.ib.client import IBConnection
from ntrader_pipeline.ingest.errors import ContractNotFoundError
from ntrader_pipeline.markets.universe import BarSpec, InstrumentSpec
from ntrader_pipeline_tests.ingest.session_fetch import fetch_session_bars
from ntrader_pipeline_tests.quality.session_checks import check_session

MINUTE = BarSpec.parse("1-MINUTE-LAST")
DAY = BarSpec.parse("1-DAY-LAST")
EURUSD = InstrumentSpec(symbol="EUR", sec_type="CASH", exchange="IDEALPRO")
ESH4 = InstrumentSpec(
    symbol="ES", sec_type="FUT", exchange="CME", last_trade_date_or_contract_month="202403", multiplier="50"
)
ES_CONT = InstrumentSpec(symbol="ES", sec_type="CONTFUT", exchange="CME")
SPY = InstrumentSpec(symbol="SPY", primary_exchange="ARCA")
SPY_ADJ = InstrumentSpec(symbol="SPY", primary_exchange="ARCA", adjusted=True)


def _store_and_check(store: CatalogStore, spec: InstrumentSpec, bar_spec: BarSpec, session, bars) -> None:
    """Write like the bars asset does, read back, and pass every quality rule on the session's window."""
    path = store.write_session_bars(bars[0].bar_type, session, bars)
    assert path.exists()
    stored = store.read_session_bars(spec.bar_type(bar_spec), session)
    assert len(stored) == len(bars)
    quality = check_session(bars_to_frame(stored), spec.bar_type(bar_spec), session, bar_spec)
    assert quality.passed, quality.describe()


def test_fx_pair_is_a_midpoint_series_on_24x5_sessions(ib_settings, tmp_path):
    store = CatalogStore(tmp_path / "catalog")
    monday = EURUSD.calendar.session("2024-01-15")  # MLK day: NYSE is shut, FX trades
    friday = EURUSD.calendar.session("2024-01-12")
    with IBConnection(ib_settings) as connection:
        instrument = connection.fetch_instrument(EURUSD)
        minutes = fetch_session_bars(connection, EURUSD, MINUTE, monday)
        daily = fetch_session_bars(connection, EURUSD, DAY, friday)
    assert instrument.id.value == "EUR/USD.IDEALPRO" == EURUSD.instrument_id
    assert type(instrument).__name__ == "CurrencyPair" and instrument.price_precision == 5
    assert len(minutes) == 1440 and len(daily) == 1
    assert str(minutes[0].bar_type) == "EUR/USD.IDEALPRO-1-MINUTE-MID-EXTERNAL"
    frame = bars_to_frame(minutes)
    # Monday's session opens Sunday 17:00 New York (22:00 UTC in winter) and closes Monday 17:00
    assert frame["ts_event"][0] == dt.datetime(2024, 1, 14, 22, 0, tzinfo=dt.UTC)
    assert frame["ts_init"][-1] == dt.datetime(2024, 1, 15, 22, 0, tzinfo=dt.UTC)
    assert frame["close"].round(5).to_list() == frame["close"].to_list() and frame["close"][0] < 2
    assert daily[0].ts_event == int(dt.datetime(2024, 1, 12, tzinfo=dt.UTC).timestamp() * 1e9)
    store.write_instrument(instrument)
    _store_and_check(store, EURUSD, MINUTE, monday, minutes)
    _store_and_check(store, EURUSD, DAY, friday, daily)
    # consecutive FX sessions share no bars: Monday's rows (from Sunday evening) are not Friday's, though
    # both sessions' UTC bounds fall in the same month file
    minute_type = EURUSD.bar_type(MINUTE)
    assert store.month_file(minute_type, friday) == store.month_file(minute_type, monday)
    assert not store.has_session(minute_type, friday)
    assert store.read_session_bars(minute_type, friday) == []


def test_dated_future_on_the_cme_calendar(ib_settings, tmp_path):
    store = CatalogStore(tmp_path / "catalog")
    regular = ESH4.calendar.session("2024-01-16")
    mlk = ESH4.calendar.session("2024-01-15")  # CME's early close at 12:00 Chicago
    with IBConnection(ib_settings) as connection:
        instrument = connection.fetch_instrument(ESH4)
        minutes = fetch_session_bars(connection, ESH4, MINUTE, regular)
        short = fetch_session_bars(connection, ESH4, MINUTE, mlk)
        daily = fetch_session_bars(connection, ESH4, DAY, regular)
    assert instrument.id.value == "ESH4.CME" == ESH4.instrument_id
    assert type(instrument).__name__ == "FuturesContract"
    assert str(instrument.multiplier) == "50" and instrument.expiration_ns > 0
    assert len(minutes) == 1380 and len(short) == 19 * 60 and len(daily) == 1
    frame = bars_to_frame(minutes)
    assert frame["ts_event"][0] == dt.datetime(2024, 1, 15, 23, 0, tzinfo=dt.UTC)  # 17:00 Chicago
    assert frame["ts_init"][-1] == dt.datetime(2024, 1, 16, 22, 0, tzinfo=dt.UTC)  # 16:00 Chicago
    assert all(round(p * 4) == p * 4 for p in frame["close"].to_list())  # on ES's 0.25 tick
    store.write_instrument(instrument)
    _store_and_check(store, ESH4, MINUTE, regular, minutes)
    _store_and_check(store, ESH4, MINUTE, mlk, short)
    _store_and_check(store, ESH4, DAY, regular, daily)


def test_continuous_future_daily_history_and_refused_old_minutes(ib_gateway, ib_settings, tmp_path):
    store = CatalogStore(tmp_path / "catalog")
    session = ES_CONT.calendar.session("2024-01-16")
    # reaching 2024 from now takes hundreds of synthetic sessions the first time: a longer bound
    with IBConnection(ib_settings.model_copy(update={"request_timeout_s": 60.0})) as connection:
        instrument = connection.fetch_instrument(ES_CONT)
        daily = fetch_session_bars(connection, ES_CONT, DAY, session)
        received, errors = connection.fetch_bars(ES_CONT, MINUTE, session.close.replace(tzinfo=None), "1 D")
    assert instrument.id.value == "ES.CME" == ES_CONT.instrument_id
    assert len(daily) == 1 and str(daily[0].bar_type) == "ES.CME-1-DAY-LAST-EXTERNAL"
    # CONTFUT requests carry an empty end (IB's rule; Nautilus sends it): the session is reached from now
    requests = [r for r in ib_gateway.requests.historical_requests() if r.sec_type == "CONTFUT"]
    assert [r.end_date_time for r in requests] == [""]
    assert requests[0].duration.endswith(" D") and int(requests[0].duration.split()[0]) > 100
    assert received == [] and "add the dated contract" in errors[0].text
    store.write_instrument(instrument)
    _store_and_check(store, ES_CONT, DAY, session, daily)


def test_adjusted_daily_bars_are_their_own_series(ib_gateway, ib_settings, tmp_path):
    store = CatalogStore(tmp_path / "catalog")
    session = SPY.calendar.session("2024-01-16")
    with IBConnection(ib_settings.model_copy(update={"request_timeout_s": 60.0})) as connection:
        instrument = connection.fetch_instrument(SPY_ADJ)
        adjusted = fetch_session_bars(connection, SPY_ADJ, DAY, session)
        plain = fetch_session_bars(connection, SPY, DAY, session)
    assert instrument.id.value == "SPY-ADJ.ARCA" == SPY_ADJ.instrument_id
    assert str(adjusted[0].bar_type) == "SPY-ADJ.ARCA-1-DAY-LAST-EXTERNAL"
    factor = adjustment_factor(session.date)
    assert 0.8 < factor < 1
    assert adjusted[0].close.as_double() == pytest.approx(plain[0].close.as_double() * factor, abs=0.006)
    assert adjusted[0].volume == plain[0].volume
    adjusted_requests = [
        r for r in ib_gateway.requests.historical_requests() if r.what_to_show == "ADJUSTED_LAST"
    ]
    assert [r.end_date_time for r in adjusted_requests] == [""]
    store.write_instrument(instrument)
    _store_and_check(store, SPY_ADJ, DAY, session, adjusted)
    _store_and_check(store, SPY, DAY, session, plain)
    assert store.instrument("SPY-ADJ.ARCA") is not None
    assert store.bar_directory(SPY_ADJ.bar_type(DAY)) != store.bar_directory(SPY.bar_type(DAY))


@pytest.mark.parametrize(
    "spec",
    [
        InstrumentSpec(symbol="XYZ", sec_type="CASH", exchange="IDEALPRO"),
        InstrumentSpec(
            symbol="ES", sec_type="FUT", exchange="CME", last_trade_date_or_contract_month="202409"
        ),
        InstrumentSpec(symbol="NQ", sec_type="CONTFUT", exchange="CME"),
    ],
    ids=["fx", "fut", "contfut"],
)
def test_unknown_contract_is_named_at_first_fetch(ib_settings, spec):
    with IBConnection(ib_settings) as connection, pytest.raises(ContractNotFoundError) as error:
        connection.fetch_instrument(spec)
    assert spec.instrument_id in str(error.value) and "200" in str(error.value)


def test_an_adjusted_daily_range_is_one_request_up_to_now(ib_gateway, ib_settings):
    """IB serves ADJUSTED_LAST only up to now; a range of sessions is still one request per year (from now
    back over the year), not one per session."""
    from ntrader_pipeline.ib.fetcher import IBFetcher

    sessions = SPY.calendar.sessions_between("2024-01-02", "2024-03-28")
    with IBFetcher(ib_settings.model_copy(update={"request_timeout_s": 60.0})) as fetcher:
        results = list(fetcher.sessions(SPY_ADJ, DAY, sessions))
    assert [len(r.bars) for r in results] == [1] * len(sessions)
    adjusted = [r for r in ib_gateway.requests.historical_requests() if r.what_to_show == "ADJUSTED_LAST"]
    assert len(adjusted) == 1 and adjusted[0].end_date_time == ""
