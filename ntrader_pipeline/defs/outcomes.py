"""The application layer's outcomes as Dagster sees them: metadata values, results, check results and
failures. Every asset and check body hands its outcome over through these."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg

from ntrader_pipeline.app.outcomes import CheckOutcome, Json, Link, Markdown, Metadata, StepError, StepOutcome


def dagster_metadata(metadata: Metadata) -> dict[str, Any]:
    return {key: _value(value) for key, value in metadata.items()}


def _value(value: object) -> object:
    if isinstance(value, Markdown):
        return dg.MetadataValue.md(value.text)
    if isinstance(value, Link):
        return dg.MetadataValue.url(value.url)
    if isinstance(value, Json):
        return dg.MetadataValue.json(value.value)  # type: ignore[arg-type]
    if isinstance(value, Path):
        return dg.MetadataValue.path(str(value))
    return value


def materialize_result(outcome: StepOutcome) -> dg.MaterializeResult:
    version = None if outcome.data_version is None else dg.DataVersion(outcome.data_version)
    return dg.MaterializeResult(metadata=dagster_metadata(outcome.metadata), data_version=version)


def check_result(outcome: CheckOutcome, check_name: str | None = None) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=outcome.passed,
        description=outcome.description,
        metadata=dagster_metadata(outcome.metadata),
    )


@contextmanager
def step_errors_as_failures() -> Iterator[None]:
    """A `StepError` from the application layer fails the step with its description and metadata."""
    try:
        yield
    except StepError as exc:
        raise dg.Failure(description=exc.description, metadata=dagster_metadata(exc.metadata)) from exc
