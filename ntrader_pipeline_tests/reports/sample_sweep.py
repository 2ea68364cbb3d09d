"""Sweep report inputs built by hand, so the expected numbers can be read off the tables below.

`grid_inputs`: fast_period x slow_period, a full 4 x 3 grid, with trade_size a third parameter held at
100 throughout (so its pairs have a single value on one axis: no heatmap, a note). Sharpe per point:

               slow=30  slow=40  slow=50
    fast=5       0.20     0.60     0.40
    fast=10      0.50     1.40     0.90      best: fast=10, slow=40 (1.40)
    fast=15      0.30     1.10     0.70      grid neighbours: 0.60, 1.10, 0.50, 0.90 → mean 0.775, min 0.50
    fast=20      null     0.80     0.10

`sampled_inputs`: fast_period {5, 10, 20} x slow_period {30, 60, 90} x ma {"ema", "sma"} (categorical),
sampled with holes; Sharpe = BASE[fast, slow] + 0.2 for ema; best fast=10, slow=60, ma=ema (1.50).
With a three-fold walk-forward summary.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from ntrader_pipeline.reports.sweep import SweepReportInputs, WalkForwardSummary

UTC_DATETIME = pl.Datetime("ns", "UTC")

GRID_SHARPE: dict[tuple[int, int], float | None] = {
    (5, 30): 0.20,
    (5, 40): 0.60,
    (5, 50): 0.40,
    (10, 30): 0.50,
    (10, 40): 1.40,
    (10, 50): 0.90,
    (15, 30): 0.30,
    (15, 40): 1.10,
    (15, 50): 0.70,
    (20, 30): None,
    (20, 40): 0.80,
    (20, 50): 0.10,
}
GRID_NEIGHBOURS_MEAN = (0.60 + 1.10 + 0.50 + 0.90) / 4
GRID_NEIGHBOURS_MIN = 0.50

BASE_SHARPE = {
    (5, 30): 0.1,
    (5, 60): 0.7,
    (5, 90): 0.3,
    (10, 30): 0.6,
    (10, 60): 1.3,
    (10, 90): 0.8,
    (20, 30): 0.2,
    (20, 60): 0.9,
    (20, 90): 0.4,
}
# Points the random sampler did not draw.
SAMPLED_HOLES = frozenset({(20, 90, "ema"), (20, 60, "sma"), (5, 90, "sma"), (20, 30, "sma")})


def _metrics(sharpe: float | None, index: int) -> dict[str, object]:
    if sharpe is None:
        return {
            "sharpe": None,
            "sortino": None,
            "total_return": 0.0,
            "cagr": 0.0,
            "annual_volatility": 0.0,
            "max_drawdown": 0.0,
            "calmar": None,
            "trade_count": 0,
            "win_rate": None,
            "profit_factor": None,
            "exposure": 0.0,
            "fees": 0.0,
            "final_equity": 10_000.0,
        }
    total_return = round(sharpe * 0.08, 6)
    return {
        "sharpe": sharpe,
        "sortino": round(sharpe * 1.3, 6),
        "total_return": total_return,
        "cagr": round(total_return * 1.5, 6),
        "annual_volatility": 0.12,
        "max_drawdown": round(0.20 - sharpe * 0.08, 6),
        "calmar": round(sharpe * 0.9, 6),
        "trade_count": 10 + index,
        "win_rate": 0.5,
        "profit_factor": float("inf") if index == 3 else round(1 + sharpe / 2, 6),
        "exposure": 0.4,
        "fees": 12.0 + index,
        "final_equity": round(10_000 * (1 + total_return), 2),
    }


def grid_results() -> pl.DataFrame:
    rows = [
        {"point": f"g{index:02d}", "fast_period": fast, "slow_period": slow, "trade_size": 100}
        | _metrics(sharpe, index)
        for index, ((fast, slow), sharpe) in enumerate(GRID_SHARPE.items())
    ]
    return pl.DataFrame(rows, infer_schema_length=None)


def grid_inputs(**changes: object) -> SweepReportInputs:
    fields: dict[str, object] = {
        "sweep": "sma_grid",
        "instrument_id": "SPY.ARCA",
        "strategy": "ntrader_pipeline.strategies.sma_cross:SmaCross",
        "metric": "sharpe",
        "parameters": ("fast_period", "slow_period", "trade_size"),
        "results": grid_results(),
        "provenance": {"config_hash": "c0ffee" * 6, "results_hash": "beef" * 8, "window": "2024-01..2024-06"},
    }
    return SweepReportInputs(**(fields | changes))  # type: ignore[arg-type]


def sampled_sharpe(fast: int, slow: int, ma: str) -> float:
    return round(BASE_SHARPE[fast, slow] + (0.2 if ma == "ema" else 0.0), 6)


def sampled_results() -> pl.DataFrame:
    rows = []
    for (fast, slow), _ in BASE_SHARPE.items():
        for ma in ("ema", "sma"):
            if (fast, slow, ma) in SAMPLED_HOLES:
                continue
            index = len(rows)
            rows.append(
                {"point": f"s{index:02d}", "fast_period": fast, "slow_period": slow, "ma": ma}
                | _metrics(sampled_sharpe(fast, slow, ma), index)
            )
    return pl.DataFrame(rows, infer_schema_length=None)


FOLDS = pl.DataFrame(
    {
        "fold": [0, 1, 2],
        "is_start": [dt.date(2024, 1, 2), dt.date(2024, 2, 1), dt.date(2024, 3, 1)],
        "is_end": [dt.date(2024, 3, 29), dt.date(2024, 4, 30), dt.date(2024, 5, 31)],
        "oos_start": [dt.date(2024, 4, 1), dt.date(2024, 5, 1), dt.date(2024, 6, 3)],
        "oos_end": [dt.date(2024, 4, 30), dt.date(2024, 5, 31), dt.date(2024, 6, 28)],
        "point": ["s07", "s03", "s07"],
        "parameters": [
            "fast_period=10, slow_period=60, ma=ema",
            "fast_period=5, slow_period=60, ma=sma",
            "fast_period=10, slow_period=60, ma=ema",
        ],
        "is_metric": [1.62, 1.35, 1.48],
        "oos_metric": [0.91, -0.24, 0.57],
        "compared": ["sharpe"] * 3,  # an annualized selection metric is compared as itself
        "is_compared": [1.62, 1.35, 1.48],
        "oos_compared": [0.91, -0.24, 0.57],
        "degradation": [0.91 - 1.62, -0.24 - 1.35, 0.57 - 1.48],
        "oos_return": [0.021, -0.008, 0.013],
    }
)
# Per-session Sharpe ratios x √252 = the annualized ones: 0.0945 x 15.875 = 1.50, 0.0696 x 15.875 = 1.10.
OVERFITTING: dict[str, float | int | bool | None] = {
    "deflated_sharpe_ratio": 0.6234,
    "probabilistic_sharpe_ratio": 0.9712,
    "expected_max_sharpe": 1.1047 / 252**0.5,
    "expected_max_sharpe_annualized": 1.1047,
    "observed_sharpe": 1.5 / 252**0.5,
    "observed_sharpe_annualized": 1.5,
    "trials": 14,
    "trials_traded": 13,
    "effective_trials": 8.2,
    "average_correlation": 0.4,
    "dsr_trials": 8.2,
    "periods_per_year": 252,
    "identical_trials": False,
    "pbo": 0.5714,
    "pbo_combinations": 70,
    "probability_of_loss": 0.3143,
    "degradation_slope": None,
}
OOS_METRICS = {"sharpe": 0.4321, "total_return": 0.0259, "max_drawdown": 0.0412, "cagr": 0.0531}


def oos_equity() -> pl.DataFrame:
    """Three folds of 4 weekday sessions x 3 bars (10:00, 13:00, 16:00 New York), equity chained."""
    starts = (dt.date(2024, 4, 1), dt.date(2024, 5, 1), dt.date(2024, 6, 3))
    ts, equity, fold = [], [], []
    value = 10_000.0
    for number, start in enumerate(starts):
        day = start
        sessions = 0
        while sessions < 4:
            if day.weekday() < 5:
                for hour in (14, 17, 20):
                    ts.append(dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC))
                    value *= 1 + (0.002 if number != 1 else -0.001) * (1 if hour != 17 else -0.5)
                    equity.append(round(value, 2))
                    fold.append(number)
                sessions += 1
            day += dt.timedelta(days=1)
    return pl.DataFrame({"ts": ts, "equity": equity, "fold": fold}, schema_overrides={"ts": UTC_DATETIME})


def walk_forward_summary() -> WalkForwardSummary:
    return WalkForwardSummary(
        mode="rolling",
        metric="sharpe",
        folds=FOLDS,
        oos_equity=oos_equity(),
        oos_metrics=OOS_METRICS,
        overfitting=OVERFITTING,
    )


def sampled_inputs(**changes: object) -> SweepReportInputs:
    fields: dict[str, object] = {
        "sweep": "ma_sampled",
        "instrument_id": "QQQ.NASDAQ",
        "strategy": "ntrader_pipeline.strategies.ma_cross:MaCross",
        "metric": "sharpe",
        "parameters": ("fast_period", "slow_period", "ma"),
        "results": sampled_results(),
        "walk_forward": walk_forward_summary(),
        "provenance": {"config_hash": "abc123", "data_version": "v7"},
    }
    return SweepReportInputs(**(fields | changes))  # type: ignore[arg-type]
