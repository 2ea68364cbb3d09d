"""In-process caches of pure results over catalog files, keyed by the files' identity.

A file's identity is (path, size, mtime_ns, inode): the catalog replaces files with `os.replace`, which
gives a new inode and mtime, so a rewritten file never matches a cached entry. A result over a directory
is keyed by the identities of every entry in it (one `scandir`), so a file added, removed or replaced
there misses the cache. Only local catalogs are cached (an object store's listing costs a request per
call, and its objects have no inode); each cache keeps a few entries (a backtest, a sweep) and lives as
long as the process (a Dagster run's step process, a sweep).

A file modified in the last `SETTLE_NS` may still change within the filesystem's timestamp granularity
without its identity changing (an in-place rewrite of the same size): results over such files are
computed but not cached (git's "racy" rule).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

FileIdentity = tuple[str, int, int, int]  # path, size, mtime_ns, inode
SETTLE_NS = 2_000_000_000


def is_local(path: object) -> bool:
    """True for a `pathlib.Path` on the local filesystem (not a `UPath` on an object store)."""
    return isinstance(path, Path) and not hasattr(path, "fs")


def file_identity(path: Path) -> FileIdentity | None:
    """(path, size, mtime_ns, inode) of a local file, None when it does not exist."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (os.fspath(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)


def directory_identity(directory: Path) -> tuple[FileIdentity, ...]:
    """The sorted identities of a directory's entries (empty when the directory does not exist)."""
    try:
        with os.scandir(directory) as entries:
            found = []
            for entry in entries:
                stat = entry.stat()
                found.append((entry.path, stat.st_size, stat.st_mtime_ns, stat.st_ino))
    except (FileNotFoundError, NotADirectoryError):
        return ()
    return tuple(sorted(found))


def settled(identities: Iterable[FileIdentity | None]) -> bool:
    """True when none of the files was modified in the last `SETTLE_NS` (safe to cache on)."""
    cutoff = time.time_ns() - SETTLE_NS
    return all(identity is None or identity[2] < cutoff for identity in identities)


_ALL: list[IdentityCache] = []


def clear_identity_caches() -> None:
    """Empty every cache (a benchmark's cold run; a test that wants every file read again)."""
    for cache in _ALL:
        cache.clear()


class IdentityCache:
    """A small LRU map from a key (built from file identities) to a pure result over those files."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        _ALL.append(self)

    def get_or_compute(self, key: Hashable, compute: Callable[[], T], *, cacheable: bool = True) -> T:
        """The cached value for `key`, else `compute()` (kept when `cacheable`)."""
        if not cacheable:
            return compute()
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]  # type: ignore[return-value]
        value = compute()  # outside the lock: an exception caches nothing
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
