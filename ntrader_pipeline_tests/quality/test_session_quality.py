import datetime as dt

import polars as pl
import pytest

from ntrader_pipeline.catalog.frames import bars_to_frame
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.session_quality import COMPLETENESS_RULE
from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity, minute_bars
from ntrader_pipeline_tests.quality.session_checks import check_session

SESSION = session_for("2024-01-02")
MINUTE = BarSpec.parse("1-MINUTE-LAST")
BAR_TYPE = "SPY.ARCA-1-MINUTE-LAST-EXTERNAL"


@pytest.fixture
def good_frame() -> pl.DataFrame:
    return bars_to_frame(minute_bars(ib_equity(), [470 + (i % 5) * 0.1 for i in range(390)]))


def _set(frame: pl.DataFrame, row: int, **values: object) -> pl.DataFrame:
    is_row = pl.int_range(pl.len()) == row
    return frame.with_columns(
        *(
            pl.when(is_row).then(pl.lit(v).cast(frame.schema[c])).otherwise(pl.col(c)).alias(c)
            for c, v in values.items()
        )
    )


def test_complete_clean_session_passes(good_frame):
    result = check_session(good_frame, BAR_TYPE, SESSION, MINUTE)
    assert result.passed, result.describe()
    assert (result.bar_count, result.expected_bars) == (390, 390)


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"high": 400.0}, "high_is_bar_maximum"),
        ({"low": 480.0}, "low_is_bar_minimum"),
        ({"open": -1.0, "low": -2.0}, "greater_than(0)"),
        ({"volume": -5.0}, "greater_than_or_equal_to(0)"),
    ],
)
def test_each_price_rule_fails_with_its_name_and_a_sample_row(good_frame, change, rule):
    result = check_session(_set(good_frame, 7, **change), BAR_TYPE, SESSION, MINUTE)
    assert not result.passed
    assert result.failures[rule] >= 1
    assert result.samples[0]["row"] == 7


def test_duplicate_and_out_of_order_timestamps_fail(good_frame):
    duplicated = _set(good_frame, 8, ts_init=good_frame["ts_init"][7])
    result = check_session(duplicated, BAR_TYPE, SESSION, MINUTE)
    assert result.failures["field_uniqueness"] == 2
    assert result.failures["timestamps_strictly_increasing"] == 1


def test_bar_outside_the_session_fails(good_frame):
    late = dt.datetime(2024, 1, 2, 21, 5, tzinfo=dt.UTC)
    result = check_session(_set(good_frame, 389, ts_init=late), BAR_TYPE, SESSION, MINUTE)
    assert result.failures == {"inside_session": 1}


def test_missing_bars_fail_completeness(good_frame):
    result = check_session(good_frame.head(380), BAR_TYPE, SESSION, MINUTE)
    assert result.failures == {COMPLETENESS_RULE: 10}
    assert "session_complete (10 rows)" in result.describe()
