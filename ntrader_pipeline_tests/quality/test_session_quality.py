import datetime as dt

import polars as pl
import pytest

from ntrader_pipeline.catalog.frames import bars_to_frame
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.session_quality import GAPS_RULE, SPLIT_RULE
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


def _without_rows(frame: pl.DataFrame, rows: range | list[int]) -> pl.DataFrame:
    dropped = set(rows)
    return frame.filter(~pl.int_range(pl.len()).is_in(list(dropped)))


def test_missing_bars_are_a_warning_with_count_and_longest_gap(good_frame):
    # no trades in minutes 10-29 (a halt) and 100, 101 (quiet minutes): IB sends no bar for them
    sparse = _without_rows(good_frame, [*range(10, 30), 100, 101])
    result = check_session(sparse, BAR_TYPE, SESSION, MINUTE)
    assert result.passed, result.describe()
    assert (result.bar_count, result.expected_bars, result.missing_bars) == (368, 390, 22)
    assert result.longest_gap == 20
    assert result.warnings[GAPS_RULE] == "22 of 390 bars missing (5.6%), longest gap 20"
    assert "warning session_gaps" in result.describe()


def test_missing_bars_at_the_end_of_the_session_count_as_a_gap(good_frame):
    result = check_session(good_frame.head(380), BAR_TYPE, SESSION, MINUTE)
    assert result.passed
    assert (result.missing_bars, result.longest_gap) == (10, 10)


def test_max_missing_fraction_makes_the_gaps_rule_blocking(good_frame):
    sparse = _without_rows(good_frame, range(0, 39))  # a late open: 10 % of the session missing
    within = check_session(sparse, BAR_TYPE, SESSION, MINUTE, max_missing_fraction=0.10)
    assert within.passed and GAPS_RULE in within.warnings
    over = check_session(sparse, BAR_TYPE, SESSION, MINUTE, max_missing_fraction=0.05)
    assert not over.passed
    assert over.failures == {GAPS_RULE: 39}
    assert "2024-01-02" in over.describe()
    assert "39 of 390 bars missing (10.0%)" in over.describe()
    assert "more than max_missing_fraction 5.0%" in over.describe()


@pytest.mark.parametrize(
    ("previous_close", "ratio"),
    [
        (470.2 * 4, "4:1"),
        (470.2 * 2 * 1.01, "2:1"),
        (470.2 * 1.5, "3:2"),
        (470.2 / 2, "1:2"),
        (470.2 * 3, "3:1"),
        (470.2 * 2.5, "5:2"),  # issue 19: no fixed list of ratios
        (470.2 * 7, "7:1"),
        (470.2 / 15, "1:15"),
    ],
)
def test_an_overnight_jump_matching_a_split_ratio_is_a_warning(good_frame, previous_close, ratio):
    result = check_session(good_frame, BAR_TYPE, SESSION, MINUTE, previous_close=previous_close)
    assert result.passed
    assert result.split_ratio == ratio
    assert result.warnings[SPLIT_RULE].startswith("2024-01-02: overnight jump")
    assert result.warnings[SPLIT_RULE].endswith(f"matches a {ratio} split")


@pytest.mark.parametrize("previous_close", [470.0, 470.0 * 1.1, 470.0 / 1.12, None])
def test_an_ordinary_overnight_move_is_not_a_split(good_frame, previous_close):
    result = check_session(good_frame, BAR_TYPE, SESSION, MINUTE, previous_close=previous_close)
    assert SPLIT_RULE not in result.warnings and result.split_ratio is None


def test_hourly_bars_with_a_partial_first_hour_are_all_counted():
    from ntrader_pipeline.ingest.completeness import coverage

    hour = BarSpec.parse("1-HOUR-LAST")
    open_ns = int(SESSION.open.timestamp() * 1e9)
    half, full = 1_800 * 10**9, 3_600 * 10**9
    closes = [open_ns + half + i * full for i in range(7)]  # 10:00 (09:30-10:00), 11:00, ... 16:00
    assert coverage(closes, hour, SESSION).is_full
    gap = coverage(closes[:2] + closes[4:], hour, SESSION)
    assert (gap.expected, gap.present, gap.missing, gap.longest_gap) == (7, 5, 2, 2)
