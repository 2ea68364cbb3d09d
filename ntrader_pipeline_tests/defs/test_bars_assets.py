"""Bars assets and their blocking checks, materialized by Dagster against the embedded gateway."""

import dagster as dg
import pytest

from ntrader_pipeline.defs import build_definitions
from ntrader_pipeline.gateway import Fault
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline_tests.defs.helpers import (
    BAR_QUALITY,
    DAILY_BARS,
    MINUTE_BARS,
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
    assert minute.partitions_def.get_partition_keys()[0] == "2024-01-02|SPY.ARCA"
    assert "2024-01-15|SPY.ARCA" not in minute.partitions_def.get_partition_keys()  # MLK day
    assert minute.backfill_policy == dg.BackfillPolicy.single_run()
    assert minute.pools == {"ibkr"}
    assert {k.name for k in graph.asset_check_keys if k.asset_key == MINUTE_BARS} == {BAR_QUALITY}
    assert dg.AssetKey("sma_cross_report") in graph.get_all_asset_keys()


def test_partition_materializes_and_rematerializing_changes_nothing(ib_resource, storage):
    first = materialize(BARS_AND_CHECKS, ib_resource, storage, partition_key="2024-01-03|SPY.ARCA")
    assert first.success
    assert all(e.passed for e in check_evaluations(first))
    snapshot = _catalog_snapshot(storage)
    assert sorted(snapshot) == [
        "data/bar/SPY.ARCA-1-DAY-LAST-EXTERNAL/2024-01-03T00-00-00-000000000Z_2024-01-03T23-59-59-999999999Z.parquet",
        "data/bar/SPY.ARCA-1-MINUTE-LAST-EXTERNAL/2024-01-03T00-00-00-000000000Z_2024-01-03T23-59-59-999999999Z.parquet",
        "data/equity/SPY.ARCA/1970-01-01T00-00-00-000000001Z_1970-01-01T00-00-00-000000001Z.parquet",
    ]
    metadata = first.asset_materializations_for_node("bars_1_minute")[0].metadata
    assert metadata["bars"].value == 390

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
    assert result.asset_materializations_for_node("bars_1_minute")[-1].metadata["sessions"].value == 3


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
    assert (
        "1 of 3 1-MINUTE-LAST sessions were not stored (2 were)"
        in result.failure_data_for_node("bars_1_minute").error.message
    )
    assert instance.get_materialized_partitions(MINUTE_BARS) == {"2024-01-08|SPY.ARCA", "2024-01-10|SPY.ARCA"}
