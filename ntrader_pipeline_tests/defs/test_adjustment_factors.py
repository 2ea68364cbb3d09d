"""The adjustment_factors asset through Dagster: daily TRADES and ADJUSTED_LAST bars from the gateway →
per-session factors stored per instrument; the gateway's quarterly dividend is found, no split."""

import dagster as dg

from ntrader_pipeline_tests.defs.helpers import DAILY_BARS, all_assets, materialize

FACTORS = dg.AssetKey("adjustment_factors")


def test_factors_from_the_daily_series_are_stored_per_instrument(ib_resource, storage, tmp_path):
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
    for instrument in ("SPY.ARCA", "SPY-ADJ.ARCA"):
        result = materialize(
            dg.AssetSelection.assets(DAILY_BARS), ib_resource, storage, assets=assets,
            partition_range=(f"2024-03-11|{instrument}", f"2024-03-19|{instrument}"),
        )  # fmt: skip
        assert result.success
    result = materialize(
        dg.AssetSelection.assets(FACTORS), ib_resource, storage, assets=assets, partition_key="SPY.ARCA"
    )
    assert result.success
    metadata = result.asset_materializations_for_node("adjustment_factors")[0].metadata
    assert (metadata["sessions"].value, metadata["splits"].value, metadata["dividends"].value) == (7, 0, 1)
    assert "2024-03-15 dividend" in metadata["corporate_actions"].value  # the third Friday of March
    factors = storage.catalog_store().adjustment_factors("SPY.ARCA")
    assert factors is not None and factors.height == 7
    # the sma backtest with an adjustment depends on the factors of its instrument
    backtest = dg.AssetKey("sma_backtest")
    chain = next(a for a in assets if isinstance(a, dg.AssetsDefinition) and backtest in a.keys)
    assert FACTORS in chain.asset_deps[backtest]
