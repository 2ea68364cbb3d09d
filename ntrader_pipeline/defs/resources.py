"""Resources: the IB gateway connection and where data is stored, configured from the environment."""

import os
from pathlib import Path
from urllib.parse import quote

import dagster as dg

from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.ib.client import IBConnection
from ntrader_pipeline.ib.fetcher import IBFetcher
from ntrader_pipeline.settings import IBSettings, PipelineSettings, default_pacing_db


class IBGatewayResource(dg.ConfigurableResource):
    """An IB Gateway / TWS (or the embedded gateway) reachable over the TWS socket protocol."""

    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = 1
    request_timeout_s: float = 30.0
    connect_timeout_s: float = 15.0
    max_attempts: int = 3
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 60.0
    backoff_jitter: float = 0.5
    pacing: bool = True
    pacing_db: str = ""  # empty: beside the Dagster instance (DAGSTER_HOME), else data/ib_pacing.sqlite
    pacing_max_wait_s: float = 900.0

    def settings(self) -> IBSettings:
        values = {name: getattr(self, name) for name in IBSettings.model_fields}
        values["pacing_db"] = self.pacing_db or default_pacing_db()
        return IBSettings(**values)

    def connection(self) -> IBConnection:
        """An IBConnection to use as a context manager: connects on entry, always disconnects."""
        return IBConnection(self.settings())

    def fetcher(self) -> IBFetcher:
        """The run's paced, retrying fetcher (one connection, renewed only after a failed request)."""
        return IBFetcher(self.settings())


class StorageResource(dg.ConfigurableResource):
    """The Nautilus catalog plus the backtest artefact and report directories."""

    catalog_path: str
    backtests_path: str
    reports_path: str
    reports_url: str | None = None  # base URL serving reports_path over HTTP (NTRADER_REPORTS_URL)

    def catalog(self) -> CatalogStore:
        return CatalogStore(self.catalog_path)

    @property
    def backtests_dir(self) -> Path:
        return Path(self.backtests_path)

    @property
    def reports_dir(self) -> Path:
        return Path(self.reports_path)

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


def _env(name: str, default: object, *, as_int: bool = False) -> object:
    """EnvVar when set (the UI shows the variable name, not its value), else the documented default."""
    if name not in os.environ:
        return default
    return dg.EnvVar.int(name) if as_int else dg.EnvVar(name)


def ib_gateway_from_env() -> IBGatewayResource:
    defaults = IBSettings.model_construct()
    return IBGatewayResource(
        host=_env("IB_HOST", defaults.host),
        port=_env("IB_PORT", defaults.port, as_int=True),
        client_id=_env("IB_CLIENT_ID", defaults.client_id, as_int=True),
        request_timeout_s=float(os.environ.get("IB_REQUEST_TIMEOUT_S", defaults.request_timeout_s)),
        connect_timeout_s=float(os.environ.get("IB_CONNECT_TIMEOUT_S", defaults.connect_timeout_s)),
        **_retry_and_pacing_from_env(),
    )


def _retry_and_pacing_from_env() -> dict[str, object]:
    """Retry bounds and pacing settings as IBSettings reads them (IB_* variables and .env)."""
    settings = IBSettings()
    names = ("max_attempts", "backoff_base_s", "backoff_cap_s", "backoff_jitter", "pacing")
    names += ("pacing_max_wait_s",)
    return {**{name: getattr(settings, name) for name in names}, "pacing_db": str(settings.pacing_db)}


def storage_from_env() -> StorageResource:
    settings = PipelineSettings()
    return StorageResource(
        catalog_path=str(settings.catalog),
        backtests_path=str(settings.artifacts),
        reports_path=str(settings.reports),
        reports_url=settings.reports_url,
    )


def resource_defs() -> dict[str, dg.ConfigurableResource]:
    return {"ib": ib_gateway_from_env(), "storage": storage_from_env()}
