"""Every metric beyond the original set against an independent reference (pandas and plain loops)."""

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from ntrader_pipeline.analytics import (
    DRAWDOWN_SCHEMA,
    EquityCurveError,
    PerformanceMetrics,
    compute_metrics,
    drawdown_table,
    load_metrics,
    max_drawdown_duration_days,
    save_metrics,
)
from ntrader_pipeline_tests.analytics.sample_backtest import (
    STARTING_CASH,
    empty_fills,
    empty_trades,
    equity_frame,
    fills_frame,
    random_equity,
    sample_equity,
    sample_fills,
    sample_trades,
    utc,
)

# --- references ---------------------------------------------------------------------------------------


def reference_episodes(ts: list[pd.Timestamp], values: list[float], cash: float | None) -> list[dict]:
    """Walk the curve bar by bar: open an episode when below the peak, close it when back at the peak."""
    if cash is not None:
        ts, values = [ts[0], *ts], [cash, *values]
    episodes, peak, peak_time, current = [], values[0], ts[0], None
    for time, value in zip(ts, values, strict=True):
        if value >= peak:
            if current is not None:
                current["recovery"] = time
                episodes.append(current)
                current = None
            peak, peak_time = value, time
        else:
            if current is None:
                current = {"start": peak_time, "trough": time, "low": value, "peak": peak, "recovery": None}
            if value < current["low"]:
                current["trough"], current["low"] = time, value
    if current is not None:
        episodes.append(current)
    for episode in episodes:
        episode["depth"] = 1 - episode["low"] / episode["peak"]
        end = episode["recovery"] if episode["recovery"] is not None else ts[-1]
        episode["duration_days"] = (end - episode["start"]) / pd.Timedelta(days=1)
    return sorted(episodes, key=lambda episode: -episode["depth"])  # stable: earlier first on ties


def reference_session_returns(frame: pd.DataFrame, column: str, base: float) -> pd.Series:
    dates = frame["ts"].dt.tz_convert("America/New_York").dt.date
    last = frame.groupby(dates, sort=True)[column].last()
    return last / last.shift(1, fill_value=base) - 1


@pytest.fixture(scope="module")
def random_curve() -> pl.DataFrame:
    return random_equity(3000, seed=11, bars_per_session=30, bar_minutes=13)


@pytest.fixture(scope="module")
def random_benchmark(random_curve: pl.DataFrame) -> pl.Series:
    return (STARTING_CASH * random_curve["close"] / random_curve["close"][0]).alias("instrument_equity")


