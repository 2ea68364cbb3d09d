"""Reliability table, files rows: what a damaged, foreign or missing catalog file and an unwritable or
full catalog location do. Each row states the expected outcome and asserts nothing lost, nothing
duplicated, a clear error naming what and where, and a bounded wait.

Rows (fault: expected outcome):
- F1 truncated session file: bar_quality fails `file_readable` naming file, session and remedy; the gate
  refuses the backtest the same way; `ntrader catalog --verify` lists it and exits 1; re-materializing
  the partition replaces it (verify exits 0 again).
- F2 zero-byte session file: as F1.
- F3 foreign Parquet under a session's file name: as F1 ("is not a bar file").
- F4 foreign file (not Parquet) in a bar directory: `--verify` lists it ("move it out"), exit 1; the
  partition's check is unharmed.
- F5 instrument definition missing or truncated: the gate fails `instrument_defined`; `--verify` lists
  it; a re-materialization stores it again (one file).
- F6 unwritable catalog (its parent is a regular file): the run fails with one line naming
  NTRADER_CATALOG and the path; nothing is written.
- F6b read-only catalog location (a read-only mount, or a directory the user cannot write): the same
  one line, with "Read-only file system" / "Permission denied".
- F7 full disk (a 256 KiB tmpfs in a mount namespace; where none is allowed, a 4 KiB file-size limit, the
  kernel's EFBIG): one line naming NTRADER_CATALOG, the path and "No space left on device" ("File too
  large"); the previous session file is intact and no staging directory is left.

The other rows of the table outside the IB and killed-run ones: configuration (C1-C4)
`test_fault_matrix_config.py`, secrets (S1) `test_fault_matrix_secrets.py`, object store
`test_s3_catalog.py` (definition in the data version and the manifest; file_readable on S3), reports
server `ui/test_reports_server.py`, CI strictness `test_ci_strict.py`.
"""

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ntrader_pipeline.backtest.versions import file_sha256
from ntrader_pipeline.catalog.store import CatalogLocationError, CatalogStore
from ntrader_pipeline.defs.resources import StorageResource
from ntrader_pipeline.markets.sessions import session_for, sessions_between
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.gate import SessionsNotReadyError, require_clean_sessions
from ntrader_pipeline_tests.cli import tree_pythonpath
from ntrader_pipeline_tests.defs.helpers import MINUTE_BARS, all_assets, check_evaluations, materialize

INSTRUMENT = "SPY.ARCA"
SESSION = session_for("2024-01-03")
PARTITION = f"{SESSION.key}|{INSTRUMENT}"  # the helpers' form: the session's month, narrowed to it
MONTH_PARTITION = f"{SESSION.date:%Y-%m}-01|{INSTRUMENT}"  # the partition Dagster and the remedies name
# The sessions a damaged January 2024 file may have held: 23 weekdays less New Year's Day and MLK Day.
JANUARY_2024_SESSIONS = 21
SPEC = BarSpec.parse("1-MINUTE-LAST")
BAR_TYPE = SPEC.bar_type(INSTRUMENT)
BARS_PER_SESSION = 390
WAIT_BOUND_S = 60  # every step of a row (a run, a check, a verify) ends within this
NTRADER = [sys.executable, "-m", "ntrader_pipeline.cli"]


def _bounded(started: float, what: str) -> None:
    elapsed = time.monotonic() - started
    assert elapsed < WAIT_BOUND_S, f"{what} took {elapsed:.1f} s (bound {WAIT_BOUND_S} s)"


def _minute_bars_and_check() -> list:
    """Only the 1-minute bars asset and its check: a run of the check alone needs one partitioning."""
    return [
        a
        for a in all_assets()
        if (MINUTE_BARS in a.keys if not isinstance(a, dg.AssetChecksDefinition) else False)
        or (isinstance(a, dg.AssetChecksDefinition) and any(k.asset_key == MINUTE_BARS for k in a.check_keys))
    ]


def _run(selection: dg.AssetSelection, ib_resource, storage: StorageResource) -> dg.ExecuteInProcessResult:
    started = time.monotonic()
    assets = _minute_bars_and_check()
    result = materialize(selection, ib_resource, storage, partition_key=PARTITION, assets=assets)
    _bounded(started, f"materializing {PARTITION}")
    return result


def _materialize_with_check(ib_resource, storage: StorageResource) -> dg.AssetCheckEvaluation:
    selection = dg.AssetSelection.assets(MINUTE_BARS) | dg.AssetSelection.checks_for_assets(MINUTE_BARS)
    result = _run(selection, ib_resource, storage)
    [evaluation] = check_evaluations(result)
    return evaluation


