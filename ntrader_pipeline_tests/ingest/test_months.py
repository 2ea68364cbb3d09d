"""Runs over month partitions: the sessions a run fetches, and each instrument-month once it settles."""

import datetime as dt

import pytest

from ntrader_pipeline.ingest.months import (
    MonthTally,
    SessionSelection,
    SessionSelectionError,
    plan_sessions,
    requested_dates,
)
from ntrader_pipeline.ingest.run import SessionRecord, SessionStatus
from ntrader_pipeline.markets.session_months import UnionSessions, fetch_command, month_key

NYSE = UnionSessions(["NYSE"], dt.date(2024, 1, 2))
LATE = dt.datetime(2024, 12, 31, tzinfo=dt.UTC)


def test_a_month_holds_its_closed_sessions_from_the_first_session_on() -> None:
    january = NYSE.in_month("2024-01-01", LATE)
    assert (len(january), january[0], january[-1]) == (21, "2024-01-02", "2024-01-31")
    assert "2024-01-15" not in january  # MLK day
    # 2024-01-05 closes 21:00 UTC and is offered at 22:00 UTC (the end of its day in UTC+2)
    assert NYSE.in_month("2024-01-01", dt.datetime(2024, 1, 5, 21, 30, tzinfo=dt.UTC))[-1] == "2024-01-04"
    assert NYSE.in_month("2024-01-01", dt.datetime(2024, 1, 5, 22, 0, tzinfo=dt.UTC))[-1] == "2024-01-05"
    assert month_key("2024-02-29") == "2024-02-01"


def test_a_selection_narrows_the_months_and_only_missing_skips_what_is_stored() -> None:
    months = {"SPY.ARCA": ["2024-01-01", "2024-02-01"]}
    plan = plan_sessions(months, NYSE, LATE, SessionSelection("2024-01-30", "2024-02-02"), lambda i, d: False)
    assert plan == {
        ("SPY.ARCA", "2024-01-01"): ["2024-01-30", "2024-01-31"],
        ("SPY.ARCA", "2024-02-01"): ["2024-02-01", "2024-02-02"],
    }
    stored = {"2024-01-31", "2024-02-01"}
    only_missing = SessionSelection("2024-01-30", "2024-02-02", only_missing=True)
    plan = plan_sessions(months, NYSE, LATE, only_missing, lambda i, d: d in stored)
    assert requested_dates(plan) == {"SPY.ARCA": ["2024-01-30", "2024-02-02"]}


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2024-1-3", None, "first_session='2024-1-3' is not a date: give YYYY-MM-DD"),
        ("2024-01-09", "2024-01-02", "first_session 2024-01-09 is after last_session 2024-01-02: swap them"),
    ],
)
def test_bad_session_bounds_name_the_field_and_the_fix(first, last, message) -> None:
    with pytest.raises(SessionSelectionError, match=message):
        SessionSelection(first, last)


def test_a_month_settles_with_its_last_session_and_counts_its_flagged_ones() -> None:
    plan = {("ILLQ.NASDAQ", "2024-01-01"): ["2024-01-17", "2024-01-18"], ("ILLQ.NASDAQ", "2024-02-01"): []}
    tally = MonthTally(plan)
    assert [m.month for m in tally.without_sessions()] == ["2024-02-01"]  # nothing to fetch: settled now
    sparse = SessionRecord("ILLQ.NASDAQ", "2024-01-17", SessionStatus.WRITTEN, bars=270, expected_bars=390)
    halted = SessionRecord(
        "ILLQ.NASDAQ", "2024-01-18", SessionStatus.EMPTY, detail="HMDS query returned no data"
    )
    assert tally.add(sparse) is None
    month = tally.add(halted)
    assert month is not None and not month.failed
    metadata = month.metadata()
    assert (
        metadata["sessions"],
        metadata["bars"],
        metadata["flagged_sessions"],
        metadata["missing_bars"],
    ) == (
        2,
        270,
        2,
        120,
    )
    assert "| 2024-01-17 | written | 270 | 390 | 120 |" in metadata["flagged"]
    assert (
        "| 2024-01-18 | empty | 0 |" in metadata["flagged"]
        and "HMDS query returned no data" in metadata["flagged"]
    )
    assert tally.unsettled() == []


def test_a_failed_session_leaves_its_month_failed() -> None:
    tally = MonthTally({("SPY.ARCA", "2024-01-01"): ["2024-01-09"]})
    month = tally.add(SessionRecord("SPY.ARCA", "2024-01-09", SessionStatus.FAILED, detail="IB error 162"))
    assert month is not None and [r.date for r in month.failed] == ["2024-01-09"]


def test_the_fetch_command_names_the_months_and_the_sessions() -> None:
    command = fetch_command("bars_1_minute", "SPY.ARCA", "2024-01-30", "2024-02-02")
    assert "--partition-range '2024-01-01|SPY.ARCA...2024-02-01|SPY.ARCA'" in command
    assert '"first_session": "2024-01-30", "last_session": "2024-02-02"' in command


def test_a_named_session_that_has_not_closed_is_refused() -> None:
    friday_afternoon = dt.datetime(2024, 1, 5, 18, tzinfo=dt.UTC)
    selection = SessionSelection("2024-01-04", "2024-01-05")
    with pytest.raises(SessionSelectionError, match="session 2024-01-05 has not closed yet"):
        plan_sessions({"SPY.ARCA": ["2024-01-01"]}, NYSE, friday_afternoon, selection, lambda i, d: False)
    # a month without bounds is its closed sessions so far (the current month while it trades)
    plan = plan_sessions(
        {"SPY.ARCA": ["2024-01-01"]}, NYSE, friday_afternoon, SessionSelection(), lambda i, d: False
    )
    assert plan[("SPY.ARCA", "2024-01-01")][-1] == "2024-01-04"
