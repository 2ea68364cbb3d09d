"""What an application function returns: metadata in plain types plus a few typed values (Markdown,
links, JSON) that the Dagster layer shows as such, a data version, a check's verdict; and `StepError`,
the one failure a step reports to its user (what was wrong and what to do)."""

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Markdown:
    text: str


@dataclass(frozen=True)
class Link:
    url: str


@dataclass(frozen=True)
class Json:
    value: object


# A pathlib.Path is shown as a path (the UI copies it); the scalars as themselves.
MetadataValue = bool | int | float | str | None | Path | Markdown | Link | Json
Metadata = dict[str, MetadataValue]


@dataclass(frozen=True)
class StepOutcome:
    """What one asset partition produced: its metadata and, when it has one, its data version."""

    metadata: Metadata
    data_version: str | None = None


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    metadata: Metadata = field(default_factory=dict)
    description: str | None = None


@dataclass(frozen=True)
class MonthRecorded:
    """One instrument-month whose requested sessions all settled: record its partition now."""

    month: str  # the month's first day, YYYY-MM-DD
    instrument_id: str
    metadata: Metadata


class StepError(Exception):
    """A step cannot complete; the message names what was wrong and what to do."""

    def __init__(self, description: str, metadata: Metadata | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.metadata = metadata or {}


def markdown_list(lines: list[str]) -> Markdown:
    return Markdown("\n".join(f"- {line}" for line in lines))
