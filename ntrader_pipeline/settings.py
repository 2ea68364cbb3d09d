"""Every environment variable the pipeline reads, in one pydantic-settings model (`.env` included).

`IB_*` configure the gateway connection (`Settings.ib`), `NTRADER_*` the pipeline (`Settings.ntrader`):
`IB_PORT` is `settings.ib.port`, `NTRADER_CATALOG` is `settings.ntrader.catalog`. `load_settings()` is the
one place that reads them; everything else takes a `Settings` (or one of its parts) as an argument.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
ENV_FILE = ".env"  # in the working directory, as `dagster dev` and `dagster asset materialize` read it


# Celery transports (kombu) the broker URL may name, and result backends Celery 5 knows (`db+`/`cache+`
# name an SQLAlchemy URL or a cache behind them).
CELERY_BROKER_SCHEMES = ("redis://", "rediss://", "amqp://", "pyamqp://", "sqs://", "memory://")
CELERY_BACKEND_SCHEMES = ("redis://", "rediss://", "rpc://", "db+", "cache+", "s3://", "file://")


def redact_url(value: object) -> object:
    """A URL's password as `***` (`redis://:secret@host` → `redis://:***@host`), other values as they are:
    a load error quotes the value it rejects, and a broker URL may carry a password."""
    if not isinstance(value, str) or "@" not in value:
        return value
    scheme, separator, rest = value.partition("://")
    userinfo, at, host = rest.partition("@")
    if not separator or not at or ":" not in userinfo:
        return value
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"


# IB's "Historical Data Limitations": at most 50 simultaneous open historical data requests from the API.
IB_MAX_OPEN_HISTORICAL_REQUESTS = 50


def default_pacing_db() -> str:
    """Beside the Dagster instance (DAGSTER_HOME) when there is one, so every run on the instance shares
    it; else under the repo's data directory."""
    home = os.environ.get("DAGSTER_HOME")
    return str(Path(home) / "ib_pacing.sqlite") if home else str(DATA_DIR / "ib_pacing.sqlite")


class IBSettings(BaseModel):
    """Where the IB Gateway / TWS (or the embedded gateway) listens, and how long to wait for it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=4002, ge=0, le=65535)
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
    pacing_db: str = Field(default_factory=default_pacing_db)
    pacing_max_wait_s: float = Field(default=900.0, gt=0)
    # Historical requests in flight at once on the run's connection, across instruments and sessions
    # (1: one at a time). IB allows at most 50 open historical requests per login.
    max_open_requests: int = Field(default=8, ge=1)

    @field_validator("max_open_requests")
    @classmethod
    def _within_ibs_open_request_limit(cls, value: int) -> int:
        limit = IB_MAX_OPEN_HISTORICAL_REQUESTS
        if value > limit:
            raise ValueError(
                f"{value} historical requests in flight is more than IB allows ({limit} open historical "
                f"requests per login; more are answered with error 162); use 1 to {limit} (default 8)"
            )
        return value


class PipelineSettings(BaseModel):
    """Where data lives, what the code location is built from, and the launchers' ports."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    # A directory, or an object-store URL such as s3://bucket/prefix (credentials: AWS_* variables).
    catalog: str = str(DATA_DIR / "catalog")
    artifacts: Path = DATA_DIR / "backtests"
    reports: Path = DATA_DIR / "reports"
    # Full logs of the demo and `ntrader fetch` (the terminal shows progress and a summary).
    logs: Path = DATA_DIR / "logs"
    # Base URL serving `reports` over HTTP (the UI launcher sets it); unset: reports link as file:// URIs.
    reports_url: str | None = None
    universe: Path = DATA_DIR / "universe.yaml"
    backtests: Path = DATA_DIR / "backtests.yaml"
    first_session: dt.date = dt.date(2024, 1, 2)
    # Celery executors for the jobs' steps (the `scale` extra); unset: Dagster's default executor.
    executor: Literal["celery", "celery_k8s"] | None = None
    # NTRADER_EXECUTOR=celery: broker and result backend of the Celery app (unset: dagster-celery's
    # defaults, pyamqp://guest@localhost// and rpc://; a redis:// broker is its own backend by default).
    celery_broker: str | None = None
    celery_backend: str | None = None
    demo_start: dt.date = dt.date(2024, 1, 2)
    demo_end: dt.date = dt.date(2024, 3, 28)
    ui_port: int = Field(default=3000, ge=0, le=65535)
    gateway_port: int = Field(default=4002, ge=0, le=65535)
    reports_port: int = Field(default=3001, ge=0, le=65535)

    @field_validator("catalog")
    @classmethod
    def _catalog_is_a_directory_or_url(cls, value: str) -> str:
        protocol, separator, root = value.partition("://")
        if not value.strip() or (separator and (not protocol or not root.strip("/"))):
            raise ValueError("expected a directory or an object-store URL such as s3://bucket/prefix")
        return value

    @field_validator("celery_broker")
    @classmethod
    def _celery_broker_is_a_broker_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(CELERY_BROKER_SCHEMES):
            raise ValueError(f"expected a Celery broker URL starting with {', '.join(CELERY_BROKER_SCHEMES)}")
        return value

    @field_validator("celery_backend")
    @classmethod
    def _celery_backend_is_a_backend_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(CELERY_BACKEND_SCHEMES):
            raise ValueError(
                f"expected a Celery result backend URL starting with {', '.join(CELERY_BACKEND_SCHEMES)}"
            )
        return value

    @field_validator("reports_url")
    @classmethod
    def _reports_url_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// base URL such as http://127.0.0.1:3001")
        return value


class Settings(BaseSettings):
    """`IB_<FIELD>` → `ib.<field>`, `NTRADER_<FIELD>` → `ntrader.<field>`, from the environment or `.env`."""

    # The first underscore splits area from field, so IB_REQUEST_TIMEOUT_S is ib.request_timeout_s.
    model_config = SettingsConfigDict(
        env_nested_delimiter="_",
        env_nested_max_split=1,
        env_file=ENV_FILE,
        extra="ignore",
        frozen=True,
    )

    ib: IBSettings = IBSettings()
    ntrader: PipelineSettings = PipelineSettings()


class SettingsError(ValueError):
    """An environment variable (or `.env` line) whose value the pipeline cannot use."""


def env_var_name(location: tuple[int | str, ...]) -> str:
    """('ib', 'port') → IB_PORT: the variable a validation error is about."""
    return "_".join(str(part) for part in location).upper()


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        name = env_var_name(item["loc"])
        message = item["msg"].removeprefix("Value error, ")  # our own validators' wording is complete
        problems.append(f"{name}={redact_url(item['input'])!r} is invalid: {message}")
    remedy = " (fix it in the environment or .env; docs/reference/configuration.md lists each)"
    return "; ".join(problems) + remedy


def load_settings(env_file: Path | str | None = ENV_FILE, **overrides: object) -> Settings:
    """Read every variable once. A bad value raises one line naming the variable, its value and the form
    it needs, wherever the settings are loaded (code location, `ntrader`, demo, UI launcher)."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None
