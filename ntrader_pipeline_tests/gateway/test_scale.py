"""The gateway at universe scale: N synthetic stocks (listing, determinism, ISINs, the universe file, error
200 beyond them) and IB's answer time (latency per request and per bar, the soft throttle of bursts), read
from the request log's recorded hold-backs rather than from wall-clock timings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ntrader_pipeline.gateway import EmbeddedGateway
from ntrader_pipeline.gateway.__main__ import answer_time_model, build_parser
from ntrader_pipeline.gateway.contracts import CONTRACTS
from ntrader_pipeline.gateway.latency import AnswerTimeModel
from ntrader_pipeline.gateway.synthetic import session_bars
from ntrader_pipeline.gateway.universe import (
    PRIMARY_EXCHANGES,
    isin_check_digit,
    synthetic_stock,
    synthetic_stocks,
    write_universe,
)
from ntrader_pipeline.ib.client import IBConnection
from ntrader_pipeline.ingest.errors import ContractNotFoundError
from ntrader_pipeline.markets.bar_specs import BarSpec
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.markets.universe import InstrumentSpec, load_universe
from ntrader_pipeline_tests.conftest import gateway_ib_settings
from ntrader_pipeline_tests.gateway.conftest import fixed_clock
from ntrader_pipeline_tests.gateway.ib_raw_client import RawIbClient, stock

LISTED = 500
END = "20240105 21:00:00 UTC"  # the close of 2024-01-05


# -- synthetic stocks ----------------------------------------------------------------------------------


def test_isin_check_digit_matches_published_isins():
    """Hand-checked against real ISINs: Apple, the SPDR S&P 500 ETF, Microsoft."""
    for isin in ("US0378331005", "US78462F1030", "US5949181045"):
        assert isin_check_digit(isin[:-1]) == int(isin[-1])


def test_synthetic_stocks_are_deterministic_distinct_and_well_formed():
    stocks = synthetic_stocks(LISTED)
    assert stocks == synthetic_stocks(LISTED)
    assert synthetic_stocks(10) == stocks[:10]  # a smaller universe is a prefix of a larger one
    assert len({s.symbol for s in stocks}) == LISTED
    assert len({s.con_id for s in stocks}) == LISTED
    assert not {s.symbol for s in stocks} & {c.symbol for c in CONTRACTS.values()}
    assert {s.primary_exchange for s in stocks} == set(PRIMARY_EXCHANGES)
    for s in stocks:
        assert len(s.symbol) == 4 and s.symbol.isalpha() and s.symbol[0] in "QX"
        assert len(s.isin) == 12 and s.isin.startswith("US")
        assert isin_check_digit(s.isin[:-1]) == int(s.isin[-1])
    assert stocks[0].symbol == "QAAA" and stocks[0].isin == "US9000000003"  # index 0, worked by hand


def test_too_many_synthetic_stocks_is_refused():
    with pytest.raises(ValueError, match=r"--synthetic-stocks must be within 0\.\.35152"):
        synthetic_stocks(40_000)


def test_universe_file_lists_the_synthetic_stocks(tmp_path):
    path = write_universe(tmp_path / "universe.yaml", 25)
    universe = load_universe(path)
    assert [i.instrument_id for i in universe.instruments] == [
        f"{s.symbol}.{s.primary_exchange}" for s in synthetic_stocks(25)
    ]
    assert [str(s) for s in universe.bar_specs] == ["1-MINUTE-LAST", "1-DAY-LAST"]


@pytest.fixture(scope="module")
def universe_gateway() -> Iterator[EmbeddedGateway]:
    with EmbeddedGateway(clock=fixed_clock, synthetic_stocks=LISTED) as gateway:
        yield gateway


def test_the_gateway_lists_n_stocks_to_the_nautilus_client(universe_gateway):
    settings = gateway_ib_settings(universe_gateway)
    session = session_for("2024-01-05")
    with IBConnection(settings) as connection:
        for stock_listed in (synthetic_stock(0), synthetic_stock(LISTED - 1)):
            spec = InstrumentSpec(symbol=stock_listed.symbol, primary_exchange=stock_listed.primary_exchange)
            instrument = connection.fetch_instrument(spec)
            assert instrument.id.value == f"{stock_listed.symbol}.{stock_listed.primary_exchange}"
            assert instrument.isin == stock_listed.isin
            bars, errors = connection.fetch_bars(
                spec, BarSpec.parse("1-MINUTE-LAST"), session.close.replace(tzinfo=None), "1 D"
            )
            assert errors == []
            expected = session_bars(stock_listed.symbol, session.date, 60)
            assert [float(b.close) for b in bars] == pytest.approx(expected.close.tolist())
        beyond = synthetic_stock(LISTED)  # the next ticker is not listed: error 200
        with pytest.raises(ContractNotFoundError, match="IB error 200"):
            connection.fetch_instrument(InstrumentSpec(symbol=beyond.symbol, primary_exchange="NYSE"))
    assert len(universe_gateway.contracts) == len(CONTRACTS) + LISTED


def test_an_unknown_symbol_still_gets_error_200_by_default(ib_gateway):
    with RawIbClient(ib_gateway.host, ib_gateway.port) as raw:
        raw.start_api()
        [error] = raw.contract_details(1, stock(synthetic_stock(0).symbol, "NYSE")).errors_for(1)
    assert error.code == 200  # the shared gateway lists no synthetic stocks


# -- answer time -----------------------------------------------------------------------------------


def test_answer_time_is_base_plus_per_bar_and_throttles_beyond_the_free_open_requests():
    model = AnswerTimeModel(base_s=0.4, per_bar_s=0.0005, throttle_free_open=10, throttle_step_s=0.25)
    one_session = model.answer_time(390, open_requests=1, bar_seconds=60)
    assert one_session.latency_s == pytest.approx(0.595) and one_session.throttle_s == 0  # 0.4 + 0.195
    assert model.answer_time(390, 10, 60).throttle_s == 0
    assert model.answer_time(390, 14, 60).throttle_s == pytest.approx(1.0)  # 4 over × 0.25
    assert model.answer_time(390, 50, 60).throttle_s == pytest.approx(10.0)  # 40 × 0.25 = 10, the cap
    assert model.answer_time(1, 50, 86_400).total_s == pytest.approx(0.4005 + 10.0)
    assert model.answer_time(1800, 50, 30).throttle_s == 0  # bars <= 30 s: IB's hard rules instead


def test_a_negative_setting_is_refused():
    with pytest.raises(ValueError, match="base_s must be 0 or more"):
        AnswerTimeModel(base_s=-1)


def test_the_cli_gateway_models_answer_time_by_default():
    assert answer_time_model(build_parser().parse_args([])) == AnswerTimeModel()
    assert answer_time_model(build_parser().parse_args(["--no-latency"])) is None
    custom = build_parser().parse_args(["--latency-base-s", "1.5", "--latency-per-bar-s", "0.001"])
    assert answer_time_model(custom) == AnswerTimeModel(base_s=1.5, per_bar_s=0.001)
    assert build_parser().parse_args(["--synthetic-stocks", "500"]).synthetic_stocks == 500


MODEL = AnswerTimeModel(base_s=0.3, per_bar_s=0.001, throttle_free_open=2, throttle_step_s=0.1)


@pytest.fixture
def timed_gateway() -> Iterator[EmbeddedGateway]:
    with EmbeddedGateway(clock=fixed_clock, answer_time=MODEL) as gateway:
        yield gateway


def test_a_burst_is_throttled_by_the_open_requests_at_arrival(timed_gateway):
    """Six requests sent back to back are all open when the last arrives (each is held 0.69 s): the k-th
    is throttled by (k - 2) × 0.1 s beyond the 2 free ones; each is held latency + throttle."""
    with RawIbClient(timed_gateway.host, timed_gateway.port) as raw:
        raw.start_api()
        symbols = ["SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA"]
        for req_id, symbol in enumerate(symbols, start=1):
            raw.eclient.reqHistoricalData(
                req_id, stock(symbol), END, "1 D", "1 min", "TRADES", 1, 2, False, []
            )
        raw.pump_until(lambda w: len(w.history_ended) == len(symbols))
    records = timed_gateway.requests.historical_requests()
    assert [r.symbol for r in records] == symbols
    assert [r.bar_count for r in records] == [390] * 6
    assert [r.latency_s for r in records] == pytest.approx([0.3 + 0.39] * 6)
    assert [r.throttle_s for r in records] == pytest.approx([0, 0, 0.1, 0.2, 0.3, 0.4])
    assert [r.delayed_s for r in records] == pytest.approx([r.latency_s + r.throttle_s for r in records])
    assert timed_gateway.requests.peak_open_historical() == 6


def test_a_slow_answer_holds_up_no_other_request_or_connection(timed_gateway):
    """A session of minute bars (held 0.69 s) asked first, then a daily bar on another connection and on
    the same one (held 0.301 s each): both of those are answered before the minute bars."""
    with (
        RawIbClient(timed_gateway.host, timed_gateway.port) as first,
        RawIbClient(timed_gateway.host, timed_gateway.port) as second,
    ):
        first.start_api()
        second.start_api()
        first.eclient.reqHistoricalData(1, stock("SPY"), END, "1 D", "1 min", "TRADES", 1, 2, False, [])
        second.eclient.reqHistoricalData(2, stock("SPY"), END, "1 D", "1 day", "TRADES", 1, 2, False, [])
        first.eclient.reqHistoricalData(3, stock("QQQ"), END, "1 D", "1 day", "TRADES", 1, 2, False, [])
        second.pump_until(lambda w: 2 in w.history_ended)
        first.pump_until(lambda w: {1, 3} <= w.history_ended.keys())
    by_req = {r.req_id: r for r in timed_gateway.requests.historical_requests()}
    minute, daily_other, daily_same = by_req[1], by_req[2], by_req[3]
    assert minute.received_monotonic < daily_other.received_monotonic
    assert minute.received_monotonic < daily_same.received_monotonic
    assert [r.latency_s for r in (minute, daily_other, daily_same)] == pytest.approx([0.69, 0.301, 0.301])
    assert daily_other.answered_monotonic < minute.answered_monotonic
    assert daily_same.answered_monotonic < minute.answered_monotonic


def test_without_a_model_answers_are_not_held(ib_gateway):
    with RawIbClient(ib_gateway.host, ib_gateway.port) as raw:
        raw.start_api()
        assert len(raw.historical_data(1, stock("SPY"), END, "1 D", "1 min").bars[1]) == 390
    [record] = ib_gateway.requests.historical_requests()
    assert (record.latency_s, record.throttle_s, record.delayed_s) == (0, 0, 0)
    assert record.answered_monotonic is not None and record.answered_monotonic >= record.received_monotonic