def _check_only(ib_resource, storage: StorageResource) -> dg.AssetCheckEvaluation:
    """The blocking check by itself, as the UI's "Execute check" runs it (a job of the check alone)."""
    assets = _minute_bars_and_check()
    [bars] = [a for a in assets if not isinstance(a, dg.AssetChecksDefinition)]
    job = dg.define_asset_job(
        "bar_quality_only",
        selection=dg.AssetSelection.checks_for_assets(MINUTE_BARS),
        partitions_def=bars.partitions_def,
    )
    defs = dg.Definitions(assets=assets, jobs=[job], resources={"ib": ib_resource, "storage": storage})
    started = time.monotonic()
    # Dagster 1.13 refuses `partition_key=` for a run without assets; the UI sets these run tags instead.
    tags = {
        "dagster/partition": MONTH_PARTITION,
        "dagster/partition/date": MONTH_PARTITION.split("|")[0],
        "dagster/partition/instrument": INSTRUMENT,
    }
    result = defs.resolve_job_def("bar_quality_only").execute_in_process(tags=tags, raise_on_error=False)
    _bounded(started, "the bar_quality check")
    [evaluation] = check_evaluations(result)
    return evaluation


def _verify(catalog: str) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run(
        [*NTRADER, "catalog", "--path", catalog, "--verify"],
        capture_output=True,
        text=True,
        timeout=WAIT_BOUND_S,
        env=dict(os.environ),
    )
    _bounded(started, "ntrader catalog --verify")
    return done


def _session_files(store: CatalogStore) -> list[Path]:
    return sorted(store.bar_directory(BAR_TYPE).iterdir())


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _zero(path: Path) -> None:
    path.write_bytes(b"")


def _foreign_parquet(path: Path) -> None:
    pq.write_table(pa.table({"symbol": ["SPY"], "price": [470.0]}), path)


DAMAGE = {
    "F1-truncated": (_truncate, "is truncated or not a Parquet file"),
    "F2-zero-byte": (_zero, "is empty (0 bytes)"),
    "F3-foreign-parquet": (_foreign_parquet, "is not a bar file"),
}


@pytest.mark.parametrize("row", sorted(DAMAGE))
def test_damaged_session_file_is_named_refused_listed_and_healed(row: str, ib_resource, storage) -> None:
    damage, reason = DAMAGE[row]
    assert _materialize_with_check(ib_resource, storage).passed
    store = CatalogStore(storage.catalog)
    [path] = _session_files(store)
    assert path == store.month_file(BAR_TYPE, SESSION)
    good_hash = file_sha256(path)
    damage(path)

    # The blocking check fails the named rule, naming the file, the session and the remedy.
    evaluation = _check_only(ib_resource, storage)
    assert not evaluation.passed
    metadata = {key: value.value for key, value in evaluation.metadata.items()}
    # A damaged month file no longer says which sessions it holds: each of its month's sessions fails.
    assert len(sessions_between("2024-01-01", "2024-01-31")) == JANUARY_2024_SESSIONS
    assert metadata["failures_file_readable"] == JANUARY_2024_SESSIONS
    listed = metadata["failed_sessions"]
    assert str(path) in listed and reason in listed and f"session {SESSION.key}" in listed
    assert f"re-materialize partition {MONTH_PARTITION} (session {SESSION.key})" in listed
    assert "ArrowInvalid" not in listed.split(reason)[0]  # the rule speaks first, pyarrow's text after

    # The backtest gate refuses with the same rule instead of raising pyarrow's ArrowInvalid.
    with pytest.raises(SessionsNotReadyError) as refused:
        require_clean_sessions(store, INSTRUMENT, SPEC, [SESSION], "bars_1_minute", require_definition=True)
    assert "file_readable" in str(refused.value) and str(path) in str(refused.value)

    # `ntrader catalog --verify` lists it and exits non-zero.
    done = _verify(storage.catalog)
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        str(path) in done.stdout
        and reason in done.stdout
        and f"re-materialize partition {MONTH_PARTITION}" in done.stdout
    )

    # Re-materializing the partition replaces it: one file, every bar, the same content as before.
    assert _materialize_with_check(ib_resource, storage).passed
    assert _session_files(store) == [path]
    assert file_sha256(path) == good_hash
    assert len(store.read_session_bars(BAR_TYPE, SESSION)) == BARS_PER_SESSION
    assert _verify(storage.catalog).returncode == 0


