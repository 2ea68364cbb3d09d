"""Freshness after the nightly refresh: which instruments lack their last closed session (hand-worked
sessions on the NYSE, FX and CME calendars), and the checks and schedule that flag them."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
from dagster._core.storage.tags import SCHEDULED_EXECUTION_TIME_TAG

from ntrader_pipeline.defs.freshness import (
    FRESHNESS_ASSET,
    FRESHNESS_CRON,
    SCHEDULED_TIME_TAG,
    check_time,
)
from ntrader_pipeline.defs.partitions import partition_range_tags
from ntrader_pipeline.defs.schedules import NIGHTLY_CRON, sessions_run_config
from ntrader_pipeline.markets.calendars import CME, FX_24X5, NYSE, get_session_calendar
from ntrader_pipeline.markets.latest_sessions import last_closed_session, missing_latest_sessions
from ntrader_pipeline_tests.defs.helpers import (
    DAILY_BARS,
    MINUTE_BARS,
    all_assets,
    code_location,
    definitions,
    materialize,
)

FIRST = dt.date(2024, 1, 2)


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("calendar", "now", "expected"),
    [
        (NYSE, utc(2024, 1, 5, 20, 59), "2024-01-04"),  # Friday, a minute before the 16:00 New York close
        (NYSE, utc(2024, 1, 5, 21, 0), "2024-01-05"),  # the close itself
        (NYSE, utc(2024, 1, 8, 1, 30), "2024-01-05"),  # Sunday evening in New York: Friday's
        (NYSE, utc(2024, 7, 5, 0, 30), "2024-07-03"),  # July 4th evening: the half day before (13:00 close)
        (FX_24X5, utc(2024, 1, 15, 22, 0), "2024-01-15"),  # MLK day: FX trades, closes 17:00 New York
        (NYSE, utc(2024, 1, 15, 22, 0), "2024-01-12"),  # ... the NYSE does not
        (CME, utc(2024, 1, 5, 21, 59), "2024-01-04"),  # Globex closes 16:00 Chicago = 22:00 UTC
        (CME, utc(2024, 1, 5, 22, 0), "2024-01-05"),
    ],
)
def test_last_closed_session_by_calendar(calendar: str, now: dt.datetime, expected: str) -> None:
    session = last_closed_session(get_session_calendar(calendar), now, FIRST)
    assert session is not None and session.key == expected


def test_no_session_before_the_first_one() -> None:
    assert last_closed_session(get_session_calendar(NYSE), utc(2024, 1, 2, 20, 0), FIRST) is None


def test_missing_latest_sessions_names_each_instrument_without_its_last_session() -> None:
    nyse, fx = get_session_calendar(NYSE), get_session_calendar(FX_24X5)
    instruments = [("SPY.ARCA", nyse), ("QQQ.NASDAQ", nyse), ("EUR/USD.IDEALPRO", fx)]
    stored = {("SPY.ARCA", "2024-01-12"), ("QQQ.NASDAQ", "2024-01-11"), ("EUR/USD.IDEALPRO", "2024-01-12")}
    missing = missing_latest_sessions(instruments, utc(2024, 1, 16, 1, 30), FIRST, stored)
    assert [(m.instrument_id, m.session.key) for m in missing] == [
        ("QQQ.NASDAQ", "2024-01-12"),  # one session behind
        ("EUR/USD.IDEALPRO", "2024-01-15"),  # FX traded on MLK day, the nightly (NYSE days) did not fetch it
    ]
    assert (
        missing[0].describe() == "QQQ.NASDAQ: session 2024-01-12 (closed 2024-01-12 21:00 UTC) is not stored"
    )


def test_check_time_is_the_schedule_tick_when_there_is_one() -> None:
    assert SCHEDULED_TIME_TAG == SCHEDULED_EXECUTION_TIME_TAG  # Dagster's (private) constant
    assert check_time({SCHEDULED_TIME_TAG: "2024-01-06T01:30:00+00:00"}) == utc(2024, 1, 6, 1, 30)
    assert abs(check_time({}) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_the_freshness_schedule_runs_after_the_nightly_one() -> None:
    minute, hour = (int(f) for f in FRESHNESS_CRON.split()[:2])
    nightly_minute, nightly_hour = (int(f) for f in NIGHTLY_CRON.split()[:2])
    assert FRESHNESS_CRON.split()[2:] == NIGHTLY_CRON.split()[2:]  # the same days
    assert (hour * 60 + minute) - (nightly_hour * 60 + nightly_minute) == 120


def test_the_checks_flag_the_instruments_missing_their_last_session_and_stay_out_of_bars_runs(
    ib_resource, storage
) -> None:
    defs = definitions(ib_resource, storage)
    job = defs.resolve_job_def("freshness_check_job")
    # a bars selection does not pull the freshness checks in (they sit on their own external asset)
    graph = defs.resolve_implicit_global_asset_job_def().asset_layer.asset_graph
    assert {k.name for k in graph.asset_check_keys if k.asset_key == MINUTE_BARS} == {"bar_quality"}
    # Friday 2024-01-05 stored for every instrument's daily bars, for SPY only of the minute bars
    ids = code_location()[1].instrument_ids
    daily = dg.materialize(
        all_assets(),
        selection=dg.AssetSelection.assets(DAILY_BARS),
        resources={"ib": ib_resource, "storage": storage},
        tags=partition_range_tags("2024-01-05", "2024-01-05", ids[0], ids[-1]),
        run_config=sessions_run_config(["bars_1_day"], "2024-01-05", "2024-01-05"),
    )
    minute = materialize(
        dg.AssetSelection.assets(MINUTE_BARS), ib_resource, storage, partition_key="2024-01-05|SPY.ARCA"
    )
    assert daily.success and minute.success
    with dg.instance_for_test() as instance:
        # the schedule's tick: 20:30 New York on Friday 2024-01-05
        result = job.execute_in_process(
            instance=instance, tags={SCHEDULED_TIME_TAG: "2024-01-06T01:30:00+00:00"}
        )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {"bars_1_minute_latest_session", "bars_1_day_latest_session"}
    assert all(e.asset_key == dg.AssetKey(FRESHNESS_ASSET) for e in evaluations.values())
    assert evaluations["bars_1_day_latest_session"].passed
    minute = evaluations["bars_1_minute_latest_session"]
    assert not minute.passed
    assert minute.metadata["missing"].value == 3 and minute.metadata["instruments"].value == 4  # no ILLQ-ADJ
    assert minute.description.startswith("QQQ.NASDAQ: session 2024-01-05 (closed 2024-01-05 21:00 UTC)")
    assert "IWM.ARCA" in minute.description and "ILLQ.NASDAQ" in minute.description
