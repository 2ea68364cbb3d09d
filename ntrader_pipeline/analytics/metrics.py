"""Performance metrics of one backtest, computed from its marked-to-market equity curve, fills and trades.

Conventions (the same for every metric):
- Returns-based statistics use daily session returns (see `daily_returns`): the last equity of each
  exchange-local session date, with `starting_cash` as the value before the first session.
- `periods_per_year` is sessions per year. It annualizes volatility, Sharpe and Sortino (√periods) and
  turns the session count into years for CAGR (years = sessions / periods_per_year), so a curve is
  measured in trading time whatever its bar size. `risk_free_rate` is annual, spread evenly per session.
- Drawdowns use every bar (full resolution), with `starting_cash` as the first peak. The max drawdown's
  start (its peak), trough and recovery (None if never recovered) are those of the deepest episode of
  `drawdown_table`; `max_drawdown_episode_days` is that episode's length, `max_drawdown_duration_days`
  the longest time under water of any episode.
- Trades: a win has pnl > 0, a loss pnl < 0 (break-even counts in `trade_count` and `expectancy` only).
  `expectancy` is the mean pnl per trade; `average_win`/`average_loss` the mean pnl of wins/losses (the
  loss is negative); `best_trade`/`worst_trade` the largest/smallest pnl. All trade pnl is net of fees.
- Time in market (`exposure`) is the fraction of bars holding a position (position_qty ≠ 0). `turnover`
  is traded notional (Σ |quantity| x price of every fill) over the mean equity. Fees are the sum of fill
  commissions.
- Benchmark (optional `benchmark`: its equity at every bar of `equity`, e.g. buy-and-hold): daily session
  returns taken at the same bars as the strategy's, the first against the benchmark's first value.
  beta = cov(strategy, benchmark) / var(benchmark) (ddof 1); alpha is annualized:
  (mean excess strategy return - beta x mean excess benchmark return) x periods_per_year; information
  ratio = mean active return / tracking error (std of active returns, ddof 1) x √periods_per_year.
  Without a benchmark these are NaN.
- A ratio whose denominator is zero is NaN when its numerator is zero too (undefined: flat equity, no
  trades) and ±inf otherwise (unbounded: profit factor with no losing trade). Sharpe, annual volatility,
  beta, alpha and information ratio need two sessions; with one they are NaN. A trade average with no
  trade is NaN. The only None is a max drawdown that has no episode or no recovery.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from ntrader_pipeline.analytics.curves import EquityCurveError, session_last_rows, validate_equity
from ntrader_pipeline.analytics.drawdowns import drawdown_episodes

_TIMESTAMP_FIELDS = ("start", "end", "max_drawdown_start", "max_drawdown_trough", "max_drawdown_recovery")


@dataclass(frozen=True, slots=True)
class PerformanceMetrics:
    """Fractions are plain fractions (0.12 = 12 %); `max_drawdown` is positive; money is account currency.

    Fields after `fees` have defaults so metrics saved before they existed still load.
    """

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
    max_drawdown_start: dt.datetime | None = None
    max_drawdown_trough: dt.datetime | None = None
    max_drawdown_recovery: dt.datetime | None = None
    max_drawdown_episode_days: float = math.nan
    expectancy: float = math.nan
    average_win: float = math.nan
    average_loss: float = math.nan
    best_trade: float = math.nan
    worst_trade: float = math.nan
    turnover: float = math.nan
    benchmark_total_return: float = math.nan
    alpha: float = math.nan
    beta: float = math.nan
    information_ratio: float = math.nan

    def as_dict(self) -> dict[str, float | int | str | None]:
        """Field name → value, timestamps as ISO-8601 strings (None stays None); NaN and inf are kept as
        floats (Dagster float metadata stores and displays them; `save_metrics` nulls them for JSON)."""
        values = asdict(self)
        for name in _TIMESTAMP_FIELDS:
            stamp = getattr(self, name)
            values[name] = stamp.isoformat() if stamp is not None else None
        return values

    def numeric(self) -> dict[str, float | int]:
        """Only the numeric fields: what is emitted as Dagster metadata to be graphed across runs."""
        return {k: v for k, v in self.as_dict().items() if isinstance(v, int | float)}

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> PerformanceMetrics:
        """Inverse of `as_dict`, also of its JSON form: null → NaN for a float, keys that are not fields
        (such as `worst_drawdowns` in metrics.json) are ignored, missing newer fields take defaults."""
        known = {field.name: field for field in dataclasses.fields(cls)}
        fields: dict[str, object] = {}
        for name, value in values.items():
            if name not in known:
                continue
            if name in _TIMESTAMP_FIELDS:
                fields[name] = dt.datetime.fromisoformat(str(value)) if value is not None else None
            elif value is None:
                fields[name] = math.nan
            else:
                fields[name] = value
        return cls(**fields)  # type: ignore[arg-type]


def compute_metrics(
    equity: pl.DataFrame,
    trades: pl.DataFrame,
    fills: pl.DataFrame,
    starting_cash: float,
    benchmark: pl.Series | None = None,
    *,
    periods_per_year: int = 252,
    risk_free_rate: float = 0.0,
) -> PerformanceMetrics:
    """Measure one backtest; see the module docstring for definitions and NaN/inf conventions."""
    _check_inputs(equity, starting_cash, benchmark)
    values = equity["equity"].to_numpy()
    _, last_rows = session_last_rows(equity["ts"])
    daily = _session_returns(values, last_rows, starting_cash)
    per_session_rf = risk_free_rate / periods_per_year
    returns = _return_metrics(values, daily, starting_cash, per_session_rf, periods_per_year)
    return PerformanceMetrics(
        start=equity["ts"][0],
        end=equity["ts"][-1],
        bar_count=equity.height,
        session_count=int(daily.size),
        starting_cash=float(starting_cash),
        **returns,
        **_drawdown_metrics(equity, starting_cash, cagr=returns["cagr"]),
        **_trade_metrics(trades),
        **_activity_metrics(values, equity, fills),
        **_relative_to_benchmark(
            daily, benchmark, last_rows, per_session_rf, periods_per_year=periods_per_year
        ),
    )


def _check_inputs(equity: pl.DataFrame, starting_cash: float, benchmark: pl.Series | None) -> None:
    validate_equity(equity, required=("ts", "position_qty", "equity"))
    if not starting_cash > 0:
        raise EquityCurveError(f"starting_cash must be positive to measure returns, got {starting_cash}")
    if benchmark is not None and benchmark.len() != equity.height:
        raise EquityCurveError(
            f"benchmark has {benchmark.len()} values but the equity curve has {equity.height} bars: "
            "give the benchmark's equity at every bar of the curve (benchmarks.parquet `ts` = equity `ts`)"
        )


def _session_returns(values: np.ndarray, last_rows: np.ndarray, starting_cash: float) -> np.ndarray:
    """Session-over-session returns of the last equity of each session, the first against the cash."""
    session_equity = values[last_rows]
    return session_equity / np.concatenate(([starting_cash], session_equity[:-1])) - 1.0


def _return_metrics(
    values: np.ndarray,
    daily: np.ndarray,
    starting_cash: float,
    per_session_rf: float,
    periods_per_year: int,
) -> dict[str, float]:
    """Growth, volatility and the risk-adjusted ratios (Sharpe and volatility need two sessions)."""
    final_equity = float(values[-1])
    excess = daily - per_session_rf
    annualizer = math.sqrt(periods_per_year)
    daily_std = float(np.std(daily, ddof=1)) if daily.size > 1 else math.nan
    downside_deviation = float(np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2)))
    mean_excess = float(np.mean(excess))
    return {
        "final_equity": final_equity,
        "total_return": final_equity / starting_cash - 1.0,
        "cagr": compound_annual_growth(final_equity / starting_cash, years=daily.size / periods_per_year),
        "annual_volatility": daily_std * annualizer,
        "sharpe": ratio(mean_excess, daily_std) * annualizer if daily.size > 1 else math.nan,
        "sortino": ratio(mean_excess, downside_deviation) * annualizer,
    }


def _drawdown_metrics(equity: pl.DataFrame, starting_cash: float, *, cagr: float) -> dict[str, object]:
    """The deepest episode's depth, dates and length, the longest time under water, and Calmar."""
    episodes = drawdown_episodes(equity, starting_cash)
    worst = episodes.worst(1)
    max_drawdown = float(worst["depth"][0]) if worst.height else 0.0
    return {
        "max_drawdown": max_drawdown,
        "max_drawdown_duration_days": episodes.longest_days(),
        "calmar": ratio(cagr, max_drawdown),
        "max_drawdown_start": worst["start"][0] if worst.height else None,
        "max_drawdown_trough": worst["trough"][0] if worst.height else None,
        "max_drawdown_recovery": worst["recovery"][0] if worst.height else None,
        "max_drawdown_episode_days": float(worst["duration_days"][0]) if worst.height else 0.0,
    }


