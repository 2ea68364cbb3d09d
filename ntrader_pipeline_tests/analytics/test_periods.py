"""Monthly, yearly and rolling statistics against pandas computed independently."""

import math

import pandas as pd
import polars as pl
import pytest

from ntrader_pipeline.analytics import daily_returns
from ntrader_pipeline.analytics.periods import monthly_returns, rolling_sharpe, yearly_returns
from ntrader_pipeline_tests.analytics.sample_backtest import STARTING_CASH, random_equity


@pytest.fixture(scope="module")
def daily() -> pl.DataFrame:
    # 400 sessions from March 2024: crosses a year end and 14 month ends.
    return daily_returns(random_equity(8000, seed=21, bars_per_session=20, bar_minutes=15), STARTING_CASH)


def _pandas_returns(daily: pl.DataFrame) -> pd.Series:
    frame = daily.to_pandas()
    return pd.Series(frame["daily_return"].to_numpy(), index=pd.to_datetime(frame["session_date"]))


def test_monthly_returns_compound_sessions_like_pandas_resample(daily: pl.DataFrame) -> None:
    expected = (1 + _pandas_returns(daily)).resample("ME").prod() - 1

    monthly = monthly_returns(daily)

    assert monthly.height == len(expected) > 12
    assert monthly["year"].to_list() == list(expected.index.year)
    assert monthly["month"].to_list() == list(expected.index.month)
    assert monthly["return"].to_list() == pytest.approx(expected.tolist())


def test_yearly_returns_chain_to_the_total_return(daily: pl.DataFrame) -> None:
    expected = (1 + _pandas_returns(daily)).resample("YE").prod() - 1

    yearly = yearly_returns(daily)

    assert yearly["year"].to_list() == [2024, 2025]
    assert yearly["return"].to_list() == pytest.approx(expected.tolist())
    final = daily["equity"][-1] / STARTING_CASH
    assert math.prod(1 + value for value in yearly["return"]) == pytest.approx(final)


def test_rolling_sharpe_matches_pandas_rolling_window(daily: pl.DataFrame) -> None:
    returns = _pandas_returns(daily)
    expected = returns.rolling(126).mean() / returns.rolling(126).std() * math.sqrt(252)

    rolling = rolling_sharpe(daily, 126)

    assert rolling["rolling_sharpe"].null_count() == 125  # no value before a full window
    assert rolling["rolling_sharpe"].to_list()[125:] == pytest.approx(expected.tolist()[125:])


def test_rolling_sharpe_of_a_flat_window_is_nan() -> None:
    flat = pl.DataFrame(
        {
            "session_date": pl.date_range(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-05"), eager=True),
            "daily_return": [0.0] * 5,
        }
    )

    values = rolling_sharpe(flat, 3)["rolling_sharpe"].to_list()

    assert values[:2] == [None, None]
    assert all(math.isnan(value) for value in values[2:])
