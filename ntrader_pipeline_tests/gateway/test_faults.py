from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from ntrader_pipeline.gateway import EmbeddedGateway, Fault, GatewayFaults, parse_fault_spec
from ntrader_pipeline.gateway.faults import apply_faults
from ntrader_pipeline.gateway.synthetic import session_bars
from ntrader_pipeline_tests.gateway.conftest import fixed_clock
from ntrader_pipeline_tests.gateway.ib_raw_client import RawIbClient, stock

JAN_4, JAN_5 = dt.date(2024, 1, 4), dt.date(2024, 1, 5)
TWO_SESSIONS_END = "20240105 21:00:00 UTC"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("SPY:short_bars=5", ("SPY", None, Fault(short_bars=5))),
        ("spy@2024-01-05:high_below_low", ("SPY", JAN_5, Fault(high_below_low=True))),
        (
            "QQQ:error=162",
            ("QQQ", None, Fault(error=(162, "Historical Market Data Service error message:Historical data "
                                       "request pacing violation"))),
        ),
        (
            "IWM:short_bars=1,error=162:HMDS query returned no data: IWM@SMART Trades",
            ("IWM", None, Fault(short_bars=1, error=(162, "HMDS query returned no data: IWM@SMART Trades"))),
        ),
    ],
)  # fmt: skip
def test_parse_fault_spec(spec: str, expected: tuple[str, dt.date | None, Fault]) -> None:
    assert parse_fault_spec(spec) == expected


@pytest.mark.parametrize("spec", ["SPY", "SPY:", "SPY:bogus=1", "SPY@5 Jan:short_bars=1", "SPY:error=abc"])
def test_bad_fault_specs_say_what_is_wrong(spec: str) -> None:
    with pytest.raises(ValueError, match="fault"):
        parse_fault_spec(spec)


def two_sessions() -> list:
    return session_bars("SPY", JAN_4, 60).rows() + session_bars("SPY", JAN_5, 60).rows()


def test_apply_faults_symbol_wide_and_dated() -> None:
    bars = two_sessions()
    assert apply_faults(GatewayFaults({"SPY": Fault(short_bars=5)}), "SPY", bars).bars == bars[:-5]
    dated = apply_faults(GatewayFaults({("SPY", JAN_4): Fault(short_bars=2)}), "SPY", bars).bars
    assert dated == bars[:388] + bars[390:]
    assert apply_faults(GatewayFaults({"QQQ": Fault(short_bars=5)}), "SPY", bars).bars == bars
    corrupt = apply_faults(GatewayFaults({("SPY", JAN_5): Fault(high_below_low=True)}), "SPY", bars).bars
    broken = [i for i, b in enumerate(corrupt) if b.high < b.low]
    assert len(broken) == 1 and corrupt[broken[0]].session_date == JAN_5
    # a dated error only fires when the response contains that session
    error = apply_faults(GatewayFaults({("SPY", dt.date(2024, 2, 1)): Fault(error=(162, "x"))}), "SPY", bars)
    assert error.error is None


@pytest.fixture
def faulty_gateway() -> Iterator[EmbeddedGateway]:
    faults = GatewayFaults.from_specs(
        [
            "SPY:short_bars=5",
            "QQQ:error=162:Historical Market Data Service error message:"
            "HMDS query returned no data: QQQ@SMART Trades",
            "IWM@2024-01-05:high_below_low",
        ]
    )
    with EmbeddedGateway(faults=faults, clock=fixed_clock) as running:
        yield running


def test_faults_over_the_wire(faulty_gateway: EmbeddedGateway) -> None:
    with RawIbClient(faulty_gateway.host, faulty_gateway.port) as raw:
        raw.start_api()
        wrapper = raw.historical_data(1, stock("SPY", "ARCA"), TWO_SESSIONS_END, "1 D", "1 min")
        assert len(wrapper.bars[1]) == 385
        wrapper = raw.historical_data(2, stock("QQQ", "NASDAQ"), TWO_SESSIONS_END, "1 D", "1 min")
        [error] = wrapper.errors_for(2)
        assert (error.code, error.text.endswith("HMDS query returned no data: QQQ@SMART Trades")) == (
            162,
            True,
        )
        wrapper = raw.historical_data(3, stock("IWM", "ARCA"), TWO_SESSIONS_END, "2 D", "1 min")
        bars = wrapper.bars[3]
        assert len(bars) == 780
        assert [b.date for b in bars if b.high < b.low] == [bars[390 + 195].date]


def test_faults_can_change_while_running(faulty_gateway: EmbeddedGateway) -> None:
    faulty_gateway.faults.clear("SPY")
    faulty_gateway.faults.set("AAPL", Fault(short_bars=390))
    with RawIbClient(faulty_gateway.host, faulty_gateway.port) as raw:
        raw.start_api()
        assert len(raw.historical_data(1, stock("SPY"), TWO_SESSIONS_END, "1 D", "1 min").bars[1]) == 390
        wrapper = raw.historical_data(2, stock("AAPL", "NASDAQ"), TWO_SESSIONS_END, "1 D", "1 min")
        assert wrapper.bars.get(2, []) == [] and 2 in wrapper.history_ended
