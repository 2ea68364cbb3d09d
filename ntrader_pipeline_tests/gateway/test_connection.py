"""Version negotiation, small requests, robustness against junk, the request log, and bounded stop."""

from __future__ import annotations

import socket
import time

import pytest

from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.gateway.codec import encode_message
from ntrader_pipeline.gateway.connection import negotiate_version
from ntrader_pipeline.gateway.server import GatewayServer
from ntrader_pipeline_tests.gateway.conftest import FIXED_NOW, fixed_clock
from ntrader_pipeline_tests.gateway.ib_raw_client import RawIbClient, stock


@pytest.mark.parametrize(
    ("client_range", "forced", "expected"),
    [
        ((100, 187), None, 187),
        ((100, 150), None, 150),
        ((100, 223), None, 200),  # ibapi 10.45's range: the newest text-protocol version
        ((100, 187), 151, 151),
    ],
)
def test_negotiate_version(client_range: tuple[int, int], forced: int | None, expected: int) -> None:
    assert negotiate_version(*client_range, forced) == expected


def test_no_common_version_means_no_connection() -> None:
    assert negotiate_version(100, 150, 176) is None
    assert negotiate_version(201, 223, None) is None  # protobuf-only clients


def test_default_version_is_the_highest_the_client_allows(gateway: EmbeddedGateway) -> None:
    with RawIbClient(gateway.host, gateway.port) as raw:
        assert raw.server_version == 200
    with RawIbClient(gateway.host, gateway.port, versions="v100..150 +PACEAPI") as raw:
        assert raw.server_version == 150


def test_forced_version_outside_the_client_range_closes_the_connection() -> None:
    with EmbeddedGateway(server_version=176) as gateway, pytest.raises(ConnectionError):
        RawIbClient(gateway.host, gateway.port, versions="v100..150", timeout=5)


def test_rejects_versions_and_hosts_it_cannot_serve() -> None:
    with pytest.raises(ValueError, match="server_version"):
        GatewayServer(server_version=201)  # protobuf framing from 201
    with pytest.raises(ValueError, match="loopback"):
        GatewayServer(host="0.0.0.0")


def test_ids_accounts_and_time_requests_are_answered(gateway: EmbeddedGateway) -> None:
    with RawIbClient(gateway.host, gateway.port) as raw:
        raw.start_api()
        raw.eclient.reqMarketDataType(3)  # no answer expected; must not disturb what follows
        raw.eclient.reqIds(1)
        raw.eclient.reqManagedAccts()
        raw.eclient.reqCurrentTime()
        wrapper = raw.pump_until(lambda w: bool(w.current_times))
    assert wrapper.next_valid_ids == [1, 1]
    assert wrapper.accounts == ["DU1234567", "DU1234567"]
    assert wrapper.current_times == [int(FIXED_NOW.timestamp())]


def test_junk_and_unknown_messages_never_break_the_connection(gateway: EmbeddedGateway) -> None:
    with RawIbClient(gateway.host, gateway.port) as raw:
        raw.start_api()
        raw.send_fields("not-a-number", "x")
        raw.send_fields(999, 1, "whatever")
        raw.sock.sendall(encode_message([]))  # an empty message
        raw.eclient.cancelHistoricalData(4242)  # nothing to cancel: accepted silently
        raw.send_fields(20, 77, 0, "SPY")  # a historical request cut short: answered with 321 for its reqId
        wrapper = raw.pump_until(lambda w: bool(w.errors_for(77)))
        assert [e.code for e in wrapper.errors_for(77)] == [321]
        wrapper = raw.historical_data(78, stock("SPY", "ARCA"), "20240105 21:00:00 UTC", "1 D", "1 day")
        assert len(wrapper.bars[78]) == 1


def test_bad_handshake_is_closed_without_a_reply(gateway: EmbeddedGateway) -> None:
    with socket.create_connection((gateway.host, gateway.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert sock.recv(100) == b""


def test_request_log_records_what_clients_asked(gateway: EmbeddedGateway) -> None:
    gateway.requests.clear()
    with RawIbClient(gateway.host, gateway.port) as raw:
        raw.start_api()
        raw.contract_details(5, stock("SPY", "ARCA"))
        raw.historical_data(6, stock("SPY", "ARCA"), "20240105-21:00:00", "2 D", "5 mins", use_rth=0)
    [contract_request] = gateway.requests.contract_details()
    assert contract_request.contract.symbol == "SPY"
    [historical] = gateway.requests.historical()
    assert (historical.req_id, historical.end_date_time, historical.duration) == (
        6,
        "20240105-21:00:00",
        "2 D",
    )
    assert (historical.bar_size, historical.use_rth, historical.format_date) == ("5 mins", False, 2)
    assert historical.contract.primary_exchange == "ARCA"
    assert [r.message_id for r in gateway.requests.all()] == [71, 9, 20]


def test_stop_is_bounded_with_clients_still_connected() -> None:
    gateway = EmbeddedGateway(clock=fixed_clock).start()
    raw = RawIbClient(gateway.host, gateway.port)
    raw.start_api()
    started = time.monotonic()
    gateway.stop(timeout=5)
    assert time.monotonic() - started < 5
    raw.sock.settimeout(5)
    assert raw.sock.recv(100) == b""  # the gateway closed our connection
    raw.close()
