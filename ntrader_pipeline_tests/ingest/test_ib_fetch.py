"""The real Nautilus IB client, through IBConnection, against the embedded gateway."""

import datetime as dt
import socket
import time

import pytest

from ntrader_pipeline.catalog.frames import bars_to_frame
from ntrader_pipeline.gateway import Fault
from ntrader_pipeline.ib.client import IBConnection
from ntrader_pipeline.ingest.errors import (
    ContractNotFoundError,
    GatewayUnavailableError,
    IncompleteSessionError,
)
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.markets.universe import BarSpec, InstrumentSpec
from ntrader_pipeline.settings import IBSettings
from ntrader_pipeline_tests.ingest.session_fetch import fetch_session_bars

SPY = InstrumentSpec(symbol="SPY", primary_exchange="ARCA")
MINUTE = BarSpec.parse("1-MINUTE-LAST")
DAY = BarSpec.parse("1-DAY-LAST")


def test_instrument_and_session_bars(ib_settings):
    with IBConnection(ib_settings) as connection:
        instrument = connection.fetch_instrument(SPY)
        minutes = fetch_session_bars(connection, SPY, MINUTE, session_for("2024-01-03"))
        daily = fetch_session_bars(connection, SPY, DAY, session_for("2024-01-03"))
        half_day = fetch_session_bars(connection, SPY, MINUTE, session_for("2024-07-03"))
    assert instrument.id.value == "SPY.ARCA"
    assert instrument.isin == "US78462F1030"
    assert len(minutes) == 390 and len(half_day) == 210 and len(daily) == 1
    frame = bars_to_frame(minutes)
    assert frame["ts_event"][0] == dt.datetime(2024, 1, 3, 14, 30, tzinfo=dt.UTC)
    assert frame["ts_init"][-1] == dt.datetime(2024, 1, 3, 21, 0, tzinfo=dt.UTC)
    day = daily[0]
    assert day.open.as_double() == frame["open"][0]
    assert day.high.as_double() == frame["high"].max()
    assert day.low.as_double() == frame["low"].min()
    assert day.close.as_double() == frame["close"][-1]
    assert day.volume.as_double() == frame["volume"].sum()


def test_too_few_bars_is_an_incomplete_session(ib_gateway, ib_settings):
    ib_gateway.faults.set("SPY", Fault(short_bars=5))
    with IBConnection(ib_settings) as connection, pytest.raises(IncompleteSessionError) as error:
        fetch_session_bars(connection, SPY, MINUTE, session_for("2024-01-04"))
    message = str(error.value)
    assert "SPY.ARCA 1-MINUTE-LAST session 2024-01-04" in message
    assert "expected 390 bars, received 385" in message


def test_gateway_error_is_named_and_does_not_wait_for_the_timeout(ib_gateway, ib_settings):
    ib_gateway.faults.set("SPY", Fault(error=(162, "HMDS query returned no data: SPY@ARCA Trades")))
    with IBConnection(ib_settings) as connection:
        started = time.monotonic()
        with pytest.raises(IncompleteSessionError, match="IB error 162: HMDS query returned no data"):
            fetch_session_bars(connection, SPY, MINUTE, session_for("2024-01-04"))
        assert time.monotonic() - started < ib_settings.request_timeout_s
        # The connection still serves the next request.
        ib_gateway.faults.clear()
        assert len(fetch_session_bars(connection, SPY, MINUTE, session_for("2024-01-04"))) == 390


def test_unknown_contract_fails_at_once_naming_it(ib_settings):
    unknown = InstrumentSpec(symbol="NOPE", primary_exchange="ARCA")
    with IBConnection(ib_settings) as connection:
        started = time.monotonic()
        with pytest.raises(ContractNotFoundError) as error:
            connection.fetch_instrument(unknown)
        assert time.monotonic() - started < ib_settings.request_timeout_s
        assert len(fetch_session_bars(connection, SPY, DAY, session_for("2024-01-05"))) == 1
    assert "NOPE.ARCA" in str(error.value)
    assert "IB error 200: No security definition" in str(error.value)


def test_no_gateway_is_reported_within_the_connect_bound():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    settings = IBSettings(host="127.0.0.1", port=free_port, connect_timeout_s=2)
    started = time.monotonic()
    with pytest.raises(GatewayUnavailableError, match=f"nothing answers at 127.0.0.1:{free_port}"):
        IBConnection(settings).connect()
    assert time.monotonic() - started < 10


def test_silent_listener_is_reported_within_the_connect_bound():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings = IBSettings(host="127.0.0.1", port=silent.getsockname()[1], connect_timeout_s=2)
        started = time.monotonic()
        with pytest.raises(GatewayUnavailableError, match="did not complete the API handshake"):
            IBConnection(settings).connect()
        assert time.monotonic() - started < 10
