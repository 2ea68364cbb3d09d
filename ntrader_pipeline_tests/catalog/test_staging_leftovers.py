"""Staging leftovers of a killed writer are removed by the next write; a concurrent writer's are kept."""

import os
import time
from pathlib import Path

from ntrader_pipeline.catalog.store import STALE_STAGING_S, remove_stale_staging


def test_only_old_leftovers_are_removed(tmp_path: Path) -> None:
    staging = tmp_path / ".staging"
    old_dir, old_file, fresh = staging / "tmpkilled", staging / "stray.parquet", staging / "tmpwriting"
    for directory in (old_dir, fresh):
        (directory / "data").mkdir(parents=True)
        (directory / "data" / "half.parquet").write_bytes(b"PAR1")
    old_file.write_bytes(b"PAR1")
    stale = time.time() - STALE_STAGING_S - 1
    for path in (old_dir, old_file):
        os.utime(path, (stale, stale))

    assert sorted(p.name for p in remove_stale_staging(staging)) == ["stray.parquet", "tmpkilled"]
    assert [p.name for p in staging.iterdir()] == ["tmpwriting"]
    assert remove_stale_staging(staging) == []
