import datetime as dt
import math

import numpy as np
import pandas as pd
import polars as pl
import pytest

from ntrader_pipeline.analytics import (
    EquityCurveError,
    compute_metrics,
    daily_returns,
    drawdown_series,
    max_drawdown_duration_days,
)
from ntrader_pipeline_tests.analytics.sample_backtest import (
    STARTING_CASH,
    empty_fills,
    empty_trades,
    equity_frame,
    random_equity,
    sample_equity,
    sample_fills,
    sample_trades,
    utc,
)

# Daily returns of the sample (last equity of each session; the first against the starting cash):
R1 = 10098 / 10000 - 1  # 0.0098
R2 = 10017 / 10098 - 1  # -0.00802139037
R3 = 10056 / 10017 - 1  # 0.00389338125
MEAN = (R1 + R2 + R3) / 3  # 0.00189066363
STD = 0.009077920859743897  # sqrt(((R1-MEAN)^2 + (R2-MEAN)^2 + (R3-MEAN)^2) / 2)
DOWNSIDE = 0.004631151891895413  # sqrt((0 + R2^2 + 0) / 3)
MAX_DRAWDOWN = 121 / 10098  # peak 10098 (day 1 close) → trough 9977 (day 2, 18:00) = 0.0119825708
CAGR = 1.0056**84 - 1  # 3 sessions = 3/252 years → 1.0056^(252/3) - 1 = 0.59853531


def test_hand_built_backtest_metrics_match_hand_arithmetic() -> None:
    metrics = compute_metrics(sample_equity(), sample_trades(), sample_fills(), STARTING_CASH)

    assert metrics.start == utc(dt.date(2024, 1, 2), 15)
    assert metrics.end == utc(dt.date(2024, 1, 4), 21)
    assert (metrics.bar_count, metrics.session_count, metrics.trade_count) == (9, 3, 2)
    assert metrics.final_equity == 10056.0
    assert metrics.total_return == pytest.approx(0.0056)  # 10056 / 10000 - 1
    assert metrics.cagr == pytest.approx(CAGR)
    assert metrics.cagr == pytest.approx(0.5985353067)
    assert metrics.annual_volatility == pytest.approx(STD * math.sqrt(252))  # 0.144107526
    assert metrics.sharpe == pytest.approx(MEAN / STD * math.sqrt(252))  # 3.30619258
    assert metrics.sharpe == pytest.approx(3.3061925814)
    assert metrics.sortino == pytest.approx(MEAN / DOWNSIDE * math.sqrt(252))  # 6.48075367
    assert metrics.max_drawdown == pytest.approx(MAX_DRAWDOWN)
    # Never back to 10098 after day 1's 21:00 close: under water until the last bar, 2 days later.
    assert metrics.max_drawdown_duration_days == pytest.approx(2.0)
    assert metrics.calmar == pytest.approx(CAGR / MAX_DRAWDOWN)  # 49.9504920
    assert metrics.win_rate == pytest.approx(0.5)  # +98 wins, -42 loses
    assert metrics.profit_factor == pytest.approx(98 / 42)
    assert metrics.exposure == pytest.approx(6 / 9)  # long on 6 of 9 bars
    assert metrics.fees == pytest.approx(4.0)  # 4 fills x 1.0


def test_risk_free_rate_is_spread_over_sessions() -> None:
    metrics = compute_metrics(
        sample_equity(), sample_trades(), sample_fills(), STARTING_CASH, risk_free_rate=0.0252
    )

    daily_rf = 0.0252 / 252
    assert metrics.sharpe == pytest.approx((MEAN - daily_rf) / STD * math.sqrt(252))
    excess = np.array([R1, R2, R3]) - daily_rf
    downside = math.sqrt(float(np.mean(np.minimum(excess, 0) ** 2)))
    assert metrics.sortino == pytest.approx((MEAN - daily_rf) / downside * math.sqrt(252))


def test_daily_returns_take_last_equity_of_each_session_and_start_from_starting_cash() -> None:
    daily = daily_returns(sample_equity(), STARTING_CASH)

    assert daily["session_date"].to_list() == [dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4)]
    assert daily["equity"].to_list() == [10098.0, 10017.0, 10056.0]
    assert daily["daily_return"].to_list() == pytest.approx([R1, R2, R3])


