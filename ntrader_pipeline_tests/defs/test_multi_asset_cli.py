"""The multi-asset example universe through `dagster asset materialize`: each instrument on its own
calendar, and a date the union calendar has but the instrument's calendar does not (SPY on MLK day)."""

from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.settings import REPO_ROOT
from ntrader_pipeline_tests.cli import IN_PROCESS, dagster_home, materialize_cli

UNIVERSE = str(REPO_ROOT / "data" / "universe.multi_asset.yaml")
BACKTESTS = str(REPO_ROOT / "data" / "backtests.multi_asset.yaml")


def _env(ib_gateway, storage) -> dict[str, str]:
    return {
        "IB_HOST": ib_gateway.host,
        "IB_PORT": str(ib_gateway.port),
        "IB_REQUEST_TIMEOUT_S": "20",
        "NTRADER_CATALOG": storage.catalog_path,
        "NTRADER_UNIVERSE": UNIVERSE,
        "NTRADER_BACKTESTS": BACKTESTS,
    }


def test_fx_range_over_a_us_holiday_and_spy_closed_that_day(ib_gateway, storage, tmp_path):
    home, env = dagster_home(tmp_path), _env(ib_gateway, storage)
    fx = materialize_cli(
        home, env, "--select", "bars_1_minute",
        "--partition-range", "2024-01-12|EUR/USD.IDEALPRO...2024-01-16|EUR/USD.IDEALPRO",
        "--config-json", IN_PROCESS,
    )  # fmt: skip
    assert fx.returncode == 0, fx.stderr[-3000:]
    assert "Asset check 'bar_quality' on 'bars_1_minute' passed" in fx.stderr
    spy = materialize_cli(
        home, env, "--select", "bars_1_minute",
        "--partition-range", "2024-01-12|SPY.ARCA...2024-01-16|SPY.ARCA",
        "--config-json", IN_PROCESS,
    )  # fmt: skip
    assert spy.returncode == 0, spy.stderr[-3000:]
    # three partitions recorded as materialized: two sessions and MLK day, closed for SPY
    assert spy.stderr.count("ASSET_MATERIALIZATION - Materialized value bars_1_minute") == 3
    store = storage.catalog()
    for date in ("2024-01-12", "2024-01-15", "2024-01-16"):
        session = session_for(date, "FX24x5")
        assert len(store.read_session_bars("EUR/USD.IDEALPRO-1-MINUTE-MID-EXTERNAL", session)) == 1440
    assert len(store.read_session_bars("SPY.ARCA-1-MINUTE-LAST-EXTERNAL", session_for("2024-01-16"))) == 390
    spy_files = list(store.bar_directory("SPY.ARCA-1-MINUTE-LAST-EXTERNAL").glob("*.parquet"))
    assert len(spy_files) == 2  # nothing fetched or written for MLK day
    assert store.instrument("EUR/USD.IDEALPRO") is not None
