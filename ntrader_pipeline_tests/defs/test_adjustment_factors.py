"""The adjustment_factors asset through Dagster: stored daily TRADES bars and one ADJUSTED_LAST request
from the gateway → events and factors stored per instrument; the gateway's quarterly dividend is found,
no split. Its check fails naming a dividend that went ex after the refresh."""

import datetime as dt

import dagster as dg

from ntrader_pipeline.gateway.realities import Dividend, MarketReality
from ntrader_pipeline.gateway.reality_bars import previous_unadjusted_close
from ntrader_pipeline_tests.defs.helpers import DAILY_BARS, all_assets, check_evaluations, materialize

FACTORS = dg.AssetKey("adjustment_factors")


def test_factors_from_the_daily_series_are_stored_per_instrument(ib_gateway, ib_resource, storage, tmp_path):
    universe = tmp_path / "universe.yaml"
    universe.write_text(
        "bar_specs: [1-MINUTE-LAST, 1-DAY-LAST]\ninstruments:\n"
        "  - {symbol: SPY, primary_exchange: ARCA}\n"
        "  - {symbol: SPY, primary_exchange: ARCA, adjusted: true}\n"
    )
    backtests = tmp_path / "backtests.yaml"
    backtests.write_text(
        "backtests:\n  sma:\n    strategy: sma_cross\n    instruments: [SPY.ARCA]\n"
        "    index_instrument: SPY.ARCA\n    adjustment: splits_and_dividends\n"
        "    window: {start: 2024-03-11, end: 2024-03-19}\n"
    )
    assets = all_assets(universe, backtests)
    result = materialize(
        dg.AssetSelection.assets(DAILY_BARS), ib_resource, storage, assets=assets,
        partition_range=("2024-03-11|SPY.ARCA", "2024-03-19|SPY.ARCA"),
    )  # fmt: skip
    assert result.success  # the adjusted series comes from one request by the factors asset itself
    result = materialize(
        dg.AssetSelection.assets(FACTORS), ib_resource, storage, assets=assets, partition_key="SPY.ARCA"
    )
    assert result.success
    metadata = result.asset_materializations_for_node("adjustment_factors")[0].metadata
    assert (metadata["sessions"].value, metadata["splits"].value, metadata["dividends"].value) == (7, 0, 1)
    assert "2024-03-15 dividend" in metadata["corporate_actions"].value  # the third Friday of March
    events = storage.catalog_store().corporate_events("SPY.ARCA")
    assert abs(events["dividend_share"][0] - 0.00375) < 5e-5  # the gateway's 0.375 % quarterly dividend
    factors = storage.catalog_store().adjustment_factors("SPY.ARCA")
    assert factors is not None and factors.height == 7 and factors["factor"][-1] == 1.0
    (fresh,) = check_evaluations(result)  # the check ran with the asset: the same anchor
    assert fresh.passed
    # the sma backtest with an adjustment depends on the factors of its instrument
    backtest = dg.AssetKey("sma_backtest")
    chain = next(a for a in assets if isinstance(a, dg.AssetsDefinition) and backtest in a.keys)
    assert FACTORS in chain.asset_deps[backtest]


def test_the_check_names_a_dividend_that_went_ex_after_the_refresh(
    ib_gateway, ib_resource, storage, tmp_path
):
    universe = tmp_path / "universe.yaml"
    universe.write_text(
        "bar_specs: [1-MINUTE-LAST, 1-DAY-LAST]\ninstruments:\n"
        "  - {symbol: SPY, primary_exchange: ARCA}\n"
        "  - {symbol: SPY, primary_exchange: ARCA, adjusted: true}\n"
    )
    assets = all_assets(universe, _backtests(tmp_path))
    run = dict(assets=assets, partition_range=("2024-03-11|SPY.ARCA", "2024-03-19|SPY.ARCA"))
    assert materialize(dg.AssetSelection.assets(DAILY_BARS), ib_resource, storage, **run).success
    assert materialize(
        dg.AssetSelection.assets(FACTORS), ib_resource, storage, assets=assets, partition_key="SPY.ARCA"
    ).success
    # the same quarterly dividend, and a new one on Monday 18 March: IB's next anchor rescales before it
    quarterly = 0.00375 * previous_unadjusted_close("SPY", dt.date(2024, 3, 15), MarketReality())
    ib_gateway.realities.set(
        "SPY",
        MarketReality(
            dividends=(Dividend(dt.date(2024, 3, 15), quarterly), Dividend(dt.date(2024, 3, 18), 2.0))
        ),
    )
    # the check alone (Dagster cannot take a partition key for a selection of checks only: the tag)
    result = dg.materialize(
        assets,
        selection=dg.AssetSelection.checks_for_assets(FACTORS),
        resources={"ib": ib_resource, "storage": storage},
        tags={"dagster/partition": "SPY.ARCA"},
        raise_on_error=False,
    )
    (evaluation,) = check_evaluations(result)
    assert not evaluation.passed
    assert evaluation.description.startswith("new since the last refresh: 2024-03-18 dividend 2.0")
    assert evaluation.metadata["new_events"].value == 1


def _backtests(tmp_path):
    path = tmp_path / "backtests.yaml"
    path.write_text(
        "backtests:\n  sma:\n    strategy: sma_cross\n    instruments: [SPY.ARCA]\n"
        "    index_instrument: SPY.ARCA\n    adjustment: splits_and_dividends\n"
        "    window: {start: 2024-03-11, end: 2024-03-19}\n"
    )
    return path