def test_daily_returns_group_by_new_york_date_not_utc_date() -> None:
    # 00:30 UTC on Jan 3 is 19:30 on Jan 2 in New York: it closes the Jan 2 session.
    ts = [
        utc(dt.date(2024, 1, 2), 20),
        dt.datetime(2024, 1, 3, 0, 30, tzinfo=dt.UTC),
        utc(dt.date(2024, 1, 3), 20),
    ]
    equity = equity_frame(ts, [1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [100.0, 110.0, 99.0])

    daily = daily_returns(equity, 100.0)

    assert daily["session_date"].to_list() == [dt.date(2024, 1, 2), dt.date(2024, 1, 3)]
    assert daily["daily_return"].to_list() == pytest.approx([0.1, 99 / 110 - 1])


def test_drawdown_series_is_zero_at_highs_and_negative_below_them() -> None:
    drawdown = drawdown_series(sample_equity(), STARTING_CASH)["drawdown"].to_list()

    assert drawdown[:3] == pytest.approx([9999 / 10000 - 1, 0.0, 0.0])
    assert min(drawdown) == pytest.approx(-MAX_DRAWDOWN)
    assert drawdown[-1] == pytest.approx(10056 / 10098 - 1)


def test_drawdown_without_starting_cash_starts_at_first_bar() -> None:
    assert drawdown_series(sample_equity())["drawdown"][0] == 0.0


def test_no_trades_and_flat_equity_give_zeros_and_nan_for_undefined_ratios() -> None:
    ts = [utc(day, 21) for day in (dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4))]
    flat = equity_frame(ts, [50.0, 51.0, 49.0], [0.0, 0.0, 0.0], [STARTING_CASH] * 3)

    metrics = compute_metrics(flat, empty_trades(), empty_fills(), STARTING_CASH)

    assert (metrics.total_return, metrics.cagr, metrics.annual_volatility) == (0.0, 0.0, 0.0)
    assert (metrics.max_drawdown, metrics.max_drawdown_duration_days) == (0.0, 0.0)
    assert (metrics.trade_count, metrics.exposure, metrics.fees) == (0, 0.0, 0.0)
    for undefined in (
        metrics.sharpe,
        metrics.sortino,
        metrics.calmar,
        metrics.win_rate,
        metrics.profit_factor,
    ):
        assert math.isnan(undefined)


def test_one_session_has_no_volatility_or_sharpe_but_a_sortino() -> None:
    ts = [utc(dt.date(2024, 1, 2), hour) for hour in (15, 18, 21)]
    equity = equity_frame(ts, [100.0, 98.0, 99.0], [10.0, 10.0, 10.0], [9000.0] * 3)  # 10000, 9980, 9990

    metrics = compute_metrics(equity, empty_trades(), empty_fills(), STARTING_CASH)

    assert metrics.session_count == 1
    assert math.isnan(metrics.annual_volatility)
    assert math.isnan(metrics.sharpe)
    assert metrics.sortino == pytest.approx(-1.0 * math.sqrt(252))  # mean -0.001 / sqrt(0.001^2)
    assert metrics.cagr == pytest.approx(0.999**252 - 1)
    assert metrics.max_drawdown == pytest.approx(0.002)  # 9980 / 10000 - 1
    assert metrics.max_drawdown_duration_days == pytest.approx(0.25)  # 15:00 → 21:00, not recovered
    assert metrics.exposure == 1.0


def test_only_winning_trades_give_infinite_profit_factor() -> None:
    winners = sample_trades().filter(pl.col("pnl") > 0)

    metrics = compute_metrics(sample_equity(), winners, sample_fills(), STARTING_CASH)

    assert metrics.profit_factor == math.inf
    assert metrics.win_rate == 1.0


def test_wiped_out_account_has_cagr_of_minus_one() -> None:
    ts = [utc(dt.date(2024, 1, 2), 21), utc(dt.date(2024, 1, 3), 21)]
    equity = equity_frame(ts, [1.0, 1.0], [0.0, 0.0], [5000.0, -10.0])

    metrics = compute_metrics(equity, empty_trades(), empty_fills(), STARTING_CASH)

    assert metrics.cagr == -1.0
    assert metrics.max_drawdown == pytest.approx(1.001)


