"""Partition keys built with Dagster's MultiPartitionKey, and the run tags that carry a partition range."""

import dagster as dg
from dagster._core.storage.tags import (  # pinned here only: the package uses no dagster._core import
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from ntrader_pipeline.defs import build_definitions
from ntrader_pipeline.defs.partitions import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    PARTITION_TAG,
    bar_partition_key,
    build_partitions,
    partition_range_tags,
    split_bar_partition_keys,
)
from ntrader_pipeline_tests.defs.helpers import code_location


def test_tag_names_are_dagsters_own() -> None:
    assert PARTITION_TAG == PARTITION_NAME_TAG
    assert PARTITION_RANGE_START_TAG == ASSET_PARTITION_RANGE_START_TAG
    assert PARTITION_RANGE_END_TAG == ASSET_PARTITION_RANGE_END_TAG


def test_keys_are_dagsters_multi_partition_keys() -> None:
    settings, universe, _ = code_location()
    partitions = build_partitions(universe, settings.ntrader.first_session)
    key = bar_partition_key("2024-01-03", "SPY.ARCA")
    assert isinstance(key, dg.MultiPartitionKey)
    assert key == "2024-01-03|SPY.ARCA"
    assert partitions.bars.has_partition_key(key)
    assert partition_range_tags("2024-01-02", "2024-01-05", "SPY.ARCA") == {
        PARTITION_RANGE_START_TAG: "2024-01-02|SPY.ARCA",
        PARTITION_RANGE_END_TAG: "2024-01-05|SPY.ARCA",
    }


def test_split_groups_dates_by_instrument_whatever_the_key_type() -> None:
    keys = ["2024-01-04|SPY.ARCA", bar_partition_key("2024-01-03", "SPY.ARCA"), "2024-01-03|QQQ.NASDAQ"]
    assert split_bar_partition_keys(keys) == {
        "SPY.ARCA": ["2024-01-03", "2024-01-04"],
        "QQQ.NASDAQ": ["2024-01-03"],
    }


def test_partitions_follow_the_universe_given(tmp_path) -> None:
    universe_file = tmp_path / "universe.yaml"
    universe_file.write_text(
        "bar_specs: [1-DAY-LAST]\ninstruments:\n  - {symbol: AAPL, primary_exchange: NASDAQ}\n"
    )
    backtests_file = tmp_path / "backtests.yaml"
    backtests_file.write_text(
        "backtests:\n  daily_sma:\n    strategy: sma_cross\n    instruments: [AAPL.NASDAQ]\n"
        "    bar_spec: 1-DAY-LAST\n    index_instrument: AAPL.NASDAQ\n"
        "    window: {start: 2024-01-02, end: 2024-06-28}\n"
    )
    settings, universe, declarations = code_location(universe_file, backtests_file)
    partitions = build_partitions(universe, settings.ntrader.first_session)
    assert partitions.instruments.get_partition_keys() == ["AAPL.NASDAQ"]
    defs = build_definitions(settings, universe, declarations)
    assert {k.to_user_string() for k in defs.resolve_all_asset_keys()} == {
        "bars_1_day",
        "bars_1_day_version",
        "daily_sma_backtest",
        "daily_sma_metrics",
        "daily_sma_report",
        "backtest_comparison",
    }
