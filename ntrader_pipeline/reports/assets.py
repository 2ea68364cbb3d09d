"""plotly.js written once per reports directory and referenced relatively from every report.

Each report used to embed plotly.js (4.8 MB of a 6-7 MB file). Now `write_plotly_js` puts it once at
`<reports>/assets/plotly-<version>.min.js`, and each page loads it with a relative `<script src>` computed
from the page's own location (`sma_cross/SPY.ARCA.html` → `../assets/plotly-….min.js`). Relative paths
work both from `file://` and through the reports server, and the pages still need no network.
"""

from __future__ import annotations

import os
from pathlib import Path

from plotly.offline import get_plotlyjs, get_plotlyjs_version

from ntrader_pipeline.atomic_files import write_text_atomically

ASSETS_DIR_NAME = "assets"


def plotly_js_name() -> str:
    """The file name carries the plotly.js version, so an upgrade writes a new file beside the old one and
    a report rendered with another version never loads the wrong library."""
    return f"plotly-{get_plotlyjs_version()}.min.js"


def write_plotly_js(assets_dir: str | os.PathLike[str]) -> Path:
    """`<assets_dir>/plotly-<version>.min.js`, written atomically only when missing or different."""
    path = Path(assets_dir) / plotly_js_name()
    script = get_plotlyjs()
    expected = script.encode("utf-8")
    if path.is_file() and path.stat().st_size == len(expected) and path.read_bytes() == expected:
        return path
    return write_text_atomically(path, script)


def relative_src(page: str | os.PathLike[str], asset: str | os.PathLike[str]) -> str:
    """`asset` as a URL path relative to the directory of `page` (forward slashes on every platform)."""
    relative = os.path.relpath(Path(asset).resolve(), Path(page).resolve().parent)
    return Path(relative).as_posix()
