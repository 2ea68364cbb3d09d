"""Read a bars month partition's `flagged` metadata table (session | status | bars | expected | missing |
longest gap | note) back into rows by session, so tests assert on each flagged session's cells."""

from collections.abc import Mapping


def flagged_rows(metadata: Mapping) -> dict[str, dict[str, str]]:
    """The `flagged` table's rows keyed by session date; an empty dict when nothing was flagged."""
    if "flagged" not in metadata:
        return {}
    lines = [line.strip() for line in str(metadata["flagged"].value).splitlines() if line.strip()]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}
