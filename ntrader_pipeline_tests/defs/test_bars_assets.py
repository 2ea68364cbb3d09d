"""Bars assets and their blocking checks, materialized by Dagster against the embedded gateway."""

import dagster as dg
import pytest

from ntrader_pipeline.defs import build_definitions
from ntrader_pipeline.defs.partitions import partition_range_tags
from ntrader_pipeline.defs.schedules import sessions_run_config
from ntrader_pipeline.gateway import Fault
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline_tests.defs.helpers import (
    BAR_QUALITY,
    DAILY_BARS,
    MINUTE_BARS,
    all_assets,
    check_evaluations,
    code_location,
    materialize,
)

BARS_AND_CHECKS = dg.AssetSelection.assets(MINUTE_BARS, DAILY_BARS) | dg.AssetSelection.checks_for_assets(
    MINUTE_BARS, DAILY_BARS
)
SPY_MINUTE_TYPE = "SPY.ARCA-1-MINUTE-LAST-EXTERNAL"


def _catalog_snapshot(storage) -> dict[str, bytes]:
    root = storage.catalog_store().path
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_definitions_wire_partitions_pool_and_single_run_backfills():
    graph = build_definitions(*code_location()).resolve_asset_graph()
    minute = graph.get(MINUTE_BARS)
    keys = minute.partitions_def.get_partition_keys()
    assert keys[0] == "2024-01-01|SPY.ARCA"  # months × instruments
    assert "2024-02-01|SPY.ARCA" in keys and "2024-01-15|SPY.ARCA" not in keys
    assert minute.backfill_policy == dg.BackfillPolicy.single_run()
    assert minute.pools == {"ibkr"}
    # bar quality on the bars; the fresh ADJUSTED_LAST anchor on the adjustment factors
    assert {k.name for k in graph.asset_check_keys} == {
        BAR_QUALITY,
        "matches_fresh_adjusted_last",  # on the adjustment factors
        "bars_1_minute_latest_session",  # freshness, on their own external asset
        "bars_1_day_latest_session",
    }
    assert dg.AssetKey("sma_cross_report") in graph.get_all_asset_keys()


def test_partition_materializes_and_rematerializing_changes_nothing(ib_resource, storage):
    first = materialize(BARS_AND_CHECKS, ib_resource, storage, partition_key="2024-01-03|SPY.ARCA")
    assert first.success
    assert all(e.passed for e in check_evaluations(first))
    snapshot = _catalog_snapshot(storage)
    assert sorted(snapshot) == [
        "data/bar/SPY.ARCA-1-DAY-LAST-EXTERNAL/2024-01-01T00-00-00-000000000Z_2024-01-31T23-59-59-999999999Z.parquet",
        "data/bar/SPY.ARCA-1-MINUTE-LAST-EXTERNAL/2024-01-01T00-00-00-000000000Z_2024-01-31T23-59-59-999999999Z.parquet",
        "data/equity/SPY.ARCA/1970-01-01T00-00-00-000000001Z_1970-01-01T00-00-00-000000001Z.parquet",
    ]
    (event,) = first.asset_materializations_for_node("bars_1_minute")  # one event per partition
    assert event.partition == "2024-01-01|SPY.ARCA"
    assert event.metadata["bars"].value == 390
    assert event.metadata["session"].value == "2024-01-03"

    second = materialize(BARS_AND_CHECKS, ib_resource, storage, partition_key="2024-01-03|SPY.ARCA")
    assert second.success
    assert _catalog_snapshot(storage) == snapshot
    assert len(storage.catalog_store().read_session_bars(SPY_MINUTE_TYPE, session_for("2024-01-03"))) == 390


def test_range_run_uses_one_connection_and_writes_each_session(ib_gateway, ib_resource, storage):
    result = materialize(
        dg.AssetSelection.assets(MINUTE_BARS),
        ib_resource,
        storage,
        partition_range=("2024-01-12|QQQ.NASDAQ", "2024-01-17|QQQ.NASDAQ"),
    )
    assert result.success
    store = storage.catalog_store()
    sessions = ["2024-01-12", "2024-01-16", "2024-01-17"]  # the 15th is a holiday
    assert all(store.has_session("QQQ.NASDAQ-1-MINUTE-LAST-EXTERNAL", session_for(d)) for d in sessions)
    assert len(ib_gateway.requests.contract_details()) == 1
    assert len(ib_gateway.requests.historical()) == 3
    (event,) = result.asset_materializations_for_node("bars_1_minute")
    assert (event.partition, event.metadata["sessions"].value) == ("2024-01-01|QQQ.NASDAQ", 3)


def test_a_run_over_months_records_each_month_once_with_its_sessions(ib_gateway, ib_resource, storage):
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(
        dg.AssetSelection.assets(MINUTE_BARS),
        ib_resource,
        storage,
        partition_range=("2024-01-29|SPY.ARCA", "2024-02-02|SPY.ARCA"),
        instance=instance,
    )
    assert result.success
    events = result.asset_materializations_for_node("bars_1_minute")
    assert [(e.partition, e.metadata["sessions"].value) for e in events] == [
        ("2024-01-01|SPY.ARCA", 3),  # 29th, 30th, 31st
        ("2024-02-01|SPY.ARCA", 2),  # 1st, 2nd
    ]
    records = instance.fetch_materializations(MINUTE_BARS, limit=10).records
    assert len(records) == 2  # one event per stored partition, not a live one and a summary


