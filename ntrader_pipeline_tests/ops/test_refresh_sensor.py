"""After a bars run, one run refreshes the backtests whose windows hold what it stored; then the ranking."""

import dagster as dg

from ntrader_pipeline.app.refresh import affected
from ntrader_pipeline.defs.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from ntrader_pipeline.defs.sensors import chain_keys, session_bounds
from ntrader_pipeline_tests.defs.helpers import code_location, definitions

_, UNIVERSE, DECLARATIONS = code_location()
ONE_SESSION = {"first_session": "2024-01-03", "last_session": "2024-01-03"}


def _sensor_context(defs: dg.Definitions, sensor: dg.SensorDefinition, result, instance) -> object:
    finished = next(
        e for e in result.all_events if e.event_type_value in ("PIPELINE_SUCCESS", "PIPELINE_FAILURE")
    )
    return dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=finished,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        repository_def=defs.get_repository_def(),
    )


def test_a_bars_run_over_two_instruments_gives_one_backtests_run(ib_resource, storage) -> None:
    defs = definitions(ib_resource, storage)
    sensor = defs.resolve_sensor_def("refresh_backtests_after_bars")
    comparison_sensor = defs.resolve_sensor_def("refresh_comparison_after_backtests")
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("market_data_job").execute_in_process(
        tags={
            PARTITION_RANGE_START_TAG: "2024-01-01|SPY.ARCA",
            PARTITION_RANGE_END_TAG: "2024-01-01|QQQ.NASDAQ",
        },
        run_config={"ops": {"bars_1_minute": {"config": ONE_SESSION}, "bars_1_day": {"config": ONE_SESSION}}},
        instance=instance,
    )
    assert result.success
    request = sensor(_sensor_context(defs, sensor, result, instance))
    assert isinstance(request, dg.RunRequest)  # one request, not one per instrument
    assert request.run_key == f"after:{result.run_id}"
    # SPY.ARCA is the benchmark index of every backtest: all their instruments, as one range
    assert (request.tags[PARTITION_RANGE_START_TAG], request.tags[PARTITION_RANGE_END_TAG]) == (
        "SPY.ARCA",
        "ILLQ.NASDAQ",
    )
    # every backtest on minute bars whose window holds 2024-01-03 (each trades SPY or QQQ) — and not the
    # daily or adjusted ones, whose bars this run did not change for a declared instrument
    minute = [
        d
        for d in DECLARATIONS
        if d.bar_spec == "1-MINUTE-LAST" and d.window.start.isoformat() <= "2024-01-03"
    ]
    assert set(request.asset_selection) >= {dg.AssetKey(f"{d.name}_backtest") for d in minute}
    assert sensor.job_name == "backtests_job"
    comparison = comparison_sensor(_sensor_context(defs, comparison_sensor, result, instance))
    assert comparison.run_key == f"after:{result.run_id}"


def test_only_the_instruments_a_run_stored_are_refreshed() -> None:
    found = affected(DECLARATIONS, {"bars_1_minute": {"QQQ.NASDAQ"}}, ("2024-01-03", "2024-01-03"))
    assert found
    assert all(instruments == {"QQQ.NASDAQ"} for instruments in found.values())


def test_sessions_outside_every_window_refresh_nothing() -> None:
    stored = {"bars_1_minute": {"SPY.ARCA", "QQQ.NASDAQ"}, "bars_1_day": {"SPY.ARCA"}}
    assert affected(DECLARATIONS, stored, ("2031-01-02", "2031-01-02")) == {}
    assert affected(DECLARATIONS, stored, ("2020-01-02", "2020-01-31")) == {}


def test_a_changed_benchmark_index_refreshes_every_instrument_it_benchmarks() -> None:
    sma = next(d for d in DECLARATIONS if d.name == "sma_cross")
    found = affected([sma], {"bars_1_minute": {sma.index_instrument}}, None)
    assert found == {"sma_cross": set(sma.instruments)}


def test_session_bounds_come_from_the_runs_sessions_tag() -> None:
    assert session_bounds({"ntrader/sessions": "2024-01-03"}) == ("2024-01-03", "2024-01-03")
    assert session_bounds({"ntrader/sessions": "2024-01-02...2024-03-28"}) == ("2024-01-02", "2024-03-28")
    assert session_bounds({}) is None


def test_adjusting_chains_bring_the_factors_first() -> None:
    adjusted = [d for d in DECLARATIONS if d.adjustment.value != "none"]
    assert adjusted, "the committed backtests file declares a split-adjusted backtest"
    keys = chain_keys(UNIVERSE, adjusted)
    assert keys[0] == dg.AssetKey("adjustment_factors")
    assert keys[1:] == [
        dg.AssetKey(f"{adjusted[0].name}_{kind}") for kind in ("inputs", "backtest", "metrics", "report")
    ]
