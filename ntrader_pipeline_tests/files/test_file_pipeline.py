"""File-backed instruments through the same assets: fetch → checks → backtest → report, in-process."""

import json
import socket
from pathlib import Path

import dagster as dg
import pytest

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.defs.resources import IBGatewayResource, StorageResource
from ntrader_pipeline.ingest.files.samples import write_sample_file
from ntrader_pipeline_tests.defs.helpers import MINUTE_BARS, all_assets, check_evaluations, materialize

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
WINDOW = {"start": START, "end": END}
BARS_AND_CHECK = dg.AssetSelection.assets(MINUTE_BARS) | dg.AssetSelection.checks_for_assets(MINUTE_BARS)
CHAIN = dg.AssetSelection.assets("sma_cross_backtest", "sma_cross_metrics", "sma_cross_report")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.universe = root / "universe.yaml"
        self.catalog = root / "catalog"
        self.artifacts = root / "backtests"
        self.reports = root / "reports"
        self.assets = all_assets(self.universe, root / "backtests.yaml")
        self.storage = StorageResource(
            catalog=str(self.catalog), artifacts=str(self.artifacts), reports=str(self.reports)
        )
        # file-backed runs must not need a gateway
        self.ib = IBGatewayResource(port=_closed_port(), connect_timeout_s=1, pacing=False)

    def run(self, selection: dg.AssetSelection, **kwargs: object) -> dg.ExecuteInProcessResult:
        return materialize(selection, self.ib, self.storage, assets=self.assets, **kwargs)

    def import_bars(self, instrument: str) -> dg.ExecuteInProcessResult:
        return self.run(BARS_AND_CHECK, partition_range=(f"{START}|{instrument}", f"{END}|{instrument}"))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    write_sample_file(tmp_path / "bars" / "acme.csv", "ACME", START, END)
    write_sample_file(tmp_path / "bars" / "beta.parquet", "BETA", START, END, format="parquet")
    (tmp_path / "universe.yaml").write_text(UNIVERSE)
    (tmp_path / "backtests.yaml").write_text(BACKTESTS)
    return Project(tmp_path)


def _snapshot(catalog: Path) -> dict[str, bytes]:
    return {str(p.relative_to(catalog)): p.read_bytes() for p in sorted(catalog.rglob("*.parquet"))}


def test_csv_and_parquet_instruments_reach_backtests_and_reports(project):
    for instrument in ("ACME.XNAS", "BETA.XNYS"):
        done = project.import_bars(instrument)
        assert done.success
        assert [e.passed for e in check_evaluations(done)] == [True]
    stored = _snapshot(project.catalog)
    store = CatalogStore(project.catalog)
    for instrument in ("ACME.XNAS", "BETA.XNYS"):
        bar_type = f"{instrument}-1-MINUTE-LAST-EXTERNAL"
        assert len([name for name in stored if f"/bar/{bar_type}/" in name]) == 1  # one month file
        assert len(store.stored_session_dates(bar_type)) == 4
    assert len([name for name in stored if name.startswith("data/equity/")]) == 2

    assert project.import_bars("ACME.XNAS").success
    assert _snapshot(project.catalog) == stored

    for instrument in ("ACME.XNAS", "BETA.XNYS"):
        done = project.run(
            CHAIN, partition_key=instrument, run_config={"ops": {"sma_cross": {"config": WINDOW}}}
        )
        assert done.success
        report = project.reports / "sma_cross" / f"{instrument}.html"
        assert instrument in report.read_text()
        metrics = json.loads((project.artifacts / "sma_cross" / instrument / "metrics.json").read_text())
        assert metrics["bar_count"] == 4 * 390


def test_bad_file_fails_naming_file_line_and_field_and_keeps_the_catalog(project):
    assert project.import_bars("ACME.XNAS").success
    stored = _snapshot(project.catalog)

    csv = project.root / "bars" / "acme.csv"
    lines = csv.read_text().splitlines()
    fields = lines[500].split(",")
    fields[4] = "n/a"  # close
    lines[500] = ",".join(fields)
    csv.write_text("\n".join(lines) + "\n")

    done = project.import_bars("ACME.XNAS")
    assert not done.success
    failure = next(e for e in done.all_events if e.event_type_value == "STEP_FAILURE")
    assert f"{csv} line 501, field close: 'n/a' is not a number" in str(failure.step_failure_data.error)
    assert _snapshot(project.catalog) == stored
