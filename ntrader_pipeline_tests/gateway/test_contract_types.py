"""The gateway's contract registry and history windows for FX, futures, CONTFUT and ADJUSTED_LAST."""

import datetime as dt

import pytest

from ntrader_pipeline.gateway.contracts import ContractQuery, find_contract, trading_hours
from ntrader_pipeline.gateway.history import Duration, history_window, select_bars
from ntrader_pipeline.gateway.synthetic import adjusted, adjustment_factor, session_bars
from ntrader_pipeline_tests.gateway.ib_raw_client import RawIbClient, stock

NOW = dt.datetime(2024, 2, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("query", "key"),
    [
        (ContractQuery(symbol="EUR", sec_type="CASH", exchange="IDEALPRO", currency="USD"), "EUR.USD"),
        (ContractQuery(symbol="ES", sec_type="FUT", last_trade_date_or_contract_month="202403"),
         "ESH4"),
        (ContractQuery(sec_type="FUT", exchange="CME", local_symbol="ESM4"), "ESM4"),
        (ContractQuery(symbol="ES", sec_type="CONTFUT", exchange="CME"), "ES"),
        (ContractQuery(symbol="SPY", exchange="SMART", primary_exchange="ARCA"), "SPY"),
    ],
)  # fmt: skip
def test_contracts_resolve_by_type(query, key):
    contract = find_contract(query)
    assert contract is not None and contract.key == key


@pytest.mark.parametrize(
    "query",
    [
        ContractQuery(symbol="ES", sec_type="FUT", exchange="CME"),  # no expiry: ambiguous, IB says 200
        ContractQuery(
            symbol="ES", sec_type="FUT", exchange="CME", last_trade_date_or_contract_month="202409"
        ),
        ContractQuery(symbol="EUR", sec_type="CASH", exchange="SMART", currency="USD"),
        ContractQuery(symbol="EUR", sec_type="STK", exchange="SMART"),
        ContractQuery(symbol="ES", sec_type="CONTFUT", exchange="CBOT"),
    ],
)
def test_unknown_or_ambiguous_contracts_are_not_found(query):
    assert find_contract(query) is None


def test_trading_hours_follow_each_calendar():
    fx_hours, fx_liquid = trading_hours(dt.date(2024, 1, 12), "FX24x5")
    assert fx_hours == fx_liquid
    assert fx_hours.split(";")[:3] == ["20240111:1700-20240112:1700", "20240113:CLOSED", "20240114:CLOSED"]
    cme_hours, _ = trading_hours(dt.date(2024, 1, 15), "CME")
    assert cme_hours.split(";")[:2] == ["20240114:1700-20240115:1200", "20240115:1700-20240116:1600"]


def test_one_day_of_fx_is_its_24_hour_session():
    end = dt.datetime(2024, 1, 15, 22, 0, tzinfo=dt.UTC)
    window = history_window(Duration.parse("1 D"), end, NOW, "FX24x5")
    assert [s.date for s in window.sessions] == [dt.date(2024, 1, 15)]
    bars = select_bars("EUR", window, 60)
    assert len(bars) == 1440 and bars[0].start == int(dt.datetime(2024, 1, 14, 22, tzinfo=dt.UTC).timestamp())


def test_adjusted_bars_scale_prices_by_a_deterministic_factor():
    day = dt.date(2024, 1, 16)
    plain = session_bars("SPY", day, 86_400).rows()
    scaled = adjusted(plain)
    factor = adjustment_factor(day)
    # 2024-03-15 (third Friday) is an ex-date: from that session on, one dividend fewer lies ahead
    assert adjustment_factor(dt.date(2024, 3, 14)) == factor
    assert adjustment_factor(dt.date(2024, 3, 15)) == pytest.approx(factor / (1 - 0.00375))
    assert scaled[0].close == round(plain[0].close * factor, 2) and scaled[0].volume == plain[0].volume
    assert adjusted(plain) == scaled


def test_adjusted_last_requires_an_empty_end_and_is_served_without_one(ib_gateway):
    with RawIbClient(ib_gateway.host, ib_gateway.port) as client:
        client.start_api()
        dated = client.historical_data(
            31, stock("SPY", "ARCA"), "20240116 21:00:00 UTC", "1 D", "1 day", what_to_show="ADJUSTED_LAST"
        )
        now = client.historical_data(
            32, stock("SPY", "ARCA"), "", "5 D", "1 day", what_to_show="ADJUSTED_LAST"
        )
    [error] = dated.errors_for(31)
    assert error.code == 321 and "must be empty" in error.text
    assert len(now.bars[32]) == 5 and now.bars[32][0].volume > 0  # adjusted bars keep their volume
