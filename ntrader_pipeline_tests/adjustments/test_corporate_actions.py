"""Corporate actions: a crafted 4:1 split and a dividend in stored bars — flagged by the quality rule,
turned into factors (splits apart from dividends), and applied when a backtest reads the bars."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.objects import Price, Quantity

from ntrader_pipeline.adjustments.apply import MissingFactorsError, adjust_bars, adjust_frame
from ntrader_pipeline.adjustments.factors import adjustment_factors, corporate_actions
from ntrader_pipeline.adjustments.modes import Adjustment
from ntrader_pipeline.adjustments.ratios import match_split
from ntrader_pipeline.adjustments.refresh import compare_with_fresh_anchor, refresh_adjustment_factors
from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.backtest.run import run_declared_backtest
from ntrader_pipeline.catalog.frames import bars_to_frame
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import TradingSession, sessions_between
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.catalog_quality import check_stored_sessions
from ntrader_pipeline.quality.session_quality import SPLIT_RULE
from ntrader_pipeline_tests.adjustments.session_bars import session_minutes
from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity

MINUTE = BarSpec.parse("1-MINUTE-LAST")
DAILY = BarSpec.parse("1-DAY-LAST")
SESSIONS = sessions_between("2024-01-02", "2024-01-10")  # 2, 3, 4, 5, 8, 9, 10
SPLIT_DAY = dt.date(2024, 1, 8)  # 4:1, ex-date
DIVIDEND_DAY = dt.date(2024, 1, 4)  # 1 % cash dividend, ex-date
MINUTE_NS = 60_000_000_000


def _level(session: TradingSession) -> float:
    """Unadjusted price level: 400 before the split, 100 from its ex-date."""
    return 400.0 if session.date < SPLIT_DAY else 100.0


def _daily_closes(adjusted: bool) -> pl.DataFrame:
    """TRADES closes, or ADJUSTED_LAST closes: continuous through the split, scaled for the dividend."""
    rows = []
    for session in SESSIONS:
        close = _level(session) * 1.002  # the last minute's close (i = 389: 389 % 7 - 3 = 2)
        if adjusted:
            close = close / 4 if session.date < SPLIT_DAY else close
            close = close * 0.99 if session.date < DIVIDEND_DAY else close
        rows.append((session.date, round(close, 2)))
    return pl.DataFrame(rows, schema={"date": pl.Date, "close": pl.Float64}, orient="row")


@pytest.fixture
def split_store(tmp_path) -> CatalogStore:
    store = CatalogStore(tmp_path / "catalog")
    store.write_instrument(ib_equity())
    bar_type = BarType.from_str(MINUTE.bar_type("SPY.ARCA"))
    for session in SESSIONS:
        store.write_session_bars(
            bar_type,
            session,
            session_minutes(
                bar_type, session, _level(session), volume=1000 if session.date < SPLIT_DAY else 4000
            ),
        )
    return store


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (4.0, "4:1"),
        (3.9, "4:1"),
        (2.02, "2:1"),
        (1.5, "3:2"),
        (0.5, "1:2"),
        (1.0, None),
        (1.05, None),  # a market move, not a split
        (1.2, None),  # 6:5 is a split ratio for corporate events, but not a common one to warn about
        (2.5, "5:2"),
        (7.1, "7:1"),
        (50.4, "50:1"),
        (0.066, "1:15"),
    ],
)
def test_split_ratios_match_within_a_tolerance(ratio, expected):
    found = match_split(ratio)
    assert (str(found) if found else None) == expected


def test_a_crafted_4_for_1_split_in_minute_bars_is_flagged_naming_date_and_ratio(split_store):
    results = check_stored_sessions(split_store, "SPY.ARCA", MINUTE, SESSIONS)
    assert all(r.passed for r in results)  # a warning, not a failure
    flagged = [r for r in results if SPLIT_RULE in r.warnings]
    assert [r.session for r in flagged] == [SPLIT_DAY]
    assert flagged[0].split_ratio == "4:1"
    assert flagged[0].warnings[SPLIT_RULE].startswith("2024-01-08: overnight jump")
    assert "matches a 4:1 split" in flagged[0].warnings[SPLIT_RULE]


def test_the_jump_into_the_first_checked_session_is_seen_from_the_stored_one_before(split_store):
    (result,) = check_stored_sessions(
        split_store, "SPY.ARCA", MINUTE, [s for s in SESSIONS if s.date == SPLIT_DAY]
    )
    assert result.split_ratio == "4:1"


def test_factors_separate_the_split_from_the_dividend():
    factors, events = adjustment_factors(_daily_closes(False), _daily_closes(True))
    assert factors["date"].to_list() == [s.date for s in SESSIONS]
    actions = [a.describe() for a in corporate_actions(events)]
    assert actions[0].startswith("2024-01-04 dividend 4.0") and "(1.00%)" in actions[0]
    assert actions[1] == "2024-01-08 split 4:1"
    by_date = {d: (s, v) for d, s, v in factors.select("date", "split_factor", "dividend_factor").iter_rows()}
    assert by_date[dt.date(2024, 1, 2)][0] == 0.25
    assert by_date[dt.date(2024, 1, 2)][1] == pytest.approx(0.99, abs=1e-4)
    assert by_date[dt.date(2024, 1, 5)] == (0.25, 1.0)
    assert by_date[dt.date(2024, 1, 10)] == (1.0, 1.0)


def _fetch_of(adjusted: pl.DataFrame, instrument_id: str):
    """What one ADJUSTED_LAST request answers (the gateway path is in gateway/test_reality_histories.py)."""
    bar_type = BarType.from_str(DAILY.bar_type(instrument_id))

    def fetch(duration: str) -> tuple[list[Bar], list]:
        assert duration.endswith((" D", " Y"))
        fetch.calls.append(duration)
        return [_daily_bar(bar_type, session, close) for session, close in adjusted.iter_rows()], []

    fetch.calls = []
    return fetch


def _daily_bar(bar_type: BarType, session: dt.date, close: float) -> Bar:
    """A session's daily bar; its volume is the minute fixture's (four times the shares from the split)."""
    start = int(dt.datetime.combine(session, dt.time(), tzinfo=dt.UTC).timestamp() * 1e9)
    price = Price(close, 2)
    volume = Quantity(390 * (1000 if session < SPLIT_DAY else 4000), 0)
    return Bar(bar_type, price, price, price, price, volume, start, start + 86_400 * 10**9 - 1)


def test_events_and_factors_are_stored_per_instrument_from_one_adjusted_request(tmp_path):
    store = CatalogStore(tmp_path / "catalog")
    assert store.adjustment_factors("SPY.ARCA") is None
    bar_type = BarType.from_str(DAILY.bar_type("SPY.ARCA"))
    for session, close in _daily_closes(False).iter_rows():
        store.write_session_bars(
            bar_type, next(s for s in SESSIONS if s.date == session), [_daily_bar(bar_type, session, close)]
        )
    fetch = _fetch_of(_daily_closes(True), "SPY.ARCA")
    stored, events = refresh_adjustment_factors(store, "SPY.ARCA", fetch, today=dt.date(2024, 1, 11))
    assert fetch.calls == ["10 D"]  # one request ending now, back to 2024-01-02: one anchor for all
    assert store.adjustment_factors("SPY.ARCA").equals(stored)
    assert store.corporate_events("SPY.ARCA").equals(events)
    assert events["kind"].to_list() == ["dividend", "split"]
    assert store.adjustment_file("SPY.ARCA").name == "SPY.ARCA.parquet"
    assert compare_with_fresh_anchor(store, "SPY.ARCA", fetch, today=dt.date(2024, 1, 11)).agrees
    # a dividend since the refresh: IB's fresh ADJUSTED_LAST scales every session before it
    later = _daily_closes(True).with_columns(
        pl.when(pl.col("date") < dt.date(2024, 1, 9))
        .then((pl.col("close") * 0.98).round(2))
        .otherwise("close")
    )
    result = compare_with_fresh_anchor(store, "SPY.ARCA", _fetch_of(later, "SPY.ARCA"), dt.date(2024, 1, 11))
    assert not result.agrees
    assert len(result.new) == 1 and result.new[0].startswith("2024-01-09 dividend")
    assert "new since the last refresh: 2024-01-09 dividend" in result.describe()


def test_split_adjustment_scales_prices_and_volumes_inversely(split_store):
    factors, _ = adjustment_factors(_daily_closes(False), _daily_closes(True))
    bars = split_store.read_bars(MINUTE.bar_type("SPY.ARCA"), SESSIONS)
    adjusted = adjust_bars(bars, factors, Adjustment.SPLITS)
    first, after = adjusted[0], adjusted[-1]
    assert first.close.as_double() == pytest.approx(bars[0].close.as_double() / 4, abs=0.01)
    assert first.volume.as_double() == 4000  # four times the shares
    assert after.close.as_double() == bars[-1].close.as_double()
    assert after.volume.as_double() == bars[-1].volume.as_double()
    both = adjust_bars(bars, factors, Adjustment.SPLITS_AND_DIVIDENDS)
    assert both[0].close.as_double() == pytest.approx(bars[0].close.as_double() / 4 * 0.99, abs=0.01)
    assert adjust_bars(bars, factors, Adjustment.NONE) == bars
    frame = adjust_frame(bars_to_frame(bars), factors, Adjustment.SPLITS, daily=False)
    assert frame["close"][0] == pytest.approx(bars[0].close.as_double() / 4)


def test_a_session_without_a_factor_is_an_error_not_a_factor_of_one(split_store):
    factors = adjustment_factors(_daily_closes(False), _daily_closes(True))[0].filter(
        pl.col("date") != dt.date(2024, 1, 3)
    )
    bars = split_store.read_bars(MINUTE.bar_type("SPY.ARCA"), SESSIONS)
    with pytest.raises(MissingFactorsError, match="1 sessions have no adjustment factor: 2024-01-03"):
        adjust_bars(bars, factors, Adjustment.SPLITS)


def _overnight_ratios(closes: pl.DataFrame) -> list[float]:
    daily = (
        closes.with_columns(pl.col("ts").dt.convert_time_zone("America/New_York").dt.date().alias("date"))
        .group_by("date", maintain_order=True)
        .agg(pl.col("close").first().alias("first"), pl.col("close").last().alias("last"))
    )
    return (daily["last"].shift(1) / daily["first"]).drop_nulls().to_list()


@pytest.mark.parametrize("adjustment", ["none", "splits", "splits_and_dividends"])
def test_the_adjusted_backtest_input_has_no_jump_and_the_unadjusted_one_does(
    split_store, tmp_path, adjustment
):
    split_store.write_adjustment_factors(
        "SPY.ARCA", *adjustment_factors(_daily_closes(False), _daily_closes(True))
    )
    declaration = BacktestDeclaration(
        name="sma",
        strategy="sma_cross",
        parameters={"fast_period": 10, "slow_period": 30},
        instruments=["SPY.ARCA"],
        window={"start": "2024-01-02", "end": "2024-01-10"},
        index_instrument="SPY.ARCA",
        adjustment=adjustment,
    )
    run = run_declared_backtest(declaration, "SPY.ARCA", split_store, tmp_path / "backtests", "bars_1_minute")
    ratios = _overnight_ratios(run.result.equity.select("ts", "close"))
    largest = max(max(r, 1 / r) for r in ratios)
    if adjustment == "none":
        assert largest == pytest.approx(4.0, rel=0.02)  # the split is a 75 % "crash"
    else:
        assert largest < 1.02  # no jump left
    manifest = run.manifest
    assert manifest.adjustment == adjustment
    assert [(a.date, a.kind) for a in manifest.corporate_actions] == [
        (dt.date(2024, 1, 4), "dividend"),
        (SPLIT_DAY, "split"),
    ]
    assert manifest.corporate_actions[1].detail == "4:1"
    factor_files = [f.path for f in manifest.catalog_files if f.path.startswith("adjustments/")]
    assert factor_files == ([] if adjustment == "none" else ["adjustments/SPY.ARCA.parquet"])
    # the stored files stay as fetched
    assert split_store.read_bars(MINUTE.bar_type("SPY.ARCA"), SESSIONS[:1])[0].close.as_double() > 390


def test_without_stored_factors_an_adjusted_backtest_fails_saying_what_to_materialize(split_store, tmp_path):
    declaration = BacktestDeclaration(
        name="sma", strategy="sma_cross", instruments=["SPY.ARCA"], index_instrument="SPY.ARCA",
        window={"start": "2024-01-02", "end": "2024-01-10"}, adjustment="splits",
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"adjustment splits of SPY\.ARCA: no adjustment factors are stored"):
        run_declared_backtest(declaration, "SPY.ARCA", split_store, tmp_path / "bt", "bars_1_minute")
