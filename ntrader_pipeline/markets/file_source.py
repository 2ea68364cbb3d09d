"""A bar file source: where the files are, how their columns and timestamps read, and the instrument.

One source carries one bar spec; the universe file lists it under an instrument, and relative paths
resolve against the universe file's directory.
"""

from __future__ import annotations

import re
import zoneinfo
from decimal import Decimal
from pathlib import Path
from typing import Literal

from nautilus_trader.model.objects import Currency
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ntrader_pipeline.markets.bar_specs import BarSpec

FileFormat = Literal["csv", "parquet"]
BAR_FIELDS = ("timestamp", "open", "high", "low", "close", "volume")
# Nautilus fixed-point prices hold at most 9 decimals at standard precision.
_MAX_PRICE_PRECISION = 9
_VENUE = re.compile(r"[A-Z][A-Z0-9_]*")


class FileSource(BaseModel):
    """Bars brought in from CSV or Parquet files instead of IB.

    `timezone` is the zone of naive stamps; stamps with an offset or zone keep theirs, epoch numbers are
    UTC. `timestamp_marks` says whether a row's stamp is its bar's open or close; daily rows are placed
    by the date written in them, so neither applies to daily bars.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(min_length=1, description="a file, a directory of *.csv/*.parquet files, or a glob")
    format: FileFormat | None = None
    columns: dict[str, str] | None = None
    timezone: str = "America/New_York"
    timestamp_marks: Literal["open", "close"] = "open"
    venue: str
    currency: str = "USD"
    price_increment: Decimal = Decimal("0.01")
    lot_size: int = Field(default=1, ge=1)
    bar_spec: str = "1-MINUTE-LAST"

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        unknown = sorted(set(value) - set(BAR_FIELDS))
        if unknown:
            raise ValueError(
                f"columns maps unknown field(s) {', '.join(unknown)}; map any of {', '.join(BAR_FIELDS)} "
                "to the file's column names"
            )
        empty = [field for field, column in value.items() if not column.strip()]
        if empty:
            raise ValueError(f"columns gives an empty column name for {', '.join(empty)}")
        return value

    @field_validator("venue")
    @classmethod
    def _venue_code(cls, value: str) -> str:
        if not _VENUE.fullmatch(value):
            raise ValueError(f"venue {value!r} must be an upper-case code such as XNAS or NASDAQ")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"time zone {value!r} is unknown; use an IANA name such as America/New_York or UTC"
            ) from exc
        return value

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if Currency.from_str(value, strict=True) is None:
            raise ValueError(f"currency {value!r} is not a currency code Nautilus knows (e.g. USD, EUR)")
        return value

    @field_validator("price_increment")
    @classmethod
    def _positive_increment(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value <= 0:
            raise ValueError(f"price_increment must be a positive number such as 0.01, got {value}")
        if _precision_of(value) > _MAX_PRICE_PRECISION:
            raise ValueError(f"price_increment {value} has more than {_MAX_PRICE_PRECISION} decimals")
        return value

    @field_validator("bar_spec")
    @classmethod
    def _supported_bar_spec(cls, value: str) -> str:
        return str(BarSpec.parse(value))  # canonical spelling, e.g. "1-minute-last" → "1-MINUTE-LAST"

    def __hash__(self) -> int:
        # Frozen models hash their fields, and a dict is unhashable: hash the mapping's items instead.
        return hash(tuple((k, tuple(sorted(v.items())) if isinstance(v, dict) else v) for k, v in self))

    @property
    def spec(self) -> BarSpec:
        return BarSpec.parse(self.bar_spec)

    @property
    def price_precision(self) -> int:
        return _precision_of(self.price_increment)

    def resolve(self, base_dir: Path) -> Path:
        """The path (or glob) made absolute against `base_dir`, the universe file's directory."""
        path = Path(self.path).expanduser()
        return path if path.is_absolute() else Path(base_dir) / path


def _precision_of(increment: Decimal) -> int:
    exponent = increment.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
