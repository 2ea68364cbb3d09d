"""Settings from the environment (and a `.env` file): `IB_*` for the gateway, `NTRADER_*` for the pipeline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class IBSettings(BaseSettings):
    """Where the IB Gateway / TWS (or the embedded gateway) listens, and how long to wait for it."""

    model_config = SettingsConfigDict(env_prefix="IB_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = Field(default=1, ge=0)
    request_timeout_s: float = Field(default=30.0, gt=0)
    connect_timeout_s: float = Field(default=15.0, gt=0)


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