def test_F4_foreign_file_in_a_bar_directory_is_listed(ib_resource, storage) -> None:
    assert _materialize_with_check(ib_resource, storage).passed
    store = CatalogStore(storage.catalog)
    stray = store.bar_directory(BAR_TYPE) / "export from excel.csv"
    stray.write_text("date,close\n2024-01-03,470\n")
    done = _verify(storage.catalog)
    assert done.returncode == 1
    assert f"{stray} is not a month file of {BAR_TYPE}; move it out of the catalog" in done.stdout
    assert _check_only(ib_resource, storage).passed  # the partition's own file is intact
    stray.unlink()
    clean = _verify(storage.catalog)
    assert clean.returncode == 0 and "every file is readable" in clean.stdout


@pytest.mark.parametrize("fault", ["missing", "truncated"])
def test_F5_instrument_definition_missing_or_unreadable(fault: str, ib_resource, storage) -> None:
    assert _materialize_with_check(ib_resource, storage).passed
    store = CatalogStore(storage.catalog)
    [definition] = store.definition_files(INSTRUMENT)
    if fault == "missing":
        definition.unlink()
    else:
        _truncate(definition)

    with pytest.raises(SessionsNotReadyError) as refused:
        require_clean_sessions(store, INSTRUMENT, SPEC, [SESSION], "bars_1_minute", require_definition=True)
    message = str(refused.value)
    assert "instrument_defined" in message and INSTRUMENT in message
    assert ("is not in the catalog" if fault == "missing" else str(definition)) in message
    done = _verify(storage.catalog)
    assert done.returncode == 1 and INSTRUMENT in done.stdout and "re-materialize partition" in done.stdout

    assert _materialize_with_check(ib_resource, storage).passed
    assert store.definition_files(INSTRUMENT) == [definition]  # one file, not a second copy
    # IB stamps a definition with the fetch time, so the bytes differ; the definition itself is back
    assert store.instrument(INSTRUMENT).id.value == INSTRUMENT
    require_clean_sessions(store, INSTRUMENT, SPEC, [SESSION], "bars_1_minute", require_definition=True)
    assert _verify(storage.catalog).returncode == 0


def test_F6_unwritable_catalog_fails_in_one_line_naming_path_and_variable(ib_resource, tmp_path) -> None:
    blocker = tmp_path / "not_a_directory"
    blocker.write_text("a file where the catalog's parent directory should be")
    catalog = blocker / "catalog"
    storage = StorageResource(
        catalog=str(catalog), artifacts=str(tmp_path / "backtests"), reports=str(tmp_path / "reports")
    )
    result = _run(dg.AssetSelection.assets(MINUTE_BARS), ib_resource, storage)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    error = failure.step_failure_data.error.cause  # Dagster wraps the asset's own exception
    message = error.message.strip()
    assert error.cls_name == "CatalogLocationError"
    assert "\n" not in message
    assert f"NTRADER_CATALOG={catalog}" in message and "cannot create the catalog directory" in message
    assert blocker.read_text().startswith("a file where")  # nothing written over it or beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not_a_directory"]

    with pytest.raises(CatalogLocationError, match=r"NTRADER_CATALOG=.*not_a_directory/catalog"):
        CatalogStore(catalog)


