"""Equity-curve metrics of a run of session closes: what walk-forward folds are judged by.

The same conventions as `metrics.compute_metrics` (daily session returns, the value before the first
session as the start, √periods annualization, zero risk-free rate), but from session closes alone, so a
slice of a longer run (an in-sample fold) is measured like a run of its own. The drawdown is taken at
session closes, so it can be shallower than `compute_metrics`' bar-level one.
"""

from __future__ import annotations

import math

import numpy as np

from ntrader_pipeline.analytics.metrics import compound_annual_growth, ratio

CURVE_METRICS = ("sharpe", "sortino", "total_return", "cagr", "annual_volatility", "max_drawdown", "calmar")


def session_returns(session_equity: np.ndarray, start_value: float) -> np.ndarray:
    values = np.asarray(session_equity, dtype=float)
    return values / np.concatenate(([start_value], values[:-1])) - 1.0


def curve_metrics(
    session_equity: np.ndarray, start_value: float, periods_per_year: int = 252
) -> dict[str, float]:
    """Sharpe, Sortino, total return, CAGR, volatility, max drawdown (a positive fraction) and Calmar of
    `session_equity` (one value per session) after starting at `start_value`."""
    values = np.asarray(session_equity, dtype=float)
    if values.size == 0 or not start_value > 0:
        return dict.fromkeys(CURVE_METRICS, math.nan)
    daily = session_returns(values, start_value)
    annualizer = math.sqrt(periods_per_year)
    std = float(np.std(daily, ddof=1)) if daily.size > 1 else math.nan
    mean = float(np.mean(daily))
    downside = float(np.sqrt(np.mean(np.minimum(daily, 0.0) ** 2)))
    growth = float(values[-1]) / start_value
    cagr = compound_annual_growth(growth, years=daily.size / periods_per_year)
    path = np.concatenate(([start_value], values))
    max_drawdown = float(np.max(1.0 - path / np.maximum.accumulate(path)))
    return {
        "sharpe": ratio(mean, std) * annualizer if daily.size > 1 else math.nan,
        "sortino": ratio(mean, downside) * annualizer,
        "total_return": growth - 1.0,
        "cagr": cagr,
        "annual_volatility": std * annualizer,
        "max_drawdown": max_drawdown,
        "calmar": ratio(cagr, max_drawdown),
    }
