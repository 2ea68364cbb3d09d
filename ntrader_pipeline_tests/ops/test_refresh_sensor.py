"""After a successful bars run of an instrument, the sensor asks for that instrument's backtest chain."""

import dagster as dg

from ntrader_pipeline.defs.sensors import backtest_chain_keys, instruments_of_run
from ntrader_pipeline_tests.defs.helpers import code_location, definitions

_, UNIVERSE, DECLARATIONS = code_location()


def test_successful_bars_run_requests_its_instruments_backtests(ib_resource, storage) -> None:
    defs = definitions(ib_resource, storage)
    refresh_backtests_after_bars = defs.resolve_sensor_def("refresh_backtests_after_bars")
    refresh_comparison_after_backtests = defs.resolve_sensor_def("refresh_comparison_after_backtests")
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("market_data_job").execute_in_process(
        partition_key="2024-01-03|QQQ.NASDAQ", instance=instance
    )
    assert result.success
    success = next(e for e in result.all_events if e.event_type_value == "PIPELINE_SUCCESS")
    context = dg.build_run_status_sensor_context(
        sensor_name=refresh_backtests_after_bars.name,
        dagster_event=success,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        repository_def=defs.get_repository_def(),
    )
    requests = refresh_backtests_after_bars(context)
    assert [r.partition_key for r in requests] == ["QQQ.NASDAQ"]
    assert requests[0].run_key == f"after:{result.run_id}:QQQ.NASDAQ"
    # The sensor launches backtests_job for the chains that trade the instrument (here every declared one)
    assert refresh_backtests_after_bars.job_name == "backtests_job"
    job_keys = defs.resolve_job_def("backtests_job").asset_layer.executable_asset_keys
    # ...minus the daily bars' data version (no declared backtest trades daily bars), the adjustment
    # factors (no backtest adjusts QQQ) and the chains of backtests that do not trade QQQ.
    elsewhere = {
        dg.AssetKey(f"{d.name}_{kind}")
        for d in DECLARATIONS
        if "QQQ.NASDAQ" not in d.instruments
        for kind in ("backtest", "metrics", "report")
    }
    assert elsewhere, "the committed backtests file declares one backtest that does not trade QQQ"
    unrelated = {dg.AssetKey("bars_1_day_version"), dg.AssetKey("adjustment_factors"), *elsewhere}
    assert set(requests[0].asset_selection) == job_keys - unrelated
    assert job_keys == set(dg.AssetSelection.groups("backtests").resolve(defs.resolve_asset_graph())) - {
        dg.AssetKey("backtest_comparison")
    }
    # Its success in turn re-ranks the comparison (the sensor only reads the finished run it is given).
    comparison = refresh_comparison_after_backtests(context)
    assert refresh_comparison_after_backtests.job_name == "comparison_job"
    assert comparison.run_key == f"after:{result.run_id}"


def test_an_instrument_no_backtest_declares_gets_no_refresh() -> None:
    assert backtest_chain_keys(DECLARATIONS, "NOT.DECLARED") == []


def test_instruments_come_from_partition_and_range_tags() -> None:
    assert instruments_of_run(UNIVERSE, {"dagster/partition": "2024-01-03|SPY.ARCA"}) == ["SPY.ARCA"]
    range_tags = {
        "dagster/asset_partition_range_start": "2024-01-02|IWM.ARCA",
        "dagster/asset_partition_range_end": "2024-01-31|IWM.ARCA",
    }
    assert instruments_of_run(UNIVERSE, range_tags) == ["IWM.ARCA"]
    assert instruments_of_run(UNIVERSE, {"dagster/partition": "2024-01-03|NOT.LISTED"}) == []
