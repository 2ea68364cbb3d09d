"""Which files a source names (a file, a directory or a glob) and which format they are in."""

from __future__ import annotations

import glob
from pathlib import Path

from ntrader_pipeline.ingest.files.errors import FileSourceError
from ntrader_pipeline.markets.file_source import FileFormat, FileSource

_EXTENSIONS: dict[str, FileFormat] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_GLOB_CHARACTERS = frozenset("*?[")


def matched_files(source: FileSource, base_dir: Path) -> tuple[list[Path], FileFormat]:
    """The source's files in name order and their common format; raises FileSourceError when none match."""
    target = source.resolve(base_dir)
    if _GLOB_CHARACTERS & set(str(target)):
        files = sorted(Path(p) for p in glob.glob(str(target), recursive=True) if Path(p).is_file())
    elif target.is_dir():
        wanted = {ext for ext, fmt in _EXTENSIONS.items() if source.format in (None, fmt)}
        files = sorted(p for p in target.iterdir() if p.is_file() and p.suffix.lower() in wanted)
    elif target.is_file():
        files = [target]
    else:
        raise FileSourceError(
            f"bar file {target} does not exist (path {source.path!r} resolved against {base_dir}); "
            "fix the file source's path"
        )
    if not files:
        raise FileSourceError(
            f"no bar files match {target} (path {source.path!r} resolved against {base_dir}); "
            "a directory source reads its *.csv and *.parquet files"
        )
    return files, source.format or _common_format(files)


def _common_format(files: list[Path]) -> FileFormat:
    formats = {_EXTENSIONS.get(p.suffix.lower()) for p in files}
    if None in formats:
        odd = next(p for p in files if p.suffix.lower() not in _EXTENSIONS)
        raise FileSourceError(
            f"cannot tell the format of {odd} from its extension; set format: csv or format: parquet"
        )
    if len(formats) > 1:
        raise FileSourceError(
            f"the files of one source must share a format, but {files[0].parent} mixes CSV and Parquet; "
            "give each format its own file source (or set format to pick one)"
        )
    return formats.pop()  # type: ignore[return-value]
