"""Where a run reads and writes: the catalog, backtest artefacts, HTML reports and their URL."""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ntrader_pipeline.backtest.run import artifact_directory
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.reports.assets import ASSETS_DIR_NAME


@dataclass(frozen=True)
class Locations:
    store: CatalogStore
    backtests_dir: Path
    reports_dir: Path
    reports_url: str | None = None  # where the reports directory is served over HTTP, if it is

    def artifact_dir(self, backtest: str, instrument_id: str) -> Path:
        return artifact_directory(self.backtests_dir, backtest, instrument_id)

    @property
    def reports_assets_dir(self) -> Path:
        """Where every report of the reports directory finds the one shared copy of plotly.js."""
        return self.reports_dir / ASSETS_DIR_NAME

    def report_url(self, path: Path) -> str:
        """A link to a report: `<reports_url>/<path under the reports dir>` when reports are served over
        HTTP, else its file:// URI (browsers do not follow file:// links from the http:// UI)."""
        resolved = Path(path).resolve()
        if not self.reports_url:
            return resolved.as_uri()
        try:
            relative = resolved.relative_to(self.reports_dir.resolve())
        except ValueError as exc:
            raise ValueError(
                f"report {resolved} is outside the reports directory {self.reports_dir.resolve()} served "
                f"at {self.reports_url}; write reports under NTRADER_REPORTS"
            ) from exc
        return f"{self.reports_url.rstrip('/')}/{quote(relative.as_posix())}"