def _trade_metrics(trades: pl.DataFrame) -> dict[str, float | int]:
    pnl = trades["pnl"].to_numpy() if trades.height else np.empty(0)
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    return {
        "trade_count": trades.height,
        "win_rate": ratio(float(wins.size), float(pnl.size)),
        "profit_factor": ratio(float(wins.sum()), -float(losses.sum())),
        "expectancy": _mean(pnl),
        "average_win": _mean(wins),
        "average_loss": _mean(losses),
        "best_trade": float(pnl.max()) if pnl.size else math.nan,
        "worst_trade": float(pnl.min()) if pnl.size else math.nan,
    }


def _activity_metrics(values: np.ndarray, equity: pl.DataFrame, fills: pl.DataFrame) -> dict[str, float]:
    """Time in market, fees, and turnover (traded notional over the mean equity)."""
    notional = float((fills["quantity"].abs() * fills["price"]).sum()) if fills.height else 0.0
    return {
        "exposure": float((equity["position_qty"] != 0).mean()),
        "fees": float(fills["commission"].sum()) if fills.height else 0.0,
        "turnover": ratio(notional, float(np.mean(values))),
    }


def _relative_to_benchmark(
    daily: np.ndarray,
    benchmark: pl.Series | None,
    last_rows: np.ndarray,
    per_session_rf: float,
    *,
    periods_per_year: int,
) -> dict[str, float]:
    if benchmark is None:
        return {}
    bench_values = benchmark.cast(pl.Float64).to_numpy()
    bench_session = bench_values[last_rows]
    bench_daily = bench_session / np.concatenate(([bench_values[0]], bench_session[:-1])) - 1.0
    total = float(bench_values[-1] / bench_values[0] - 1.0)
    if daily.size < 2:
        return {"benchmark_total_return": total}
    covariance = np.cov(daily, bench_daily, ddof=1)
    beta = ratio(float(covariance[0, 1]), float(covariance[1, 1]))
    alpha = (
        (float(np.mean(daily)) - per_session_rf) - beta * (float(np.mean(bench_daily)) - per_session_rf)
    ) * periods_per_year
    active = daily - bench_daily
    information_ratio = ratio(float(np.mean(active)), float(np.std(active, ddof=1))) * math.sqrt(
        periods_per_year
    )
    return {
        "benchmark_total_return": total,
        "alpha": alpha,
        "beta": beta,
        "information_ratio": information_ratio,
    }


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator; 0/0 (or NaN) → NaN, x/0 → ±inf."""
    if math.isnan(numerator) or math.isnan(denominator):
        return math.nan
    if denominator == 0.0:
        return math.nan if numerator == 0.0 else math.copysign(math.inf, numerator)
    return numerator / denominator


def compound_annual_growth(growth: float, *, years: float) -> float:
    if growth <= 0.0:
        return -1.0  # the account was wiped out; no real rate compounds to zero or below
    with np.errstate(over="ignore"):
        return float(np.power(growth, 1.0 / years)) - 1.0