_READ_ONLY_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from nautilus_trader.model.data import BarType
    from ntrader_pipeline.catalog.store import CatalogLocationError, CatalogStore
    from ntrader_pipeline.markets.sessions import session_for, sessions_between
    from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity, minute_bars

    catalog = Path(sys.argv[1]) / "catalog"
    try:
        store = CatalogStore(catalog)
        bar_type = BarType.from_str("SPY.ARCA-1-MINUTE-LAST-EXTERNAL")
        store.write_session_bars(bar_type, session_for("2024-01-02"), minute_bars(ib_equity(), [470.0] * 390))
    except CatalogLocationError as exc:
        print("ERROR", exc)
    print("FILES", sorted(str(p) for p in Path(sys.argv[1]).rglob("*")))
    """
)


def _read_only_command(directory: Path) -> tuple[list[str], str]:
    """A read-only tmpfs in a mount namespace; else a 0555 directory (not root), or a regular file where
    the directory should be (root without a namespace: permission bits do not stop root)."""
    script = [sys.executable, "-c", _READ_ONLY_SCRIPT, str(directory)]
    unshare = shutil.which("unshare")
    options = ["-m"] if os.geteuid() == 0 else ["-r", "-m"]
    if unshare is not None:
        mount = f"mount -t tmpfs -o ro,size=64k tmpfs {directory}"
        probe = subprocess.run([unshare, *options, "sh", "-c", mount], capture_output=True, timeout=30)
        if probe.returncode == 0:
            shell = f'{mount} && exec {sys.executable} -c "$NTRADER_READ_ONLY_SCRIPT" {directory}'
            return [unshare, *options, "sh", "-c", shell], "Read-only file system"
    if os.geteuid() != 0:
        directory.chmod(0o555)
        return script, "Permission denied"
    # root ignores permission bits and has no namespace here: a location under a regular file instead
    directory.rmdir()
    directory.write_text("not a directory")
    return script, "Not a directory"


def test_F6b_read_only_catalog_fails_in_one_line(tmp_path: Path) -> None:
    location = tmp_path / "read_only"
    location.mkdir()
    command, cause = _read_only_command(location)
    env = {
        **os.environ,
        "NTRADER_READ_ONLY_SCRIPT": _READ_ONLY_SCRIPT,
        "PYTHONPATH": tree_pythonpath(),
    }
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=WAIT_BOUND_S, env=env, cwd="/")
    _bounded(started, "the read-only write")
    assert done.returncode == 0, done.stdout + done.stderr
    [error] = [line for line in done.stdout.splitlines() if line.startswith("ERROR")]
    assert f"NTRADER_CATALOG={location}/catalog: cannot create the catalog directory: {cause}" in error
    # nothing half-written: the location is as it was (an empty directory, or the file left untouched)
    if location.is_dir():
        assert "FILES []" in done.stdout and not (location / "catalog").exists()
    else:
        assert location.read_text() == "not a directory"


_FULL_DISK_SCRIPT = textwrap.dedent(
    """
    import hashlib, os, sys
    from pathlib import Path
    from nautilus_trader.model.data import BarType
    from ntrader_pipeline.catalog.store import CatalogLocationError, CatalogStore
    from ntrader_pipeline.markets.sessions import session_for, sessions_between
    from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity, minute_bars

    root = Path(sys.argv[1])
    store = CatalogStore(root / "catalog")
    session = session_for("2024-01-02")
    bar_type = BarType.from_str("SPY.ARCA-1-MINUTE-LAST-EXTERNAL")
    store.write_instrument(ib_equity())
    path = store.write_session_bars(bar_type, session, minute_bars(ib_equity(), [470.0] * 390))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    if sys.argv[2] == "tmpfs":  # fill the file system to the last byte
        filler = os.open(root / "filler", os.O_WRONLY | os.O_CREAT)
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(filler, b"x" * size)
            except OSError:
                pass
        os.close(filler)
    else:  # no tiny file system to be had: the kernel refuses writes past 4 KiB per file (EFBIG)
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
    try:
        changed = minute_bars(ib_equity(), [471.0 + i / 100 for i in range(390)])
        store.write_session_bars(bar_type, session, changed)
    except CatalogLocationError as exc:
        print("ERROR", exc)
    else:
        print("WROTE")
    after = hashlib.sha256(path.read_bytes()).hexdigest()
    staging = sorted(p.name for p in (root / "catalog" / ".staging").iterdir())
    stored = len(store.read_session_bars(bar_type, session))
    print("INTACT", before == after, "STAGING", staging, "BARS", stored)
    """
)


def _full_disk_command(directory: Path) -> tuple[list[str], str]:
    """Run the script on a 256 KiB tmpfs in a private mount namespace (root, or a user namespace), the
    honest full disk; where no namespace is allowed, with a 4 KiB file-size limit (the kernel's EFBIG)."""
    unshare = shutil.which("unshare")
    options = ["-m"] if os.geteuid() == 0 else ["-r", "-m"]
    if unshare is not None:
        probe = subprocess.run(
            [unshare, *options, "sh", "-c", f"mount -t tmpfs -o size=4k tmpfs {directory}"],
            capture_output=True,
            timeout=30,
        )
        if probe.returncode == 0:
            shell = (
                f"mount -t tmpfs -o size=256k tmpfs {directory} && "
                f'exec {sys.executable} -c "$NTRADER_FULL_DISK_SCRIPT" {directory} tmpfs'
            )
            return [unshare, *options, "sh", "-c", shell], "No space left on device"
    return [sys.executable, "-c", _FULL_DISK_SCRIPT, str(directory), "rlimit"], "File too large"


def test_F7_full_disk_fails_in_one_line_and_keeps_the_previous_file(tmp_path: Path) -> None:
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    command, cause = _full_disk_command(mount_point)
    env = {
        **os.environ,
        "NTRADER_FULL_DISK_SCRIPT": _FULL_DISK_SCRIPT,
        "PYTHONPATH": tree_pythonpath(),
    }
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=WAIT_BOUND_S, env=env)
    _bounded(started, "the full-disk write")
    assert done.returncode == 0, done.stdout + done.stderr
    [error] = [line for line in done.stdout.splitlines() if line.startswith("ERROR")]
    assert f"NTRADER_CATALOG={mount_point}/catalog: cannot write session 2024-01-02" in error
    assert cause in error and "nothing was written" in error
    assert "INTACT True STAGING [] BARS 390" in done.stdout