def random_trades(seed: int, count: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    pnl = np.round(rng.normal(5.0, 40.0, count), 2)
    pnl[::7] = 0.0  # break-even trades count in trade_count and expectancy only
    ts = [utc(dt.date(2024, 3, 1), 15)] * count
    return (
        sample_trades()
        .clear()
        .vstack(
            pl.DataFrame(
                {
                    "entry_ts": ts,
                    "exit_ts": ts,
                    "quantity": [10.0] * count,
                    "entry_price": [100.0] * count,
                    "exit_price": [100.0] * count,
                    "commission": [2.0] * count,
                    "pnl": pnl,
                    "return_pct": pnl / 1000.0,
                },
                schema=sample_trades().schema,
            )
        )
    )


# --- metrics against the references ------------------------------------------------------------------


def test_return_metrics_match_pandas(random_curve: pl.DataFrame) -> None:
    frame = random_curve.to_pandas()
    returns = reference_session_returns(frame, "equity", STARTING_CASH)
    final = frame["equity"].iloc[-1]
    years = len(returns) / 252
    peak = frame["equity"].cummax().clip(lower=STARTING_CASH)
    max_drawdown = -(frame["equity"] / peak - 1).min()

    metrics = compute_metrics(random_curve, empty_trades(), empty_fills(), STARTING_CASH)

    assert metrics.total_return == pytest.approx(final / STARTING_CASH - 1)
    assert metrics.cagr == pytest.approx((final / STARTING_CASH) ** (1 / years) - 1)
    assert metrics.annual_volatility == pytest.approx(returns.std() * math.sqrt(252))
    assert metrics.sharpe == pytest.approx(returns.mean() / returns.std() * math.sqrt(252))
    assert metrics.max_drawdown == pytest.approx(max_drawdown)
    assert metrics.calmar == pytest.approx(metrics.cagr / max_drawdown)
    assert (metrics.bar_count, metrics.session_count) == (len(frame), len(returns))


def test_trade_statistics_match_plain_python(random_curve: pl.DataFrame) -> None:
    trades = random_trades(seed=3, count=57)
    pnl = trades["pnl"].to_list()

    metrics = compute_metrics(random_curve, trades, empty_fills(), STARTING_CASH)

    wins, losses = [p for p in pnl if p > 0], [p for p in pnl if p < 0]
    assert metrics.trade_count == len(pnl) == 57
    assert metrics.win_rate == pytest.approx(len(wins) / len(pnl))
    assert metrics.profit_factor == pytest.approx(sum(wins) / -sum(losses))
    assert metrics.expectancy == pytest.approx(sum(pnl) / len(pnl))
    assert metrics.average_win == pytest.approx(sum(wins) / len(wins))
    assert metrics.average_loss == pytest.approx(sum(losses) / len(losses))
    assert (metrics.best_trade, metrics.worst_trade) == (max(pnl), min(pnl))


def test_sample_trade_statistics_by_hand() -> None:
    metrics = compute_metrics(sample_equity(), sample_trades(), sample_fills(), STARTING_CASH)

    assert (metrics.expectancy, metrics.average_win, metrics.average_loss) == (28.0, 98.0, -42.0)
    assert (metrics.best_trade, metrics.worst_trade) == (98.0, -42.0)
    # fills: 10 x (100 + 110 + 108 + 104) = 4,220 traded; mean equity of the nine bars
    mean_equity = sum(sample_equity()["equity"]) / 9
    assert metrics.turnover == pytest.approx(4220 / mean_equity)


def test_turnover_and_fees_match_a_loop_over_fills(random_curve: pl.DataFrame) -> None:
    rng = np.random.default_rng(5)
    count = 40
    fills = fills_frame(
        random_curve["ts"].gather(np.sort(rng.choice(random_curve.height, count, replace=False))).to_list(),
        ["BUY", "SELL"] * (count // 2),
        rng.integers(1, 50, count).astype(float),
        rng.uniform(90, 110, count),
        rng.uniform(0.5, 2.0, count),
    )

    metrics = compute_metrics(random_curve, empty_trades(), fills, STARTING_CASH)

    traded = sum(abs(q) * p for q, p in zip(fills["quantity"], fills["price"], strict=True))
    equity = random_curve["equity"].to_list()
    assert metrics.turnover == pytest.approx(traded / (sum(equity) / len(equity)))
    assert metrics.fees == pytest.approx(sum(fills["commission"].to_list()))
    positions = random_curve["position_qty"].to_list()
    assert metrics.exposure == pytest.approx(sum(1 for q in positions if q != 0) / len(positions))


@pytest.mark.parametrize("cash", [STARTING_CASH, None])
def test_drawdown_table_matches_a_bar_by_bar_walk(random_curve: pl.DataFrame, cash: float | None) -> None:
    frame = random_curve.to_pandas()
    expected = reference_episodes(frame["ts"].tolist(), frame["equity"].tolist(), cash)

    table = drawdown_table(random_curve, cash, top=5)

    assert table.schema == DRAWDOWN_SCHEMA
    assert table["rank"].to_list() == [1, 2, 3, 4, 5]
    assert table["depth"].to_list() == pytest.approx([episode["depth"] for episode in expected[:5]])
    assert table["duration_days"].to_list() == pytest.approx([e["duration_days"] for e in expected[:5]])
    for column in ("start", "trough", "recovery"):
        got = [None if value is None else pd.Timestamp(value) for value in table[column].to_list()]
        assert got == [episode[column] for episode in expected[:5]], column
    longest = max(episode["duration_days"] for episode in expected)
    assert drawdown_table(random_curve, cash, top=10_000)["duration_days"].max() == pytest.approx(longest)
    assert max_drawdown_duration_days(random_curve, cash) == pytest.approx(longest)


def test_equal_drawdowns_at_the_cut_keep_the_earlier_ones() -> None:
    ts = [utc(dt.date(2024, 1, 2), 14) + dt.timedelta(minutes=m) for m in range(7)]
    equity = equity_frame(ts, [1.0] * 7, [0.0] * 7, [100.0, 90.0, 100.0, 90.0, 100.0, 90.0, 100.0])

    table = drawdown_table(equity, top=2)

    assert table["depth"].to_list() == pytest.approx([0.1, 0.1])
    assert table["start"].to_list() == [ts[0], ts[2]]
    assert table["recovery"].to_list() == [ts[2], ts[4]]


def test_max_drawdown_fields_describe_the_deepest_episode(random_curve: pl.DataFrame) -> None:
    frame = random_curve.to_pandas()
    deepest = reference_episodes(frame["ts"].tolist(), frame["equity"].tolist(), STARTING_CASH)[0]

    metrics = compute_metrics(random_curve, empty_trades(), empty_fills(), STARTING_CASH)

    assert metrics.max_drawdown == pytest.approx(deepest["depth"])
    assert pd.Timestamp(metrics.max_drawdown_start) == deepest["start"]
    assert pd.Timestamp(metrics.max_drawdown_trough) == deepest["trough"]
    recovery = metrics.max_drawdown_recovery
    assert (None if recovery is None else pd.Timestamp(recovery)) == deepest["recovery"]
    assert metrics.max_drawdown_episode_days == pytest.approx(deepest["duration_days"])


def test_sample_drawdown_never_recovers() -> None:
    metrics = compute_metrics(sample_equity(), sample_trades(), sample_fills(), STARTING_CASH)

    assert metrics.max_drawdown_start == utc(dt.date(2024, 1, 2), 21)  # 10,098 after the first sale
    assert metrics.max_drawdown_trough == utc(dt.date(2024, 1, 3), 18)  # 9,977
    assert metrics.max_drawdown_recovery is None
    assert metrics.max_drawdown_episode_days == pytest.approx(2.0)


def test_alpha_beta_information_ratio_match_pandas(
    random_curve: pl.DataFrame, random_benchmark: pl.Series
) -> None:
    frame = random_curve.to_pandas().assign(bench=random_benchmark.to_numpy())
    strategy = reference_session_returns(frame, "equity", STARTING_CASH)
    bench = reference_session_returns(frame, "bench", float(random_benchmark[0]))
    rf = 0.03 / 252
    beta = strategy.cov(bench) / bench.var()
    active = strategy - bench

    metrics = compute_metrics(
        random_curve, empty_trades(), empty_fills(), STARTING_CASH, random_benchmark, risk_free_rate=0.03
    )

    assert metrics.beta == pytest.approx(beta)
    assert metrics.alpha == pytest.approx(((strategy.mean() - rf) - beta * (bench.mean() - rf)) * 252)
    assert metrics.information_ratio == pytest.approx(active.mean() / active.std() * math.sqrt(252))
    assert metrics.benchmark_total_return == pytest.approx(random_benchmark[-1] / random_benchmark[0] - 1)


def test_strategy_equal_to_its_benchmark_has_beta_one_alpha_zero() -> None:
    # First bar worth exactly the starting cash, so both return series start from the same base.
    ts = [utc(day, 21) for day in (dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4))]
    equity = equity_frame(ts, [100.0, 103.0, 99.0], [10.0] * 3, [9000.0] * 3)

    metrics = compute_metrics(equity, empty_trades(), empty_fills(), STARTING_CASH, equity["equity"])

    assert metrics.beta == pytest.approx(1.0)
    assert metrics.alpha == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(metrics.information_ratio)  # no active return at all: 0 / 0


def test_without_benchmark_relative_metrics_are_nan() -> None:
    metrics = compute_metrics(sample_equity(), sample_trades(), sample_fills(), STARTING_CASH)

    for value in (metrics.alpha, metrics.beta, metrics.information_ratio, metrics.benchmark_total_return):
        assert math.isnan(value)


def test_one_session_has_benchmark_return_but_no_beta() -> None:
    ts = [utc(dt.date(2024, 1, 2), hour) for hour in (15, 18, 21)]
    equity = equity_frame(ts, [100.0, 98.0, 99.0], [10.0, 10.0, 10.0], [9000.0] * 3)

    metrics = compute_metrics(
        equity, empty_trades(), empty_fills(), STARTING_CASH, pl.Series([10_000.0, 9_800.0, 9_900.0])
    )

    assert metrics.benchmark_total_return == pytest.approx(-0.01)
    assert math.isnan(metrics.beta) and math.isnan(metrics.alpha) and math.isnan(metrics.information_ratio)


def test_flat_equity_without_trades_has_nan_trade_stats_and_no_drawdown_episode() -> None:
    ts = [utc(day, 21) for day in (dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4))]
    flat = equity_frame(ts, [50.0, 51.0, 49.0], [0.0, 0.0, 0.0], [STARTING_CASH] * 3)

    metrics = compute_metrics(flat, empty_trades(), empty_fills(), STARTING_CASH, flat["close"] * 200)

    for value in (metrics.expectancy, metrics.average_win, metrics.average_loss, metrics.best_trade):
        assert math.isnan(value)
    assert metrics.turnover == 0.0
    assert metrics.beta == 0.0  # the benchmark moved, the strategy did not
    assert (metrics.max_drawdown_start, metrics.max_drawdown_recovery) == (None, None)
    assert metrics.max_drawdown_episode_days == 0.0
    assert drawdown_table(flat, STARTING_CASH).height == 0


