"""Resources: the IB gateway connection and where data is stored, built from the loaded `Settings`.

Their config fields are generated from the settings models, so a new setting needs no second
declaration here. A field whose variable is set in the environment is passed as `dg.EnvVar`, so the
launchpad and the UI show the variable's name, never its value.
"""

import os
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import BaseModel, create_model
from pydantic.fields import FieldInfo

from ntrader_pipeline.app.locations import Locations
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.ib.client import IBConnection
from ntrader_pipeline.ib.fetcher import IBFetcher
from ntrader_pipeline.settings import IBSettings, PipelineSettings, Settings

STORAGE_FIELDS = ("catalog", "artifacts", "reports", "reports_url")


def _config_fields(model: type[BaseModel], names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """`model`'s fields as Dagster config fields (paths as strings: Dagster config has no Path type)."""
    fields: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if names is not None and name not in names:
            continue
        if field.annotation is Path:
            fields[name] = (str, FieldInfo(default=str(field.default), description=field.description))
        else:
            # Without the settings' constraints (ge=1 …): the settings model has validated the value
            # already, and a field passed as `dg.EnvVar.int` is validated as 0 before Dagster reads the
            # variable, so IB_MAX_ATTEMPTS=2 in the environment would fail "greater than or equal to 1".
            default = (
                {"default_factory": field.default_factory}
                if field.default_factory is not None
                else {"default": field.default}
            )
            fields[name] = (field.annotation, FieldInfo(**default, description=field.description))
    return fields


class _IBGateway(dg.ConfigurableResource):
    def settings(self) -> IBSettings:
        return IBSettings(**self.model_dump())

    def connection(self) -> IBConnection:
        """An IBConnection to use as a context manager: connects on entry, always disconnects."""
        return IBConnection(self.settings())

    def fetcher(self) -> IBFetcher:
        """The run's paced, retrying fetcher (one connection, renewed only after a failed request)."""
        return IBFetcher(self.settings())


class _Storage(dg.ConfigurableResource):
    def locations(self) -> Locations:
        return Locations(
            CatalogStore(self.catalog),  # type: ignore[attr-defined]
            Path(self.artifacts),  # type: ignore[attr-defined]
            Path(self.reports),  # type: ignore[attr-defined]
            self.reports_url,  # type: ignore[attr-defined]
        )

    def catalog_store(self) -> CatalogStore:
        return CatalogStore(self.catalog)  # type: ignore[attr-defined]

    @property
    def backtests_dir(self) -> Path:
        return Path(self.artifacts)  # type: ignore[attr-defined]

    @property
    def reports_dir(self) -> Path:
        return Path(self.reports)  # type: ignore[attr-defined]

    def report_url(self, path: Path) -> str:
        return self.locations().report_url(path)


IBGatewayResource = create_model(
    "IBGatewayResource",
    __base__=_IBGateway,
    __module__=__name__,
    __doc__="An IB Gateway / TWS (or the embedded gateway) reachable over the TWS socket protocol.",
    **_config_fields(IBSettings),
)
StorageResource = create_model(
    "StorageResource",
    __base__=_Storage,
    __module__=__name__,
    __doc__="The Nautilus catalog (a directory or s3:// URL), the backtest artefact and report directories.",
    **_config_fields(PipelineSettings, STORAGE_FIELDS),
)


def _env_or_value(prefix: str, name: str, value: object) -> object:
    """`dg.EnvVar` for a str/int field whose variable holds this value (the UI shows the variable's name,
    not the value), else the value itself (a default, `.env`, or an override made in code)."""
    variable = f"{prefix}_{name.upper()}"
    if os.environ.get(variable) == str(value) and not isinstance(value, bool):
        if isinstance(value, int):
            return dg.EnvVar.int(variable)
        if isinstance(value, str):
            return dg.EnvVar(variable)
    return str(value) if isinstance(value, Path) else value


def ib_gateway_resource(settings: IBSettings) -> dg.ConfigurableResource:
    values = settings.model_dump()
    return IBGatewayResource(**{name: _env_or_value("IB", name, v) for name, v in values.items()})


def storage_resource(settings: PipelineSettings) -> dg.ConfigurableResource:
    values = settings.model_dump(include=set(STORAGE_FIELDS))
    return StorageResource(**{name: _env_or_value("NTRADER", name, v) for name, v in values.items()})


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    return {"ib": ib_gateway_resource(settings.ib), "storage": storage_resource(settings.ntrader)}
