"""Settings from the environment (and a `.env` file): `IB_*` for the gateway, `NTRADER_*` for the pipeline."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_pacing_db() -> str:
    """Beside the Dagster instance (DAGSTER_HOME) when there is one, so every run on the instance shares
    it; else under the repo's data directory."""
    home = os.environ.get("DAGSTER_HOME")
    return str(Path(home) / "ib_pacing.sqlite") if home else str(REPO_ROOT / "data" / "ib_pacing.sqlite")


class IBSettings(BaseSettings):
    """Where the IB Gateway / TWS (or the embedded gateway) listens, and how long to wait for it."""

    model_config = SettingsConfigDict(env_prefix="IB_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = Field(default=1, ge=0)
    request_timeout_s: float = Field(default=30.0, gt=0)
    connect_timeout_s: float = Field(default=15.0, gt=0)
    # Retries of a session whose request hit pacing, a timeout, a lost connection or a dead client
    max_attempts: int = Field(default=3, ge=1)
    # Exponential backoff after a 162 pacing violation: min(cap, base * 2**(attempt-1)) plus up to
    # `jitter` × that at random, so concurrent runs do not retry in lock-step.
    backoff_base_s: float = Field(default=2.0, ge=0)
    backoff_cap_s: float = Field(default=60.0, ge=0)
    backoff_jitter: float = Field(default=0.5, ge=0, le=1)
    # Client-side pacing (IB's historical-data limits), shared by every process using the same file
    pacing: bool = True
    pacing_db: str = Field(default_factory=lambda: default_pacing_db())
    pacing_max_wait_s: float = Field(default=900.0, gt=0)


class PipelineSettings(BaseSettings):
    """Where data lives and which sessions the demo covers."""

    model_config = SettingsConfigDict(env_prefix="NTRADER_", env_file=".env", extra="ignore")

    # A directory, or an object-store URL such as s3://bucket/prefix (credentials: AWS_* variables).
    catalog: str = str(REPO_ROOT / "data" / "catalog")
    artifacts: Path = REPO_ROOT / "data" / "backtests"
    reports: Path = REPO_ROOT / "data" / "reports"
    # Base URL serving `reports` over HTTP (the UI launcher sets it); unset: reports link as file:// URIs.
    reports_url: str | None = None
    universe: Path = REPO_ROOT / "data" / "universe.yaml"
    first_session: dt.date = dt.date(2024, 1, 2)
    demo_start: dt.date = dt.date(2024, 1, 2)
    demo_end: dt.date = dt.date(2024, 3, 28)
