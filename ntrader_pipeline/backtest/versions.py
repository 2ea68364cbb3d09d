"""What makes a backtest reproducible: hashes of its config, its code and the catalog files it read."""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ntrader_pipeline.catalog.file_cache import IdentityCache, file_identity, is_local, settled
from ntrader_pipeline.catalog.hash_index import HashIndex, hash_file

PACKAGE = "ntrader_pipeline"
PACKAGE_DIR = Path(__file__).resolve().parents[1]


class CatalogFile(BaseModel):
    """One catalog file a backtest read: path relative to the catalog root, size and content hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    bytes: int
    sha256: str


def canonical_json(value: object) -> str:
    """Sorted keys, no whitespace, non-JSON values (dates, Decimals) as strings: equal configs, equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(effective_config: Mapping[str, object]) -> str:
    return hashlib.sha256(canonical_json(effective_config).encode()).hexdigest()


# sha256 of local files by identity: a sweep or a rerun in the same process hashes each file once.
_SHA256 = IdentityCache(maxsize=20_000)


def file_sha256(path: Path) -> str:
    """The file's content hash; for a local file cached by (path, size, mtime_ns, inode)."""
    if is_local(path) and (identity := file_identity(path)) is not None:
        return _SHA256.get_or_compute(identity, lambda: hash_file(path), cacheable=settled([identity]))
    return hash_file(path)


def catalog_files(
    catalog_root: Path, paths: Iterable[Path], index: HashIndex | None = None
) -> list[CatalogFile]:
    """Sorted, de-duplicated provenance entries of existing `paths` under `catalog_root`: local paths, or
    `UPath`s on an object store (as `CatalogStore` gives them). With `index`, hashes of unchanged files
    come from the catalog's persistent hash index."""
    local = isinstance(catalog_root, Path)
    root = catalog_root.resolve() if local else catalog_root
    found: dict[str, Path] = {}
    parents: dict[Path, Path] = {}  # resolve each directory once, not each file
    for path in paths:
        if local:
            path = Path(path)
            if (parent := parents.get(path.parent)) is None:
                parent = parents[path.parent] = path.parent.resolve()
            resolved = parent / path.name
            if resolved.is_symlink():
                resolved = resolved.resolve()
        else:
            resolved = path
        if resolved.exists():
            found[resolved.relative_to(root).as_posix()] = resolved
    hashed = file_sha256 if index is None or not local else (lambda p: index.sha256(p, file_sha256))
    return [
        CatalogFile(path=relative, bytes=p.stat().st_size, sha256=hashed(p))
        for relative, p in sorted(found.items())
    ]


def data_version(files: Iterable[CatalogFile]) -> str:
    """Changes exactly when a file's content (or the set of files) changes; a same-data rewrite keeps it."""
    rows = sorted((f.path, f.sha256) for f in files)
    return hashlib.sha256(canonical_json(rows).encode()).hexdigest()[:16]


# The subpackages whose code decides a backtest's artefacts (what it reads, checks, runs and writes).
BACKTEST_CODE = ("backtest", "strategies", "catalog", "quality", "markets", "adjustments")


@functools.cache
def code_version() -> str:
    """`<package version>+src<hash of BACKTEST_CODE's .py files>`: it changes exactly when code that
    decides a backtest's result changes (a commit elsewhere, or a git-less install, keeps it)."""
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    digest = hashlib.sha256()
    for name in BACKTEST_CODE:
        digest.update(_sources_hash(PACKAGE_DIR / name).encode())
    return f"{version}+src{digest.hexdigest()[:12]}"


def strategy_code_hash(strategy_cls: type) -> str:
    """Hash of the module a strategy class is defined in (a user's strategy lives outside the package)."""
    try:
        source = inspect.getsource(inspect.getmodule(strategy_cls))
    except (OSError, TypeError):
        return "unknown"
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def _sources_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
