"""`dagster asset materialize` from the command line, as CI and users run it (README)."""

from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline_tests.cli import dagster_home, materialize_cli, sessions_config


def test_cli_materializes_a_partition_with_the_repo_instance_config(ib_gateway, storage, tmp_path):
    home = dagster_home(tmp_path)
    env = {
        "IB_HOST": ib_gateway.host,
        "IB_PORT": str(ib_gateway.port),
        "IB_REQUEST_TIMEOUT_S": "10",
        "NTRADER_CATALOG": storage.catalog,
    }
    narrowed = sessions_config("2024-01-03", "2024-01-03", "bars_1_minute")
    done = materialize_cli(
        home,
        env,
        "--select",
        "bars_1_minute",
        "--partition",
        "2024-01-01|SPY.ARCA",
        "--config-json",
        narrowed,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RUN_SUCCESS" in done.stderr
    assert "ASSET_CHECK_EVALUATION - Asset check 'bar_quality' on 'bars_1_minute' passed" in done.stderr
    store = storage.catalog_store()
    assert len(store.read_session_bars("SPY.ARCA-1-MINUTE-LAST-EXTERNAL", session_for("2024-01-03"))) == 390
    assert (home / "data" / "dagster" / "storage").is_dir()  # the repo's dagster.yaml was used
