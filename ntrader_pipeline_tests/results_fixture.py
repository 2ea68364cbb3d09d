"""Backtest outputs for the results API and the notebook: SPY bars over a short window, then two declared
backtests with their metrics, materialized through the real assets into tmp storage."""

import dagster as dg

from ntrader_pipeline_tests.defs.helpers import MINUTE_BARS, materialize

WINDOW = {"start": "2024-01-02", "end": "2024-01-05"}
BACKTESTS = ("sma_cross", "mean_reversion")


def materialize_results(ib_resource, storage) -> None:
    bars = materialize(
        dg.AssetSelection.assets(MINUTE_BARS),
        ib_resource,
        storage,
        partition_range=(f"{WINDOW['start']}|SPY.ARCA", f"{WINDOW['end']}|SPY.ARCA"),
    )
    assert bars.success
    for name in BACKTESTS:
        chain = dg.AssetSelection.assets("bars_1_minute_version", f"{name}_backtest", f"{name}_metrics")
        run = materialize(
            chain,
            ib_resource,
            storage,
            partition_key="SPY.ARCA",
            run_config={"ops": {name: {"config": WINDOW}}},
        )
        assert run.success
