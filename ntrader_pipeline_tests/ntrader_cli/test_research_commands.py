"""The first plan's commands as real console-script runs: `ntrader fetch` through Dagster on a tmp
instance, then `strategies`, `backtest run`, `results` and `report` on what it stored."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from ntrader_pipeline_tests.cli import dagster_home, run_env

NTRADER = [sys.executable, "-m", "ntrader_pipeline.cli"]
TIMEOUT_S = 300
START, END = "2024-01-02", "2024-01-05"


class Project:
    def __init__(self, root: Path, gateway) -> None:
        self.root = root
        self.home = dagster_home(root)
        self.env = run_env(
            self.home,
            gateway,
            root / "catalog",
            NTRADER_ARTIFACTS=str(root / "backtests"),
            NTRADER_REPORTS=str(root / "reports"),
            NTRADER_LOGS=str(root / "logs"),
        )

    def ntrader(self, *args: str) -> subprocess.CompletedProcess:
        # cwd = the instance directory: the repo's dagster.yaml has storage paths relative to it
        return subprocess.run(
            [*NTRADER, *args], capture_output=True, text=True, timeout=TIMEOUT_S, env=self.env, cwd=self.home
        )


@pytest.fixture(scope="module")
def project(shared_gateway, tmp_path_factory) -> Project:
    project = Project(tmp_path_factory.mktemp("research"), shared_gateway)
    fetched = project.ntrader(
        "fetch",
        "--instruments",
        "SPY.ARCA,QQQ.NASDAQ",
        "--start",
        START,
        "--end",
        END,
        "--bar-spec",
        "1-MINUTE-LAST",
    )
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    project.fetch_output = fetched.stdout
    return project


def test_fetch_materializes_through_dagster_one_run_per_instrument(project, monkeypatch) -> None:
    out = project.fetch_output
    assert f"fetched {START}..{END} (4 sessions)" in out
    assert "sessions stored" in out
    for instrument in ("SPY.ARCA", "QQQ.NASDAQ"):
        assert instrument in out
    assert "logs: " in out and "ASSET_MATERIALIZATION" not in out  # Dagster's stream went to the log file
    log = Path(out.split("logs: ", 1)[1].split()[0])
    assert "ASSET_MATERIALIZATION" in log.read_text()
    monkeypatch.chdir(project.home)  # dagster.yaml's storage paths are relative to the working directory
    with dg.DagsterInstance.from_config(str(project.home)) as instance:
        runs = instance.get_runs()
        assert len(runs) == 2 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        materialized = instance.get_materialized_partitions(dg.AssetKey("bars_1_minute"))
        assert materialized == {"2024-01-01|SPY.ARCA", "2024-01-01|QQQ.NASDAQ"}  # one month partition each
        for instrument in ("SPY.ARCA", "QQQ.NASDAQ"):
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(
                    asset_key=dg.AssetKey("bars_1_minute"), asset_partitions=[f"2024-01-01|{instrument}"]
                ),
                limit=1,
            ).records
            metadata = records[0].asset_materialization.metadata
            assert (metadata["sessions"].value, metadata["bars"].value) == (4, 4 * 390)


def test_strategies_lists_parameters_and_defaults(project) -> None:
    done = project.ntrader("strategies", "ntrader_pipeline.strategies.momentum:Momentum")
    assert done.returncode == 0, done.stderr
    for text in ("sma_cross", "fast_period", "int > 0", "mean_reversion", "entry_z", "Momentum"):
        assert text in done.stdout
    unknown = project.ntrader("strategies", "no.such:Strategy")
    assert unknown.returncode == 2 and "cannot import module 'no.such'" in unknown.stdout


def test_backtest_run_writes_artefacts_metrics_and_report(project) -> None:
    done = project.ntrader(
        "backtest", "run", "--strategy", "sma_cross", "--instrument", "SPY.ARCA", "--start", START,
        "--end", END, "--param", "fast_period=5", "--param", "slow_period=20",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "adhoc_sma_cross on SPY.ARCA" in done.stdout and "Sharpe" in done.stdout
    directory = project.root / "backtests" / "adhoc_sma_cross" / "SPY.ARCA"
    assert {"equity.parquet", "manifest.json", "metrics.json"} <= {p.name for p in directory.iterdir()}
    assert '"fast_period": 5' in (directory / "manifest.json").read_text()
    assert (project.root / "reports" / "adhoc_sma_cross" / "SPY.ARCA.html").stat().st_size > 0

    listed = project.ntrader("results")
    assert listed.returncode == 0 and "adhoc_sma_cross" in listed.stdout and "SPY.ARCA" in listed.stdout
    summary = project.ntrader("report", "adhoc_sma_cross", "SPY.ARCA")
    assert summary.returncode == 0
    assert "total return" in summary.stdout
    assert str(project.root / "reports" / "adhoc_sma_cross" / "SPY.ARCA.html") in summary.stdout


def test_missing_sessions_are_named_with_the_command_that_fetches_them(project) -> None:
    done = project.ntrader(
        "backtest", "run", "--strategy", "momentum", "--instrument", "SPY.ARCA", "--start", START,
        "--end", "2024-01-09",
    )  # fmt: skip
    assert done.returncode == 1
    text = " ".join(done.stdout.split())
    assert "2 sessions are not in the catalog: 2024-01-08, 2024-01-09" in text
    assert "ntrader fetch --instruments SPY.ARCA --start 2024-01-02 --end 2024-01-09" in text


def test_bad_parameters_and_unknown_backtests_say_what_is_wrong(project) -> None:
    bad = project.ntrader(
        "backtest", "run", "--strategy", "sma_cross", "--instrument", "SPY.ARCA", "--start", START,
        "--end", END, "--param", "fast_period=-1",
    )  # fmt: skip
    assert bad.returncode == 2 and "command line, backtest 'adhoc_sma_cross'" in bad.stderr
    assert "fast_period" in bad.stderr
    missing = project.ntrader("report", "nope", "SPY.ARCA")
    assert missing.returncode == 1 and "materialize `nope_backtest`" in " ".join(missing.stdout.split())
