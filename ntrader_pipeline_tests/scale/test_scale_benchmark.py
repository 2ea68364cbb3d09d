"""benchmarks/scale.py measures what it says: the candidates' partitions against a hand-counted calendar, and
its batch writer records materializations that Dagster's own queries then read."""

import datetime as dt
import sys
from pathlib import Path

import dagster as dg

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import scale  # noqa: E402
from scale_defs import History, build_candidate  # noqa: E402

# NYSE, 2024-01-02..2024-02-29: January's weekdays from the 2nd are 22, less MLK day (15th) = 21;
# February's 21 weekdays less Presidents' Day (19th) = 20.
JAN_FEB_2024 = History(instruments=2, first=dt.date(2024, 1, 2), last=dt.date(2024, 2, 29))
SESSIONS = 41


def _keys(candidate: str) -> dict[str, list[str]]:
    repository = build_candidate(candidate, JAN_FEB_2024).get_repository_def()
    return {
        key.to_user_string(): assets.partitions_def.get_partition_keys()
        for key, assets in repository.assets_defs_by_key.items()
    }


def test_session_by_instrument_has_every_session_and_no_holiday() -> None:
    (keys,) = _keys("A").values()
    assert len(keys) == SESSIONS * 2
    assert keys[0] == "2024-01-02|S0001.NYSE" and keys[-1] == "2024-02-29|S0002.NYSE"
    assert not [k for k in keys if k.startswith(("2024-01-15", "2024-02-19", "2024-01-06"))]


def test_month_by_instrument_has_one_key_per_month_and_instrument() -> None:
    assert _keys("B") == {
        "bars_1_minute": [
            "2024-01-01|S0001.NYSE",
            "2024-01-01|S0002.NYSE",
            "2024-02-01|S0001.NYSE",
            "2024-02-01|S0002.NYSE",
        ]
    }


def test_asset_per_instrument_has_the_sessions_on_each_asset() -> None:
    keys = _keys("C")
    assert sorted(keys) == ["bars_1_minute/S0001_NYSE", "bars_1_minute/S0002_NYSE"]
    assert all(len(k) == SESSIONS and "2024-01-15" not in k for k in keys.values())
    assert scale.partitions_per_asset("C", JAN_FEB_2024) == SESSIONS
    assert scale.partitions_per_asset("A", JAN_FEB_2024) == SESSIONS * 2


def test_batch_writes_on_sqlite_are_what_dagster_reads(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text(scale.instance_config("sqlite", tmp_path, None))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        # One event through the public per-call API, the other 81 through the batch writer.
        recorded = scale.record_materializations(instance, "A", JAN_FEB_2024, subset=2, api_sample=1)
        key = dg.AssetKey("bars_1_minute")
        materialized = instance.get_materialized_partitions(key)
        latest = instance.get_latest_materialization_event(key)
        by_tag = instance.event_log_storage.get_event_tags_for_asset(
            key, filter_tags={"dagster/partition/instrument": "S0002.NYSE"}
        )
    assert (recorded.events, recorded.batch_events) == (SESSIONS * 2, SESSIONS * 2 - 1)
    assert materialized == set(_keys("A")["bars_1_minute"])
    assert latest is not None and latest.dagster_event.partition == "2024-02-29|S0002.NYSE"
    assert len(by_tag) == SESSIONS  # the run-like dimension tags are indexed for every batched event