def test_only_missing_fetches_only_what_is_not_stored(ib_gateway, ib_resource, storage):
    first = materialize(
        dg.AssetSelection.assets(MINUTE_BARS), ib_resource, storage, partition_key="2024-01-03|SPY.ARCA"
    )
    assert first.success
    ib_gateway.requests.clear()
    month = dg.MultiPartitionKey({"date": "2024-01-01", "instrument": "SPY.ARCA"})
    second = materialize(
        dg.AssetSelection.assets(MINUTE_BARS),
        ib_resource,
        storage,
        partition_key=month,
        run_config={
            "ops": {"bars_1_minute": {"config": {"last_session": "2024-01-05", "only_missing": True}}}
        },
    )
    assert second.success
    assert [r.end_date_time[:8] for r in ib_gateway.requests.historical()] == [
        "20240102",
        "20240104",
        "20240105",
    ]
    (event,) = second.asset_materializations_for_node("bars_1_minute")
    assert event.metadata["sessions"].value == 3


def test_bad_session_bounds_are_refused_by_name(ib_resource, storage):
    month = dg.MultiPartitionKey({"date": "2024-01-01", "instrument": "SPY.ARCA"})
    result = materialize(
        dg.AssetSelection.assets(MINUTE_BARS),
        ib_resource,
        storage,
        partition_key=month,
        run_config={
            "ops": {
                "bars_1_minute": {"config": {"first_session": "2024-01-09", "last_session": "2024-01-02"}}
            }
        },
    )
    assert not result.success
    message = result.failure_data_for_node("bars_1_minute").user_failure_data.description
    assert message == "bars run config: first_session 2024-01-09 is after last_session 2024-01-02: swap them"


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault(drop=True), "stopped reading from the gateway"),  # a cut-off answer is never stored
        (Fault(error=(200, "No security definition has been found for the request")), "IB error 200"),
    ],
)
def test_bad_gateway_answer_fails_the_partition_and_writes_nothing(
    ib_gateway, ib_resource, storage, fault, expected
):
    ib_gateway.faults.set("IWM", fault)
    result = materialize(
        dg.AssetSelection.assets(MINUTE_BARS), ib_resource, storage, partition_key="2024-01-05|IWM.ARCA"
    )
    assert not result.success
    failure = result.failure_data_for_node("bars_1_minute")
    assert "IWM.ARCA 1-MINUTE-LAST session 2024-01-05" in failure.error.message
    assert expected in failure.error.message
    assert not storage.catalog_store().has_session(
        "IWM.ARCA-1-MINUTE-LAST-EXTERNAL", session_for("2024-01-05")
    )


def test_failed_session_in_a_range_keeps_the_complete_ones(ib_gateway, ib_resource, storage):
    ib_gateway.faults.set("SPY", Fault(drop=True), session=session_for("2024-01-09").date)
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(
        dg.AssetSelection.assets(MINUTE_BARS),
        ib_resource,
        storage,
        partition_range=("2024-01-08|SPY.ARCA", "2024-01-10|SPY.ARCA"),
        instance=instance,
    )
    assert not result.success
    store = storage.catalog_store()
    assert store.has_session(SPY_MINUTE_TYPE, session_for("2024-01-08"))
    assert not store.has_session(SPY_MINUTE_TYPE, session_for("2024-01-09"))
    assert store.has_session(SPY_MINUTE_TYPE, session_for("2024-01-10"))
    message = result.failure_data_for_node("bars_1_minute").error.message
    assert "1 1-MINUTE-LAST sessions were not stored; 0 of 1 instrument-months were" in message
    assert "SPY.ARCA 1-MINUTE-LAST session 2024-01-09" in message
    assert instance.get_materialized_partitions(MINUTE_BARS) == set()  # its month is not complete


def test_a_failing_instrument_does_not_hold_the_others_back(ib_gateway, ib_resource, storage):
    ib_gateway.faults.set("QQQ", Fault(error=(200, "No security definition has been found for the request")))
    instance = dg.DagsterInstance.ephemeral()
    assets = all_assets()
    result = dg.materialize(
        assets,
        selection=dg.AssetSelection.assets(MINUTE_BARS),
        resources={"ib": ib_resource, "storage": storage},
        tags=partition_range_tags("2024-01-05", "2024-01-05", "SPY.ARCA", "IWM.ARCA"),
        run_config=sessions_run_config(["bars_1_minute"], "2024-01-05", "2024-01-05"),
        instance=instance,
        raise_on_error=False,
    )
    assert not result.success
    assert "QQQ.NASDAQ" in result.failure_data_for_node("bars_1_minute").error.message
    assert instance.get_materialized_partitions(MINUTE_BARS) == {"2024-01-01|SPY.ARCA", "2024-01-01|IWM.ARCA"}
