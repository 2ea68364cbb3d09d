"""Bar specifications as Nautilus names them (`1-MINUTE-LAST`) and as IB requests them (`1 min`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

BarAggregation = Literal["MINUTE", "HOUR", "DAY"]
MIDPOINT_VENUES = frozenset({"IDEALPRO"})  # IB venues quoted, not traded: bars are MIDPOINT
_IB_BAR_SIZES = {("MINUTE", 1): "1 min", ("MINUTE", 5): "5 mins", ("HOUR", 1): "1 hour", ("DAY", 1): "1 day"}


class BarSpec(BaseModel):
    """A Nautilus bar specification such as `1-MINUTE-LAST` (step, aggregation, price type)."""

    model_config = ConfigDict(frozen=True)

    step: int
    aggregation: BarAggregation
    price_type: Literal["LAST", "MID"] = "LAST"

    @classmethod
    def parse(cls, text: str) -> BarSpec:
        parts = text.strip().upper().split("-")
        if len(parts) != 3 or not parts[0].isdigit():
            raise ValueError(f"bar spec {text!r} must look like 1-MINUTE-LAST or 1-DAY-LAST")
        spec = cls(step=int(parts[0]), aggregation=parts[1], price_type=parts[2])
        if (spec.aggregation, spec.step) not in _IB_BAR_SIZES:
            raise ValueError(
                f"bar spec {text!r} is not supported; use one of {sorted(supported_bar_specs())}"
            )
        return spec

    def __str__(self) -> str:
        return f"{self.step}-{self.aggregation}-{self.price_type}"

    @property
    def ib_bar_size(self) -> str:
        return _IB_BAR_SIZES[(self.aggregation, self.step)]

    @property
    def ib_what_to_show(self) -> str:
        return "TRADES" if self.price_type == "LAST" else "MIDPOINT"

    @property
    def is_intraday(self) -> bool:
        return self.aggregation != "DAY"

    def for_instrument(self, instrument_id: str) -> BarSpec:
        """The spec as an instrument has it: FX on IDEALPRO has no trades, so its bars are MID (IB
        MIDPOINT) — `1-MINUTE-LAST` in the universe means `1-MINUTE-MID` for EUR/USD.IDEALPRO."""
        if instrument_id.rpartition(".")[2] in MIDPOINT_VENUES and self.price_type == "LAST":
            return self.model_copy(update={"price_type": "MID"})
        return self

    def bar_type(self, instrument_id: str) -> str:
        """The Nautilus BarType string for this spec on an instrument (IB bars are EXTERNAL)."""
        return f"{instrument_id}-{self.for_instrument(instrument_id)}-EXTERNAL"


def supported_bar_specs() -> list[str]:
    return [f"{step}-{agg}-LAST" for agg, step in _IB_BAR_SIZES]


def bars_asset_name(spec: BarSpec) -> str:
    """The bars asset of a spec (`bars_1_minute`): named here so messages outside Dagster can cite it."""
    return f"bars_{spec.step}_{spec.aggregation.lower()}"
