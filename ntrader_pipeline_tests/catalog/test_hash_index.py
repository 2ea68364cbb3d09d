"""The catalog's hash index: a data version re-hashes only the files that changed, across processes."""

import hashlib
import os
import time

from ntrader_pipeline.catalog.hash_index import HashIndex, hash_file


def _settle(path) -> None:
    """Age the file past the index's settle window (a file written in the last 2 s is not remembered)."""
    old = time.time() - 10
    os.utime(path, (old, old))


def test_unchanged_files_are_not_hashed_again_by_a_new_index(tmp_path) -> None:
    directory = tmp_path / "data" / "bar" / "SPY.ARCA-1-MINUTE-LAST-EXTERNAL"
    directory.mkdir(parents=True)
    files = [directory / f"month{i}.parquet" for i in range(3)]
    for i, path in enumerate(files):
        path.write_bytes(bytes([i]) * 1000)
        _settle(path)
    first = HashIndex(tmp_path)
    digests = [first.sha256(p, hash_file) for p in files]
    first.save()
    assert first.hashed == 3
    assert digests[1] == hashlib.sha256(bytes([1]) * 1000).hexdigest()

    # another process (a new index) over the same files: nothing is read again
    second = HashIndex(tmp_path)
    assert [second.sha256(p, hash_file) for p in files] == digests
    assert second.hashed == 0

    # one file replaced (as the catalog does: a new inode and mtime): only that one is hashed again
    replacement = directory / ".new"
    replacement.write_bytes(b"other content")
    os.replace(replacement, files[2])
    _settle(files[2])
    third = HashIndex(tmp_path)
    assert [third.sha256(p, hash_file) for p in files][2] == hashlib.sha256(b"other content").hexdigest()
    assert third.hashed == 1


def test_a_file_written_just_now_is_hashed_but_not_remembered(tmp_path) -> None:
    path = tmp_path / "fresh.parquet"
    path.write_bytes(b"bars")
    index = HashIndex(tmp_path)
    index.sha256(path, hash_file)
    index.save()
    again = HashIndex(tmp_path)
    again.sha256(path, hash_file)
    assert again.hashed == 1  # its identity may not change with its content yet (racy-git rule)
