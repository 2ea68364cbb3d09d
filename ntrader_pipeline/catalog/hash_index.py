"""Content hashes of catalog files kept between processes, so a data version re-hashes only files that
changed: each Dagster step is a new process, and an instrument-decade is ~120 month files per bar type.

One small JSON file per directory of the catalog (`.hashes/<directory relative to the root>.json`)
maps a file name to its (size, mtime_ns, inode) and sha256. A file whose identity differs is hashed
again; a file written in the last `SETTLE_NS` is hashed but not remembered (its identity may not change
with its content within the filesystem's timestamp granularity). Local catalogs only.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from ntrader_pipeline.catalog.file_cache import file_identity, settled

INDEX_DIR = ".hashes"


class HashIndex:
    """sha256 of the files under `root`, remembered by file identity in `root/.hashes/`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._loaded: dict[Path, dict[str, list]] = {}
        self._dirty: set[Path] = set()
        self.hashed = 0  # files actually read this time (for tests and benchmarks)

    def sha256(self, path: Path, compute: Callable[[Path], str]) -> str:
        identity = file_identity(path)
        if identity is None:
            raise FileNotFoundError(path)
        entries = self._entries(path.parent)
        known = entries.get(path.name)
        if known is not None and tuple(known[:3]) == identity[1:]:
            return str(known[3])
        digest = compute(path)
        self.hashed += 1
        if settled([identity]):
            entries[path.name] = [*identity[1:], digest]
            self._dirty.add(path.parent)
        return digest

    def save(self) -> None:
        """Write the changed directory indexes (atomically; a concurrent writer's last write wins)."""
        for directory in self._dirty:
            target = self._index_file(directory)
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps(self._loaded[directory], sort_keys=True))
            os.replace(temporary, target)
        self._dirty.clear()

    def _entries(self, directory: Path) -> dict[str, list]:
        if directory not in self._loaded:
            try:
                self._loaded[directory] = json.loads(self._index_file(directory).read_text())
            except (FileNotFoundError, ValueError):
                self._loaded[directory] = {}
        return self._loaded[directory]

    def _index_file(self, directory: Path) -> Path:
        relative = directory.resolve().relative_to(self.root.resolve()).as_posix()
        name = relative.replace("/", "__") or "_root"
        return self.root / INDEX_DIR / f"{name}.json"


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