def test_as_dict_has_every_field_with_iso_timestamps_and_keeps_nan() -> None:
    metrics = compute_metrics(sample_equity(), empty_trades(), empty_fills(), STARTING_CASH)

    values = metrics.as_dict()

    assert values["start"] == "2024-01-02T15:00:00+00:00"
    assert values["trade_count"] == 0
    assert math.isnan(values["profit_factor"])
    assert set(values) == set(metrics.__dataclass_fields__)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (sample_equity().clear(), "empty"),
        (sample_equity().drop("equity"), "lacks columns"),
        (sample_equity().reverse(), "time order"),
    ],
)
def test_unusable_equity_frames_are_rejected(frame: pl.DataFrame, message: str) -> None:
    with pytest.raises(EquityCurveError, match=message):
        compute_metrics(frame, empty_trades(), empty_fills(), STARTING_CASH)


def test_non_positive_starting_cash_is_rejected() -> None:
    with pytest.raises(EquityCurveError, match="starting_cash"):
        compute_metrics(sample_equity(), empty_trades(), empty_fills(), 0.0)


# --- independent reference: plain pandas and Python loops on a random 2000-bar curve ---------------


def _reference_drawdown(values: list[float], starting_cash: float) -> tuple[float, list[float]]:
    peak, worst, series = starting_cash, 0.0, []
    for value in values:
        peak = max(peak, value)
        series.append(value / peak - 1)
        worst = min(worst, value / peak - 1)
    return -worst, series


def _reference_longest_under_water_days(ts: list[pd.Timestamp], values: list[float], cash: float) -> float:
    peak, peak_time, longest, under_water = cash, ts[0], pd.Timedelta(0), False
    for time, value in zip(ts, values, strict=True):
        if value < peak or under_water:
            longest = max(longest, time - peak_time)  # still under water, or just recovered
        under_water = value < peak
        if value >= peak:
            peak, peak_time = value, time
    return longest / pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def random_curve() -> pl.DataFrame:
    # 20 half-hour bars per session from 14:30 UTC: the last bars fall after UTC midnight.
    return random_equity(2000, seed=7, bars_per_session=20, bar_minutes=30)


def test_metrics_match_a_pandas_reference_on_a_random_curve(random_curve: pl.DataFrame) -> None:
    frame = random_curve.to_pandas()
    values = frame["equity"].tolist()
    session_dates = frame["ts"].dt.tz_convert("America/New_York").dt.date
    closes = frame.groupby(session_dates, sort=True)["equity"].last()
    returns = closes / closes.shift(1, fill_value=STARTING_CASH) - 1
    reference_max_drawdown, reference_series = _reference_drawdown(values, STARTING_CASH)

    metrics = compute_metrics(random_curve, empty_trades(), empty_fills(), STARTING_CASH)

    assert metrics.session_count == len(returns) == 100
    assert daily_returns(random_curve, STARTING_CASH)["daily_return"].to_list() == pytest.approx(
        returns.tolist()
    )
    assert metrics.sharpe == pytest.approx(returns.mean() / returns.std(ddof=1) * math.sqrt(252))
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    assert metrics.sortino == pytest.approx(returns.mean() / downside * math.sqrt(252))
    assert metrics.max_drawdown == pytest.approx(reference_max_drawdown)
    assert drawdown_series(random_curve, STARTING_CASH)["drawdown"].to_list() == pytest.approx(
        reference_series
    )
    assert metrics.max_drawdown_duration_days == pytest.approx(
        _reference_longest_under_water_days(frame["ts"].tolist(), values, STARTING_CASH)
    )
    assert metrics.exposure == pytest.approx(float((frame["position_qty"] > 0).mean()))


def test_longest_under_water_matches_reference_without_starting_cash(random_curve: pl.DataFrame) -> None:
    frame = random_curve.to_pandas()
    values = frame["equity"].tolist()

    expected = _reference_longest_under_water_days(frame["ts"].tolist(), values, values[0])

    assert max_drawdown_duration_days(random_curve) == pytest.approx(expected)
