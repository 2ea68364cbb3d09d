"""The gateway over a real socket, decoded by ibapi's own Decoder at server versions that straddle every
layout change the gateway implements (110/121/122/124/126/134/152/163/164/166/182/186/194/196/197), up to
the newest it speaks (200, the last before ibapi's protobuf framing)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest

from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.gateway.messages import MAX_SUPPORTED_VERSION
from ntrader_pipeline.gateway.synthetic import DAY, session_bars
from ntrader_pipeline_tests.gateway.conftest import FIXED_NOW, fixed_clock
from ntrader_pipeline_tests.gateway.ib_raw_client import RawIbClient, stock

VERSIONS = [100, 121, 123, 124, 151, 163, 164, 166, 176, 182, 186, 187, 193, 194, 195, 196, 197, 200]
ERROR_TIME = 194  # ibapi's MIN_SERVER_VER_ERROR_TIME: no version field, the error's time (ms) last
HISTORICAL_DATA_END = 196  # MIN_SERVER_VER_HISTORICAL_DATA_END: start/end move to a message of their own
CURRENT_TIME_IN_MILLIS = 197
SESSION_END = "20240105 21:00:00 UTC"


def utc(epoch: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC)


@pytest.fixture(scope="module", params=VERSIONS, ids=[f"v{v}" for v in VERSIONS])
def versioned_gateway(request: pytest.FixtureRequest) -> Iterator[EmbeddedGateway]:
    with EmbeddedGateway(server_version=request.param, clock=fixed_clock) as running:
        yield running


@pytest.fixture
def client(versioned_gateway: EmbeddedGateway) -> Iterator[RawIbClient]:
    with RawIbClient(versioned_gateway.host, versioned_gateway.port) as raw:
        raw.start_api()
        yield raw


def test_handshake_and_start_api(versioned_gateway: EmbeddedGateway) -> None:
    with RawIbClient(versioned_gateway.host, versioned_gateway.port) as raw:
        assert raw.server_version == versioned_gateway.server_version
        assert len(raw.handshake_fields) == 2
        assert re.fullmatch(r"\d{8} \d{2}:\d{2}:\d{2} UTC", raw.connection_time)
        wrapper = raw.start_api()
        assert len(raw.raw_messages) == 5  # accounts, next id, three farm notices; nothing undecodable
    assert wrapper.accounts == ["DU1234567"]
    assert wrapper.next_valid_ids == [1]
    assert [(e.req_id, e.code) for e in wrapper.errors] == [(-1, 2104), (-1, 2106), (-1, 2158)]


def test_contract_details_for_an_etf(client: RawIbClient) -> None:
    wrapper = client.contract_details(11, stock("SPY", "ARCA"))
    [details] = wrapper.contract_details[11]
    assert 11 in wrapper.contract_details_ended
    contract = details.contract
    assert (contract.symbol, contract.secType, contract.localSymbol) == ("SPY", "STK", "SPY")
    assert (contract.exchange, contract.primaryExchange, contract.currency) == ("SMART", "ARCA", "USD")
    assert contract.conId == 756733
    assert [(t.tag, t.value) for t in details.secIdList] == [("ISIN", "US78462F1030")]
    assert details.minTick == 0.01
    assert details.longName == "SPDR S&P 500 ETF TRUST"
    assert details.timeZoneId == "US/Eastern"
    # the fixed clock says Friday 2025-01-10: a normal session, then a weekend
    assert details.liquidHours.startswith("20250110:0930-20250110:1600;20250111:CLOSED;20250112:CLOSED;")
    assert details.tradingHours.startswith("20250110:0400-20250110:2000;20250111:CLOSED;")
    assert len(details.tradingHours.split(";")) == 7
    if client.server_version >= 152:
        assert details.stockType == "ETF"


def test_contract_details_by_local_symbol_as_nautilus_sends_for_instrument_ids(client: RawIbClient) -> None:
    contract = stock("", "NASDAQ")
    contract.localSymbol = "QQQ"
    wrapper = client.contract_details(12, contract)
    [details] = wrapper.contract_details[12]
    assert details.contract.primaryExchange == "NASDAQ"
    assert details.secIdList[0].value == "US46090E1038"


def test_unknown_symbol_is_error_200(client: RawIbClient) -> None:
    wrapper = client.contract_details(13, stock("NOPE", "ARCA"))
    [error] = wrapper.errors_for(13)
    assert error.code == 200
    assert error.text == "No security definition has been found for the request"
    assert 13 not in wrapper.contract_details


def test_wrong_primary_exchange_is_error_200(client: RawIbClient) -> None:
    wrapper = client.historical_data(14, stock("SPY", "NASDAQ"), SESSION_END, "1 D", "1 min")
    assert [e.code for e in wrapper.errors_for(14)] == [200]


def test_one_session_of_minute_bars(client: RawIbClient) -> None:
    wrapper = client.historical_data(21, stock("SPY", "ARCA"), SESSION_END, "1 D", "1 min")
    bars = wrapper.bars[21]
    assert 21 in wrapper.history_ended
    assert len(bars) == 390
    assert utc(bars[0].date) == dt.datetime(2024, 1, 5, 14, 30, tzinfo=dt.UTC)
    assert utc(bars[-1].date) == dt.datetime(2024, 1, 5, 20, 59, tzinfo=dt.UTC)
    for bar in bars:
        assert 0 < bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.volume > 0 and bar.barCount > 0
        assert Decimal(str(bar.low)) <= bar.wap <= Decimal(str(bar.high))
    expected = session_bars("SPY", dt.date(2024, 1, 5), 60)
    assert [b.close for b in bars] == expected.close.tolist()


def test_midpoint_bars_have_no_volume(client: RawIbClient) -> None:
    wrapper = client.historical_data(
        22, stock("SPY", "ARCA"), SESSION_END, "3600 S", "5 mins", what_to_show="MIDPOINT"
    )
    bars = wrapper.bars[22]
    assert len(bars) == 12
    assert all(b.volume == -1 and b.wap == -1 and b.barCount == -1 for b in bars)
    assert all(b.low <= b.high for b in bars)


@pytest.mark.parametrize(
    ("end", "expected"),
    [("20240703 17:00:00 UTC", 210), ("20241129 13:00:00 US/Eastern", 210), ("20241127-21:00:00", 390)],
)
def test_half_days_have_210_minute_bars(client: RawIbClient, end: str, expected: int) -> None:
    wrapper = client.historical_data(23, stock("IWM", "ARCA"), end, "1 D", "1 min")
    assert len(wrapper.bars[23]) == expected


def test_no_bars_on_a_holiday(client: RawIbClient) -> None:
    # the whole of MLK day 2024-01-15 in exchange time
    wrapper = client.historical_data(
        24, stock("SPY", "ARCA"), "20240116 00:00:00 US/Eastern", "86400 S", "1 min"
    )
    assert wrapper.bars.get(24, []) == []
    assert 24 in wrapper.history_ended
    # two sessions back from the 16th skips the holiday and the weekend
    wrapper = client.historical_data(25, stock("SPY", "ARCA"), "20240116 21:00:00 UTC", "2 D", "1 min")
    days = sorted({utc(b.date).date() for b in wrapper.bars[25]})
    assert days == [dt.date(2024, 1, 12), dt.date(2024, 1, 16)]
    assert len(wrapper.bars[25]) == 780


def test_daily_bars_are_dated_by_session_and_equal_the_synthetic_aggregate(client: RawIbClient) -> None:
    wrapper = client.historical_data(
        26, stock("QQQ", "NASDAQ"), "20240105 16:00:00 US/Eastern", "1 W", "1 day"
    )
    bars = wrapper.bars[26]
    assert [b.date for b in bars] == ["20240102", "20240103", "20240104", "20240105"]
    last = session_bars("QQQ", dt.date(2024, 1, 5), DAY).rows()[0]
    assert (bars[-1].open, bars[-1].high, bars[-1].low, bars[-1].close) == (
        last.open,
        last.high,
        last.low,
        last.close,
    )
    assert bars[-1].volume == last.volume


def test_hourly_bars_are_ib_aligned(client: RawIbClient) -> None:
    wrapper = client.historical_data(27, stock("SPY", "ARCA"), SESSION_END, "1 D", "1 hour")
    starts = [utc(b.date).strftime("%H:%M") for b in wrapper.bars[27]]
    assert starts == ["14:30", "15:00", "16:00", "17:00", "18:00", "19:00", "20:00"]


def test_format_date_1_gives_exchange_local_time(client: RawIbClient) -> None:
    wrapper = client.historical_data(28, stock("SPY", "ARCA"), SESSION_END, "1 D", "1 hour", format_date=1)
    assert wrapper.bars[28][0].date == "20240105  09:30:00"
    assert wrapper.bars[28][-1].date == "20240105  15:00:00"


@pytest.mark.parametrize(
    ("duration", "bar_size", "end", "what_to_show", "mentions"),
    [
        ("1 D", "2 mins", SESSION_END, "TRADES", "bar size"),
        ("1 X", "1 min", SESSION_END, "TRADES", "duration"),
        ("1 W", "1 min", SESSION_END, "TRADES", "at least 3 minutes"),
        ("1 Y", "1 hour", SESSION_END, "TRADES", "at least"),
        ("1 D", "1 min", "2024-01-05", "TRADES", "end date"),
        ("1 D", "1 min", SESSION_END, "BID_ASK", "whatToShow"),
    ],
)
def test_invalid_requests_get_error_321(
    client: RawIbClient, duration: str, bar_size: str, end: str, what_to_show: str, mentions: str
) -> None:
    wrapper = client.historical_data(
        29, stock("SPY", "ARCA"), end, duration, bar_size, what_to_show=what_to_show
    )
    [error] = wrapper.errors_for(29)
    assert error.code == 321
    assert mentions in error.text
    assert 29 not in wrapper.bars


def test_the_newest_version_is_among_those_decoded() -> None:
    assert MAX_SUPPORTED_VERSION in VERSIONS and MAX_SUPPORTED_VERSION == 200


def test_history_ends_with_the_queried_window_in_its_own_message_from_196(client: RawIbClient) -> None:
    wrapper = client.historical_data(31, stock("SPY", "ARCA"), SESSION_END, "1 D", "1 min")
    ids = [int(m[0]) for m in client.raw_messages]
    if client.server_version >= HISTORICAL_DATA_END:
        assert ids == [17, 108]
    else:
        assert ids == [17]
    start, end = wrapper.history_ended[31]
    assert utc(end) == dt.datetime(2024, 1, 5, 21, 0, tzinfo=dt.UTC)
    assert utc(start) < utc(end)


def test_errors_carry_their_time_from_194(client: RawIbClient) -> None:
    wrapper = client.contract_details(32, stock("NOPE", "ARCA"))
    [error] = wrapper.errors_for(32)
    expected = round(FIXED_NOW.timestamp() * 1000) if client.server_version >= ERROR_TIME else 0
    assert error.error_time == expected


def test_current_time_in_millis_from_197(client: RawIbClient) -> None:
    if client.server_version < CURRENT_TIME_IN_MILLIS:
        # ibapi itself refuses the request against an older server: nothing reaches the gateway
        client.eclient.reqCurrentTimeInMillis()
        [refused] = [e for e in client.wrapper.errors_for(-1) if "current time in millis" in e.text]
        assert refused.code == 503  # UPDATE_TWS
        assert client.wrapper.current_times_in_millis == []
        return
    client.eclient.reqCurrentTimeInMillis()
    wrapper = client.pump_until(lambda w: bool(w.current_times_in_millis))
    assert wrapper.current_times_in_millis == [round(FIXED_NOW.timestamp() * 1000)]
