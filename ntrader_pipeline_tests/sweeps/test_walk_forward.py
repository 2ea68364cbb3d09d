"""Walk-forward out of sample on daily bars built by hand: folds warmed up on the bars before them, and
degradation measured on annualized metrics.

The bars: NYSE sessions 2023-01-03..2024-06-28 (374), one daily bar each stamped 00:00 UTC of its session
(where IB stamps a daily bar), closes rising 0.1 % a session. Momentum with a 200-bar lookback and entry
rate of change 0 is long whenever it is warm: its first order is at bar 200, and within a 42-session fold
alone it is never warm (42 < 201 closes), so a cold out-of-sample run never trades.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from nautilus_trader.config import StrategyConfig
from nautilus_trader.core.datetime import dt_to_unix_nanos
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.trading.strategy import Strategy

from ntrader_pipeline.analytics.session_metrics import curve_metrics
from ntrader_pipeline.backtest.run import BacktestInputs, run_strategy
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.sweeps.declarations import SweepDeclaration
from ntrader_pipeline.sweeps.folds import walk_forward_folds
from ntrader_pipeline.sweeps.points import session_closes
from ntrader_pipeline.sweeps.results import PointCurves
from ntrader_pipeline.sweeps.walk_forward import (
    WalkForwardError,
    fold_degradation,
    run_walk_forward,
)
from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity

WINDOW = (dt.date(2023, 1, 3), dt.date(2024, 6, 28))
STARTING_CASH = 100_000.0


def _daily_bars(instrument, sessions) -> list[Bar]:
    bar_type = BarType.from_str(f"{instrument.id}-1-DAY-LAST-EXTERNAL")
    bars = []
    for i, session in enumerate(sessions):
        close = round(100.0 * 1.001**i, 2)
        ts = dt_to_unix_nanos(session.date_start)
        bars.append(
            Bar(
                bar_type=bar_type,
                open=Price(close, 2),
                high=Price(close + 0.5, 2),
                low=Price(close - 0.5, 2),
                close=Price(close, 2),
                volume=Quantity(1_000_000, 0),
                ts_event=ts,
                ts_init=ts,
            )
        )
    return bars


def _sweep(**changes: object) -> SweepDeclaration:
    fields = {
        "name": "daily_momentum",
        "strategy": "momentum",
        "grid": {"lookback": [200, 210]},
        "parameters": {"entry_roc": 0.0, "exit_roc": 0.5},
        "metric": "sharpe",
        "walk_forward": {
            "mode": "rolling",
            "folds": 3,
            "out_of_sample_sessions": 42,
            "in_sample_sessions": 126,
        },
        "instruments": ["SPY.ARCA"],
        "window": {"start": WINDOW[0].isoformat(), "end": WINDOW[1].isoformat()},
        "bar_spec": "1-DAY-LAST",
        "sizing": {"method": "fixed_shares", "size": 100},
        "index_instrument": "SPY.ARCA",
        "starting_cash": STARTING_CASH,
    }
    return SweepDeclaration.model_validate(fields | changes)


@pytest.fixture(scope="module")
def daily() -> tuple[SweepDeclaration, BacktestInputs, PointCurves]:
    instrument = ib_equity()
    sessions = sessions_between(*WINDOW)
    inputs = BacktestInputs(
        instrument_id=str(instrument.id),
        instrument=instrument,
        bars=_daily_bars(instrument, sessions),
        sessions=sessions,
        checked=[],
        index_bars=None,
        files=[],
        data_version="hand-built",
        actions=[],
    )
    sweep = _sweep()
    closes = [session_closes(run_strategy(sweep.point_declaration(p), inputs)) for p in sweep.points()]
    curves = PointCurves(
        sweep.points(),
        closes[0]["ts"],
        np.column_stack([c["equity"].to_numpy() for c in closes]),
        STARTING_CASH,
    )
    return sweep, inputs, curves


def test_a_200_bar_lookback_trades_out_of_sample_after_its_warm_up(daily) -> None:
    sweep, inputs, curves = daily
    assert len(inputs.sessions) == 374
    result = run_walk_forward(sweep, inputs, curves)
    folds = walk_forward_folds([s.date for s in inputs.sessions], 3, "rolling", 42, 126)

    # Before: a fold's bars alone never warm a 200-bar lookback, so a cold run never trades.
    for fold in folds:
        cold_bars = [
            b for s, b in zip(inputs.sessions, inputs.bars, strict=True) if s.date >= fold.out_of_sample[0]
        ]
        cold_bars = cold_bars[: fold.out_of_sample_sessions]
        cold = run_strategy(sweep.point_declaration(sweep.points()[0]), _with_bars(inputs, cold_bars))
        assert cold.fills.height == 0

    # After: every fold buys at its first bar (the strategy is warm and long there) and holds.
    assert result.folds["oos_fills"].to_list() == [1, 1, 1]
    equity = result.oos_equity
    for fold in folds:
        rows = equity.filter(pl.col("fold") == fold.index)
        assert rows.height == 42
        first_session = rows["ts"][0].date()
        assert first_session == fold.out_of_sample[0]  # a daily bar at 00:00 UTC is its own session
    assert (result.folds["oos_return"] > 0).all()
    # Chained: the stitched end is the product of the folds' returns.
    expected = STARTING_CASH * math.prod(1 + r for r in result.folds["oos_return"])
    assert equity["equity"][-1] == pytest.approx(expected, rel=1e-12)


def test_the_out_of_sample_run_counts_only_from_the_fold_start(daily) -> None:
    sweep, inputs, curves = daily
    result = run_walk_forward(sweep, inputs, curves)
    fold = result.folds.row(0, named=True)
    rows = result.oos_equity.filter(pl.col("fold") == 0)
    # Bought 100 shares at the fold's first close; commission at most 1 % of the value (IBKR fixed).
    first_close = 100.0 * 1.001 ** (374 - 3 * 42)
    assert rows["equity"][0] == pytest.approx(STARTING_CASH, abs=0.01 * 100 * first_close)
    assert rows["equity"][0] <= STARTING_CASH
    assert fold["oos_return"] == pytest.approx(rows["equity"][-1] / STARTING_CASH - 1.0, rel=1e-12)


def test_a_strategy_that_cannot_be_warmed_up_is_named(daily) -> None:
    sweep, inputs, curves = daily
    unwarmable = sweep.model_copy(
        update={"strategy": "ntrader_pipeline_tests.sweeps.test_walk_forward:NoWarmUp"}
    )
    with pytest.raises(WalkForwardError, match="has no `trade_from` field"):
        run_walk_forward(unwarmable, inputs, curves)


def test_a_steady_ten_percent_a_year_shows_no_degradation() -> None:
    # 126 in-sample then 42 out-of-sample sessions growing 10 %/yr: total return 4.88 % vs 1.60 %, but the
    # same 10 % CAGR on both sides.
    growth = 1.10 ** (1 / 252)
    in_sample = 100.0 * growth ** np.arange(1, 127)
    out_of_sample = in_sample[-1] * growth ** np.arange(1, 43)
    is_metrics = curve_metrics(in_sample, 100.0)
    oos_metrics = curve_metrics(out_of_sample, float(in_sample[-1]))
    assert is_metrics["total_return"] == pytest.approx(1.1**0.5 - 1)  # 4.88 %
    assert oos_metrics["total_return"] == pytest.approx(1.1 ** (1 / 6) - 1)  # 1.60 %
    # Before: total return OOS - IS = -3.28 points.
    assert oos_metrics["total_return"] - is_metrics["total_return"] == pytest.approx(-0.0328, abs=5e-5)

    for metric in ("total_return", "calmar", "cagr"):
        before, after, degradation = fold_degradation(metric, is_metrics, oos_metrics)
        assert before == pytest.approx(0.10, rel=1e-12) and after == pytest.approx(0.10, rel=1e-12)
        assert degradation == pytest.approx(0.0, abs=1e-12)


def _with_bars(inputs: BacktestInputs, bars: list[Bar]) -> BacktestInputs:
    return replace(inputs, bars=bars)


class NoWarmUpConfig(StrategyConfig, frozen=True):
    """A user strategy's config without `trade_from`: nothing tells it to sit out a warm-up."""

    instrument_id: InstrumentId
    bar_type: BarType
    lookback: int = 1
    entry_roc: float = 0.0
    exit_roc: float = 0.0


class NoWarmUp(Strategy):
    def __init__(self, config: NoWarmUpConfig) -> None:
        super().__init__(config)
