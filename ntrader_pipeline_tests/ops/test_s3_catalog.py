"""The catalog on an S3-compatible object store (moto's server on loopback), configured like production:
NTRADER_CATALOG=s3://bucket/prefix plus the standard AWS_* variables."""

import json
import socket
from collections.abc import Iterator

import boto3
import dagster as dg
import pytest
from moto.server import ThreadedMotoServer
from nautilus_trader.model.data import BarType

from ntrader_pipeline.backtest.versions import catalog_files
from ntrader_pipeline.catalog.file_checks import verify_catalog
from ntrader_pipeline.catalog.location import CatalogLocation
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.markets.sessions import session_for
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.catalog_quality import check_stored_sessions
from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity, minute_bars
from ntrader_pipeline_tests.defs.helpers import (
    BAR_QUALITY,
    MINUTE_BARS,
    check_evaluations,
    materializations_of,
    materialize,
)

BUCKET = "ntrader-test"
SESSION = session_for("2024-01-02")
BAR_TYPE = BarType.from_str("SPY.ARCA-1-MINUTE-LAST-EXTERNAL")


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh prefix in a bucket on the loopback server; the AWS_* variables point at it."""
    for name, value in {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3")
    if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET)
    yield f"s3://{BUCKET}/{request.node.name}"


def object_keys(url: str) -> list[str]:
    prefix = url.removeprefix(f"s3://{BUCKET}/")
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"].removeprefix(prefix + "/") for o in listed.get("Contents", []))


def test_location_reads_the_standard_aws_variables() -> None:
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_DEFAULT_REGION": "eu-west-1"}
    location = CatalogLocation.parse("s3://bucket/some/prefix/", env)
    assert (location.protocol, location.root) == ("s3", "bucket/some/prefix")
    assert location.storage_options == {"endpoint_url": "http://127.0.0.1:9000"}
    assert location.rust_storage_options["allow_http"] == "true"
    assert location.rust_storage_options["region"] == "eu-west-1"
    assert CatalogLocation.parse("data/catalog").is_local
    with pytest.raises(ValueError, match="names no bucket"):
        CatalogLocation.parse("s3://")


def test_location_repr_holds_no_credentials() -> None:
    env = {"AWS_SECRET_ACCESS_KEY": "sentinel-secret", "AWS_SESSION_TOKEN": "sentinel-token"}
    location = CatalogLocation.parse("s3://bucket/prefix", env)
    assert location.rust_storage_options["secret_access_key"] == "sentinel-secret"
    assert "sentinel" not in repr(location) and "sentinel" not in str(location)


def test_sessions_round_trip_pass_quality_and_rewrite_idempotently(s3: str) -> None:
    store = CatalogStore(s3)
    bars = minute_bars(ib_equity(), [470 + (i % 7) * 0.1 for i in range(390)])
    assert store.write_instrument(ib_equity())
    path = store.write_session_bars(BAR_TYPE, SESSION, bars)
    assert str(path).startswith(f"{s3}/data/bar/")
    keys = object_keys(s3)
    assert keys == [
        "data/bar/SPY.ARCA-1-MINUTE-LAST-EXTERNAL/"
        "2024-01-01T00-00-00-000000000Z_2024-01-31T23-59-59-999999999Z.parquet",
        "data/equity/SPY.ARCA/1970-01-01T00-00-00-000000001Z_1970-01-01T00-00-00-000000001Z.parquet",
    ]

    fresh = CatalogStore(s3)  # a new process sees the same data
    assert fresh.has_session(BAR_TYPE, SESSION)
    assert not fresh.has_session(BAR_TYPE, session_for("2024-01-03"))
    read = fresh.read_session_bars(BAR_TYPE, SESSION)
    assert [(b.ts_event, b.close.as_double()) for b in read] == [
        (b.ts_event, b.close.as_double()) for b in bars
    ]
    assert fresh.instrument("SPY.ARCA").id.value == "SPY.ARCA"
    [quality] = check_stored_sessions(fresh, "SPY.ARCA", BarSpec.parse("1-MINUTE-LAST"), [SESSION])
    assert quality.passed, quality.describe()

    fresh.write_session_bars(BAR_TYPE, SESSION, bars)
    assert not fresh.write_instrument(ib_equity())  # identical definition: no second copy
    assert object_keys(s3) == keys
    assert len(fresh.read_bars(BAR_TYPE, [SESSION])) == 390


def test_bars_asset_and_quality_check_run_on_the_object_store(s3: str, ib_resource, tmp_path) -> None:
    storage = StorageResource(
        catalog=s3, artifacts=str(tmp_path / "backtests"), reports=str(tmp_path / "reports")
    )
    selection = dg.AssetSelection.assets(MINUTE_BARS) | dg.AssetSelection.checks_for_assets(MINUTE_BARS)
    for _ in range(2):  # the second run rewrites the same objects
        result = materialize(selection, ib_resource, storage, partition_key="2024-01-03|QQQ.NASDAQ")
        assert result.success
        [evaluation] = check_evaluations(result)
        assert evaluation.check_name == BAR_QUALITY and evaluation.passed
    bar_keys = [k for k in object_keys(s3) if k.startswith("data/bar/")]
    assert bar_keys == [
        "data/bar/QQQ.NASDAQ-1-MINUTE-LAST-EXTERNAL/"
        "2024-01-01T00-00-00-000000000Z_2024-01-31T23-59-59-999999999Z.parquet"
    ]
    stored = CatalogStore(s3).read_session_bars(
        "QQQ.NASDAQ-1-MINUTE-LAST-EXTERNAL", session_for("2024-01-03")
    )
    assert len(stored) == 390


def test_empty_session_record_on_the_object_store_gives_way_to_bars(s3: str) -> None:
    store = CatalogStore(s3)
    marker = store.write_empty_session(BAR_TYPE, SESSION, "HMDS query returned no data: SPY@ARCA Trades")
    assert marker is not None
    assert object_keys(s3) == [f"empty/{BAR_TYPE}/{SESSION.key}.json"]
    assert store.empty_reason(BAR_TYPE, SESSION) == "HMDS query returned no data: SPY@ARCA Trades"
    assert store.empty_session_dates(BAR_TYPE) == [SESSION.date]

    store.write_session_bars(BAR_TYPE, SESSION, minute_bars(ib_equity(), [470.0] * 390))
    assert store.empty_reason(BAR_TYPE, SESSION) is None
    assert not any(key.startswith("empty/") for key in object_keys(s3))
    # A later "no data" answer never hides stored bars.
    assert store.write_empty_session(BAR_TYPE, SESSION, "no data") is None


def test_definition_files_name_the_objects_on_the_store(s3: str) -> None:
    store = CatalogStore(s3)
    assert store.definition_files("SPY.ARCA") == []
    store.write_instrument(ib_equity())

    (definition,) = CatalogStore(s3).definition_files("SPY.ARCA")

    assert str(definition).startswith(f"{s3}/data/equity/SPY.ARCA/")
    assert definition.exists() and definition.name.endswith(".parquet")
    assert definition.relative_to(store.path).as_posix() in object_keys(s3)
    (entry,) = catalog_files(store.path, [definition, definition])
    assert entry.path == definition.relative_to(store.path).as_posix() and entry.bytes > 0


def test_definition_is_in_the_data_version_and_the_backtest_manifest(s3: str, ib_resource, tmp_path) -> None:
    """On an s3:// catalog the instrument definition counts in `bars_1_minute_version` and in a declared
    backtest's manifest (it was silently left out when its path was taken for a local one)."""
    storage = StorageResource(
        catalog=s3, artifacts=str(tmp_path / "backtests"), reports=str(tmp_path / "reports")
    )
    fetched = materialize(
        dg.AssetSelection.assets(MINUTE_BARS),
        ib_resource,
        storage,
        partition_range=("2024-01-02|SPY.ARCA", "2024-01-05|SPY.ARCA"),
    )
    assert fetched.success
    version_asset = dg.AssetSelection.assets("bars_1_minute_version")
    chain = version_asset | dg.AssetSelection.assets("sma_cross_backtest")
    window = {"ops": {"sma_cross": {"config": {"start": "2024-01-02", "end": "2024-01-05"}}}}
    result = materialize(chain, ib_resource, storage, partition_key="SPY.ARCA", run_config=window)
    assert result.success

    [version] = result.asset_materializations_for_node("bars_1_minute_version")
    assert version.metadata["files"].value == 1 + 1  # the four sessions' month file and the definition
    [definition_key] = [k for k in object_keys(s3) if k.startswith("data/equity/SPY.ARCA/")]
    manifest = json.loads((tmp_path / "backtests" / "sma_cross" / "SPY.ARCA" / "manifest.json").read_text())
    listed = [entry["path"] for entry in manifest["catalog_files"]]
    assert definition_key in listed and len(listed) == 1 + 1
    [backtest] = materializations_of(result, "sma_cross_backtest")
    assert backtest.metadata["catalog_files"].value == 1 + 1
    assert manifest["data_version"] == backtest.metadata["data_version"].value

    # Without the definition the version is another one: the definition is part of it.
    boto3.client("s3").delete_object(
        Bucket=BUCKET, Key=f"{s3.removeprefix(f's3://{BUCKET}/')}/{definition_key}"
    )
    without = materialize(version_asset, ib_resource, storage, partition_key="SPY.ARCA")
    [changed] = without.asset_materializations_for_node("bars_1_minute_version")
    assert changed.metadata["files"].value == 1
    assert changed.metadata["data_version"].value != version.metadata["data_version"].value


def test_unreadable_object_fails_file_readable_and_is_listed(s3: str) -> None:
    store = CatalogStore(s3)
    store.write_instrument(ib_equity())
    path = store.write_session_bars(BAR_TYPE, SESSION, minute_bars(ib_equity(), [470.0] * 390))
    key = f"{s3.removeprefix(f's3://{BUCKET}/')}/{path.relative_to(store.path).as_posix()}"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"PAR1 not really")
    fresh = CatalogStore(s3)
    [quality] = check_stored_sessions(fresh, "SPY.ARCA", BarSpec.parse("1-MINUTE-LAST"), [SESSION])
    assert quality.failures == {"file_readable": 1}
    assert (
        str(path) in quality.describe()
        and "re-materialize partition 2024-01-01|SPY.ARCA (session 2024-01-02)" in quality.describe()
    )
    [problem] = verify_catalog(fresh)
    assert problem.path == str(path) and "truncated or not a Parquet file" in problem.problem