def test_benchmark_of_another_length_is_rejected() -> None:
    with pytest.raises(EquityCurveError, match="benchmark has 2 values but the equity curve has 9 bars"):
        compute_metrics(sample_equity(), empty_trades(), empty_fills(), STARTING_CASH, pl.Series([1.0, 2.0]))


# --- persistence ---------------------------------------------------------------------------------------


def test_save_metrics_writes_strict_json_and_exact_parquet(tmp_path: Path) -> None:
    winners = sample_trades().filter(pl.col("pnl") > 0)
    metrics = compute_metrics(sample_equity(), winners, sample_fills(), STARTING_CASH)
    drawdowns = drawdown_table(sample_equity(), STARTING_CASH)

    paths = save_metrics(metrics, drawdowns, tmp_path)

    text = paths["metrics.json"].read_text()
    document = json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard JSON {name}"))
    assert document["profit_factor"] is None  # +inf has no JSON form
    assert document["alpha"] is None  # NaN neither
    assert document["max_drawdown_recovery"] is None
    assert document["worst_drawdowns"][0]["depth"] == pytest.approx(121 / 10098)
    assert document["worst_drawdowns"][0]["recovery"] is None
    assert (
        document["worst_drawdowns"][0]["start"]
        == document["max_drawdown_start"]
        == "2024-01-02T21:00:00+00:00"
    )
    loaded, loaded_drawdowns = load_metrics(tmp_path)
    assert loaded.profit_factor == math.inf
    assert loaded.as_dict().keys() == metrics.as_dict().keys()
    for name, value in metrics.as_dict().items():
        assert loaded.as_dict()[name] == pytest.approx(value, nan_ok=True), name
    assert loaded_drawdowns.equals(drawdowns)
    from_json = PerformanceMetrics.from_dict(document)
    assert math.isnan(from_json.profit_factor) and from_json.sharpe == pytest.approx(metrics.sharpe)


def test_metrics_saved_before_new_fields_still_load() -> None:
    old = compute_metrics(sample_equity(), sample_trades(), sample_fills(), STARTING_CASH).as_dict()
    legacy = {name: old[name] for name in list(old)[:19]}  # the fields of the original metrics files

    metrics = PerformanceMetrics.from_dict(legacy)

    assert metrics.sharpe == old["sharpe"]
    assert math.isnan(metrics.alpha) and metrics.max_drawdown_start is None


def test_numeric_metadata_is_every_number() -> None:
    metrics = compute_metrics(sample_equity(), sample_trades(), sample_fills(), STARTING_CASH)

    numeric = metrics.numeric()

    assert {"sharpe", "alpha", "turnover", "expectancy", "trade_count"} <= set(numeric)
    assert not {"start", "max_drawdown_start"} & set(numeric)
    assert all(isinstance(value, int | float) for value in numeric.values())
