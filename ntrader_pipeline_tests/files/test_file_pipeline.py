"""File-backed instruments through the same assets: fetch → checks → backtest → report (CLI runs)."""

import json
import socket
from pathlib import Path

import pytest

from ntrader_pipeline.ingest.files.samples import write_sample_file
from ntrader_pipeline_tests.cli import IN_PROCESS, dagster_home, materialize_cli

START, END = "2024-01-02", "2024-01-05"
UNIVERSE = """\
bar_specs: [1-MINUTE-LAST]
instruments:
  - symbol: ACME
    source: {path: bars/acme.csv, venue: XNAS}
  - symbol: BETA
    source: {path: bars/beta.parquet, venue: XNYS, timezone: America/New_York}
"""
BACKTESTS = f"""\
backtests:
  sma_cross:
    strategy: sma_cross
    instruments: [ACME.XNAS, BETA.XNYS]
    window: {{start: {START}, end: {END}}}
    index_instrument: ACME.XNAS
"""
WINDOW = json.dumps({"execution": {"config": {"in_process": {}}}})


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    write_sample_file(tmp_path / "bars" / "acme.csv", "ACME", START, END)
    write_sample_file(tmp_path / "bars" / "beta.parquet", "BETA", START, END, format="parquet")
    (tmp_path / "universe.yaml").write_text(UNIVERSE)
    (tmp_path / "backtests.yaml").write_text(BACKTESTS)
    env = {
        "NTRADER_UNIVERSE": str(tmp_path / "universe.yaml"),
        "NTRADER_BACKTESTS": str(tmp_path / "backtests.yaml"),
        "NTRADER_CATALOG": str(tmp_path / "catalog"),
        "NTRADER_ARTIFACTS": str(tmp_path / "backtests"),
        "NTRADER_REPORTS": str(tmp_path / "reports"),
        "IB_PORT": str(_closed_port()),  # file-backed runs must not need a gateway
    }
    return dagster_home(tmp_path), env


def _snapshot(catalog: Path) -> dict[str, bytes]:
    return {str(p.relative_to(catalog)): p.read_bytes() for p in sorted(catalog.rglob("*.parquet"))}


def _import(home: Path, env: dict[str, str], instrument: str):
    partition_range = f"{START}|{instrument}...{END}|{instrument}"
    return materialize_cli(
        home,
        env,
        "--select",
        "bars_1_minute",
        "--partition-range",
        partition_range,
        "--config-json",
        IN_PROCESS,
    )


def test_csv_and_parquet_instruments_reach_backtests_and_reports(project):
    home, env = project
    catalog = Path(env["NTRADER_CATALOG"])
    for instrument in ("ACME.XNAS", "BETA.XNYS"):
        done = _import(home, env, instrument)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Asset check 'bar_quality' on 'bars_1_minute' passed" in done.stderr
    stored = _snapshot(catalog)
    assert len([name for name in stored if "/bar/ACME.XNAS-1-MINUTE-LAST-EXTERNAL/" in name]) == 4
    assert len([name for name in stored if "/bar/BETA.XNYS-1-MINUTE-LAST-EXTERNAL/" in name]) == 4
    assert len([name for name in stored if name.startswith("data/equity/")]) == 2

    rerun = _import(home, env, "ACME.XNAS")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert _snapshot(catalog) == stored

    for instrument in ("ACME.XNAS", "BETA.XNYS"):
        done = materialize_cli(
            home,
            env,
            "--select",
            "sma_cross_backtest,sma_cross_metrics,sma_cross_report",
            "--partition",
            instrument,
            "--config-json",
            WINDOW,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        report = Path(env["NTRADER_REPORTS"]) / "sma_cross" / f"{instrument}.html"
        assert instrument in report.read_text()
        metrics = json.loads(
            (Path(env["NTRADER_ARTIFACTS"]) / "sma_cross" / instrument / "metrics.json").read_text()
        )
        assert metrics["bar_count"] == 4 * 390


def test_bad_file_fails_naming_file_line_and_field_and_keeps_the_catalog(project):
    home, env = project
    catalog = Path(env["NTRADER_CATALOG"])
    assert _import(home, env, "ACME.XNAS").returncode == 0
    stored = _snapshot(catalog)

    csv = Path(env["NTRADER_UNIVERSE"]).parent / "bars" / "acme.csv"
    lines = csv.read_text().splitlines()
    fields = lines[500].split(",")
    fields[4] = "n/a"  # close
    lines[500] = ",".join(fields)
    csv.write_text("\n".join(lines) + "\n")

    done = _import(home, env, "ACME.XNAS")
    assert done.returncode != 0
    assert f"{csv} line 501, field close: 'n/a' is not a number" in done.stderr
    assert _snapshot(catalog) == stored
