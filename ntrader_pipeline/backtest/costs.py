"""Trading costs and risk caps of a backtest, as validated settings that build Nautilus objects."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from nautilus_trader.backtest.models import FeeModel, FillModel
from nautilus_trader.risk.config import RiskEngineConfig
from pydantic import BaseModel, ConfigDict, Field

from ntrader_pipeline.backtest.fees import IBKR_MAXIMUM_PCT, IBKR_MINIMUM, IBKR_PER_SHARE, IbkrFixedFeeModel
from ntrader_pipeline.backtest.tiered_fees import (
    IBKR_TIERED_MAXIMUM_PCT,
    IBKR_TIERED_MINIMUM,
    IbkrTieredFeeModel,
)

DEFAULT_SEED = 42


class Costs(BaseModel):
    """
    Commission and slippage.

    Parameters
    ----------
    commission : "ibkr_fixed" | "ibkr_tiered"
        IBKR Pro fixed ($0.005/share, min $1.00, max 1%) or tiered (by month volume, min $0.35, max 1%).
    per_share, minimum, maximum_pct : Decimal, optional
        Overrides of the fixed schedule's rate, or of either schedule's minimum and maximum per order.
    prob_slippage : float, default 0.0
        Probability that a market order fills one tick worse than the bar close (Nautilus `FillModel`).
    random_seed : int, default 42
        Seed of the fill model's random draws; every run reseeds it, so reruns fill identically.

    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    commission: Literal["ibkr_fixed", "ibkr_tiered"] = "ibkr_fixed"
    per_share: Decimal | None = Field(default=None, ge=0)
    minimum: Decimal | None = Field(default=None, ge=0)
    maximum_pct: Decimal | None = Field(default=None, ge=0)
    prob_slippage: float = Field(default=0.0, ge=0.0, le=1.0)
    random_seed: int = DEFAULT_SEED

    def fee_model(self) -> FeeModel:
        if self.commission == "ibkr_tiered":
            if self.per_share is not None:
                raise ValueError("per_share applies to ibkr_fixed; the tiered rate comes from the schedule")
            return IbkrTieredFeeModel(
                minimum=_or(self.minimum, IBKR_TIERED_MINIMUM),
                maximum_pct=_or(self.maximum_pct, IBKR_TIERED_MAXIMUM_PCT),
            )
        return IbkrFixedFeeModel(
            per_share=_or(self.per_share, IBKR_PER_SHARE),
            minimum=_or(self.minimum, IBKR_MINIMUM),
            maximum_pct=_or(self.maximum_pct, IBKR_MAXIMUM_PCT),
        )

    def fill_model(self) -> FillModel:
        # The constructor calls random.seed(random_seed) on Python's global generator (see runner).
        return FillModel(prob_slippage=self.prob_slippage, random_seed=self.random_seed)


class RiskCaps(BaseModel):
    """
    Pre-trade limits.

    Parameters
    ----------
    max_notional_per_order : Decimal, optional
        Per-symbol cap on one order's notional (quote currency), enforced by Nautilus' RiskEngine
        (`RiskEngineConfig.max_notional_per_order`): an entry above it is DENIED, not resized.
    max_gross_exposure : Decimal, optional
        Position value cap as a multiple of equity. Nautilus 1.221's RiskEngine has no gross-exposure
        check (only per-order notional, instrument limits and the CASH balance), so the strategies'
        sizing enforces it: an entry is cut to the whole shares that keep value <= cap × equity.

    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_notional_per_order: Decimal | None = Field(default=None, gt=0)
    max_gross_exposure: Decimal | None = Field(default=None, gt=0)

    def risk_engine_config(self, instrument_id: str) -> RiskEngineConfig:
        caps = {}
        if self.max_notional_per_order is not None:
            caps[instrument_id] = str(self.max_notional_per_order)
        return RiskEngineConfig(max_notional_per_order=caps)


def _or(value: Decimal | None, default: Decimal) -> Decimal:
    return default if value is None else value
