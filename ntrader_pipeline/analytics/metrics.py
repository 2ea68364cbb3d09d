"""Performance metrics of one backtest, computed from its marked-to-market equity curve, fills and trades.

Conventions (the same for every metric):
- Returns-based statistics use daily session returns (see `daily_returns`): the last equity of each
  exchange-local session date, with `starting_cash` as the value before the first session.
- `periods_per_year` is sessions per year. It annualizes volatility, Sharpe and Sortino (√periods) and
  turns the session count into years for CAGR (years = sessions / periods_per_year), so a curve is
  measured in trading time whatever its bar size. `risk_free_rate` is annual, spread evenly per session.
- Drawdowns use every bar (full resolution), with `starting_cash` as the first peak.
- Trades: a win has pnl > 0, a loss pnl < 0 (break-even counts in `trade_count` only). Exposure is the
  fraction of bars holding a position (position_qty ≠ 0). Fees are the sum of fill commissions.
- A ratio whose denominator is zero is NaN when its numerator is zero too (undefined: flat equity, no
  trades) and ±inf otherwise (unbounded: profit factor with no losing trade). Sharpe and annual
  volatility need two sessions; with one they are NaN. Nothing is ever None.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from ntrader_pipeline.analytics.curves import (
    EquityCurveError,
    daily_returns,
    drawdown_series,
    max_drawdown_duration_days,
    validate_equity,
)


@dataclass(frozen=True, slots=True)
class PerformanceMetrics:
    """Fractions are plain fractions (0.12 = 12 %); `max_drawdown` is positive."""

    start: dt.datetime
    end: dt.datetime
    bar_count: int
    session_count: int
    starting_cash: float
    final_equity: float
    total_return: float
    cagr: float
    annual_volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float
    max_drawdown_duration_days: float
    calmar: float
    trade_count: int
    win_rate: float
    profit_factor: float
    exposure: float
    fees: float

    def as_dict(self) -> dict[str, float | int | str]:
        """Field name → value, timestamps as ISO-8601 strings; NaN and inf are kept as floats (Dagster
        float metadata stores and displays them)."""
        values = asdict(self)
        values["start"] = self.start.isoformat()
        values["end"] = self.end.isoformat()
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, float | int | str]) -> PerformanceMetrics:
        """Inverse of `as_dict` (e.g. for metrics read back from JSON)."""
        fields = dict(values)
        fields["start"] = dt.datetime.fromisoformat(str(values["start"]))
        fields["end"] = dt.datetime.fromisoformat(str(values["end"]))
        return cls(**fields)  # type: ignore[arg-type]


def compute_metrics(
    equity: pl.DataFrame,
    trades: pl.DataFrame,
    fills: pl.DataFrame,
    starting_cash: float,
    *,
    periods_per_year: int = 252,
    risk_free_rate: float = 0.0,
) -> PerformanceMetrics:
    """Measure one backtest; see the module docstring for definitions and NaN/inf conventions."""
    validate_equity(equity, required=("ts", "position_qty", "equity"))
    if not starting_cash > 0:
        raise EquityCurveError(f"starting_cash must be positive to measure returns, got {starting_cash}")

    daily = daily_returns(equity, starting_cash)["daily_return"].to_numpy()
    excess = daily - risk_free_rate / periods_per_year
    annualizer = math.sqrt(periods_per_year)
    daily_std = float(np.std(daily, ddof=1)) if daily.size > 1 else math.nan
    downside_deviation = float(np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2)))
    mean_excess = float(np.mean(excess))

    final_equity = float(equity["equity"][-1])
    cagr = _compound_annual_growth(final_equity / starting_cash, years=daily.size / periods_per_year)
    max_drawdown = -float(drawdown_series(equity, starting_cash)["drawdown"].min())
    pnl = trades["pnl"].to_numpy() if trades.height else np.empty(0)
    gross_profit = float(pnl[pnl > 0].sum())
    gross_loss = -float(pnl[pnl < 0].sum())

    return PerformanceMetrics(
        start=equity["ts"][0],
        end=equity["ts"][-1],
        bar_count=equity.height,
        session_count=int(daily.size),
        starting_cash=float(starting_cash),
        final_equity=final_equity,
        total_return=final_equity / starting_cash - 1.0,
        cagr=cagr,
        annual_volatility=daily_std * annualizer,
        sharpe=_ratio(mean_excess, daily_std) * annualizer if daily.size > 1 else math.nan,
        sortino=_ratio(mean_excess, downside_deviation) * annualizer,
        max_drawdown=max_drawdown,
        max_drawdown_duration_days=max_drawdown_duration_days(equity, starting_cash),
        calmar=_ratio(cagr, max_drawdown),
        trade_count=trades.height,
        win_rate=_ratio(float((pnl > 0).sum()), float(pnl.size)),
        profit_factor=_ratio(gross_profit, gross_loss),
        exposure=float((equity["position_qty"] != 0).mean()),
        fees=float(fills["commission"].sum()) if fills.height else 0.0,
    )


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator; 0/0 (or NaN) → NaN, x/0 → ±inf."""
    if math.isnan(numerator) or math.isnan(denominator):
        return math.nan
    if denominator == 0.0:
        return math.nan if numerator == 0.0 else math.copysign(math.inf, numerator)
    return numerator / denominator


def _compound_annual_growth(growth: float, *, years: float) -> float:
    if growth <= 0.0:
        return -1.0  # the account was wiped out; no real rate compounds to zero or below
    with np.errstate(over="ignore"):
        return float(np.power(growth, 1.0 / years)) - 1.0
