from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from nautilus_trader.model.instruments import Equity

from ntrader_pipeline.backtest.artifacts import load_backtest_artifacts, save_backtest_artifacts
from ntrader_pipeline_tests.backtest.bar_fixtures import CROSSING_CLOSES, minute_bars
from ntrader_pipeline_tests.backtest.sma_run import run_sma_cross


def test_saved_frames_read_back_equal_and_leave_no_temp_files(spy: Equity, tmp_path: Path) -> None:
    # Arrange
    result = run_sma_cross(spy, minute_bars(spy, CROSSING_CLOSES))
    directory = tmp_path / "SPY.ARCA"

    # Act
    paths = save_backtest_artifacts(result, directory)
    save_backtest_artifacts(result, directory)  # a rerun replaces in place
    frames = load_backtest_artifacts(directory)

    # Assert
    assert paths == {
        "equity": directory / "equity.parquet",
        "fills": directory / "fills.parquet",
        "trades": directory / "trades.parquet",
    }
    assert sorted(p.name for p in directory.iterdir()) == [
        "equity.parquet",
        "fills.parquet",
        "trades.parquet",
    ]
    assert frames.equity.equals(result.equity)
    assert frames.fills.equals(result.fills)
    assert frames.trades.equals(result.trades)


def test_loading_a_missing_artifact_says_to_rerun(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="rerun the backtest"):
        load_backtest_artifacts(tmp_path)


def test_loading_a_frame_with_another_schema_is_refused(tmp_path: Path) -> None:
    # Arrange
    for name in ("equity", "fills", "trades"):
        pl.DataFrame({"x": [1]}).write_parquet(tmp_path / f"{name}.parquet")

    # Act / Assert
    with pytest.raises(ValueError, match=r"equity\.parquet has schema"):
        load_backtest_artifacts(tmp_path)
