"""A declared backtest as the fields of its run config (the launchpad shows and overrides them), and the
declaration a run's config values make, validated like the backtests file."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from ntrader_pipeline.app.outcomes import StepError
from ntrader_pipeline.backtest.declarations import (
    BacktestDeclaration,
    BacktestDeclarationError,
    declaration_from,
)
from ntrader_pipeline.markets.universe import Universe

_SCALARS = (bool, int, float, str)


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def launchpad_fields(declaration: BacktestDeclaration, declarations_path: Path) -> dict[str, tuple[Any, Any]]:
    """pydantic field definitions (type, default or Field) that default to the declaration."""
    d = declaration
    fields: dict[str, tuple[Any, Any]] = {
        "start": (str, Field(default=d.window.start.isoformat(), description="first session (YYYY-MM-DD)")),
        "end": (str, Field(default=d.window.end.isoformat(), description="last session (YYYY-MM-DD)")),
        "starting_cash": (float, d.starting_cash),
        "sizing": (
            str,
            Field(
                default=d.sizing.method.value, description="fixed_shares | fixed_notional | percent_of_equity"
            ),
        ),
        "size": (float, Field(default=float(d.sizing.size), description="shares, notional or percent")),
        "commission": (str, Field(default=d.costs.commission, description="ibkr_fixed | ibkr_tiered")),
        "prob_slippage": (float, d.costs.prob_slippage),
        "random_seed": (int, d.costs.random_seed),
        "max_notional_per_order": (float | None, _optional_float(d.risk.max_notional_per_order)),
        "max_gross_exposure": (float | None, _optional_float(d.risk.max_gross_exposure)),
        "index_instrument": (str, d.index_instrument),
        "adjustment": (
            str,
            Field(default=d.adjustment.value, description="none | splits | splits_and_dividends"),
        ),
    }
    for key, value in d.parameters.items():
        if key in fields:
            raise BacktestDeclarationError(
                f"backtests file {declarations_path}, backtest {d.name!r}: field parameters.{key} clashes "
                f"with the launchpad field {key!r}; rename the strategy config field"
            )
        if isinstance(value, _SCALARS):
            fields[key] = (type(value), Field(default=value, description="strategy parameter"))
    return fields


def config_class_name(declaration: BacktestDeclaration) -> str:
    return "".join(part.capitalize() for part in declaration.name.split("_")) + "BacktestConfig"


def effective_declaration(
    declaration: BacktestDeclaration, values: Mapping[str, Any], declarations_path: Path, universe: Universe
) -> BacktestDeclaration:
    """The declaration with a run's config values, validated like the file (same messages)."""
    parameters = {**declaration.parameters, **{k: values[k] for k in declaration.parameters if k in values}}
    raw = declaration.model_dump(mode="json", exclude={"name"}) | {
        "window": {"start": values["start"], "end": values["end"]},
        "starting_cash": values["starting_cash"],
        "sizing": {"method": values["sizing"], "size": values["size"]},
        "costs": declaration.costs.model_dump(mode="json")
        | {k: values[k] for k in ("commission", "prob_slippage", "random_seed")},
        "risk": {k: values[k] for k in ("max_notional_per_order", "max_gross_exposure")},
        "index_instrument": values["index_instrument"],
        "adjustment": values["adjustment"],
        "parameters": parameters,
    }
    try:
        return declaration_from(f"{declarations_path} (launchpad config)", declaration.name, raw, universe)
    except BacktestDeclarationError as exc:
        raise StepError(str(exc)) from exc
