"""Parameters of one SMA-crossover backtest run, validated once at the edge."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

from ntrader_pipeline.backtest.fees import IBKR_MAXIMUM_PCT, IBKR_MINIMUM, IBKR_PER_SHARE


class BacktestSettings(BaseModel):
    """
    Settings for `run_sma_backtest`: account, strategy and IBKR fixed-fee parameters.

    Parameters
    ----------
    starting_cash : float, default 100_000.0
        Opening cash balance, in the instrument's quote currency.
    fast_period : int, default 10
        Fast SMA period in bars; must be less than `slow_period`.
    slow_period : int, default 30
        Slow SMA period in bars.
    trade_size : int, default 100
        Shares bought on each entry.
    fee_per_share : Decimal, default 0.005
        IBKR fixed commission per share.
    fee_minimum : Decimal, default 1.00
        Minimum commission per order.
    fee_maximum_pct : Decimal, default 0.01
        Maximum commission per order as a fraction of trade value (0.01 = 1%).

    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    starting_cash: PositiveFloat = 100_000.0
    fast_period: PositiveInt = 10
    slow_period: PositiveInt = 30
    trade_size: PositiveInt = 100
    fee_per_share: Decimal = Field(default=IBKR_PER_SHARE, ge=0)
    fee_minimum: Decimal = Field(default=IBKR_MINIMUM, ge=0)
    fee_maximum_pct: Decimal = Field(default=IBKR_MAXIMUM_PCT, ge=0)

    @model_validator(mode="after")
    def _fast_below_slow(self) -> BacktestSettings:
        if self.fast_period >= self.slow_period:
            raise ValueError(
                f"fast_period ({self.fast_period}) must be less than slow_period ({self.slow_period})"
            )
        return self
