"""A CLI backfill over a range: one run, tagged, logged as JSON lines, rerunnable without duplicates."""

import json
from pathlib import Path

import dagster as dg
import pytest

from ntrader_pipeline.defs.run_tags import INSTRUMENT_TAG, SESSIONS_TAG
from ntrader_pipeline.markets.session_months import month_key
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline_tests.cli import dagster_home, materialize_cli, sessions_config

RANGE = "2024-01-01|SPY.ARCA...2024-01-01|SPY.ARCA"  # exactly as the README documents it: months
SESSIONS = sessions_config("2024-01-02", "2024-01-05", "bars_1_minute")  # ... narrowed to these sessions
BAR_TYPE = "SPY.ARCA-1-MINUTE-LAST-EXTERNAL"


def json_lines(stderr: str) -> list[dict]:
    lines = []
    for line in stderr.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_range_backfill_is_one_tagged_run_and_a_rerun_duplicates_nothing(
    ib_gateway, storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = dagster_home(tmp_path)
    env = {
        "IB_HOST": ib_gateway.host,
        "IB_PORT": str(ib_gateway.port),
        "NTRADER_CATALOG": storage.catalog,
    }
    args = ("--select", "bars_1_minute", "--partition-range", RANGE, "--config-json", SESSIONS)
    first = materialize_cli(home, env, *args)
    assert first.returncode == 0, first.stderr[-3000:]
    store = storage.catalog_store()
    sessions = sessions_between("2024-01-02", "2024-01-05")
    files = sorted(p.name for p in store.bar_directory(BAR_TYPE).glob("*.parquet"))
    bars = len(store.read_bars(BAR_TYPE, sessions))
    assert files == [p.name for p in store.bar_files(BAR_TYPE, sessions)]  # one January month file
    assert store.stored_session_dates(BAR_TYPE) == {s.date for s in sessions} and bars == 4 * 390

    second = materialize_cli(home, env, *args)
    assert second.returncode == 0, second.stderr[-3000:]
    assert sorted(p.name for p in store.bar_directory(BAR_TYPE).glob("*.parquet")) == files
    assert len(store.read_bars(BAR_TYPE, sessions)) == bars

    # structlog JSON lines carry the run id, each stored session and its month partition.
    written = [line for line in json_lines(second.stderr) if line.get("event") == "session_written"]
    assert sorted(line["session"] for line in written) == [s.key for s in sessions]
    assert {line["partition"] for line in written} == {f"{month_key(s.key)}|SPY.ARCA" for s in sessions}
    assert all(line["bars"] == 390 and line["instrument"] == "SPY.ARCA" for line in written)

    monkeypatch.chdir(home)  # dagster.yaml's storage paths are relative to the working directory
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert len(runs) == 2  # single-run backfill policy: the whole range is one run each time
        assert {line["run_id"] for line in written} == {runs[0].run_id}
        for run in runs:
            assert run.tags[INSTRUMENT_TAG] == "SPY.ARCA"
            assert run.tags[SESSIONS_TAG] == "2024-01-02...2024-01-05"
        record = instance.fetch_materializations(dg.AssetKey("bars_1_minute"), limit=1).records[0]
        metadata = record.asset_materialization.metadata
        assert metadata["sessions"] == dg.IntMetadataValue(4)
        assert metadata["bars"] == dg.IntMetadataValue(4 * 390)
        assert record.partition_key == "2024-01-01|SPY.ARCA"
