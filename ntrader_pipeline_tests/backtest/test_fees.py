from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.test_kit.stubs.execution import TestExecStubs

from ntrader_pipeline.backtest.fees import IbkrFixedFeeModel


def _commission(model: IbkrFixedFeeModel, instrument: Equity, shares: int, price: str) -> Money:
    order = TestExecStubs.market_order(instrument, OrderSide.BUY, Quantity.from_int(shares))
    return model.get_commission(order, Quantity.from_int(shares), Price.from_str(price), instrument)


@pytest.mark.parametrize(
    ("shares", "price", "expected"),
    [
        (100, "500.00", "1.00 USD"),  # 0.50 per share rate, raised to the $1 minimum
        (1000, "500.00", "5.00 USD"),  # per-share rate
        (10, "1.00", "0.10 USD"),  # 1% of a $10 trade caps below the minimum
        (2000, "0.10", "2.00 USD"),  # cap: 1% of $200 < 2000 * 0.005 = 10.00
    ],
)
def test_ibkr_fixed_commission_defaults(spy: Equity, shares: int, price: str, expected: str) -> None:
    # Arrange
    model = IbkrFixedFeeModel()

    # Act
    commission = _commission(model, spy, shares, price)

    # Assert
    assert commission == Money.from_str(expected)


@pytest.mark.parametrize(
    ("shares", "expected"),
    [
        (100, "0.50 USD"),  # must not round to 0.00 or 1.00
        (101, "0.51 USD"),  # 0.505 rounds half up, not to even
        (1, "0.01 USD"),  # 0.005 rounds half up
    ],
)
def test_ibkr_commission_keeps_sub_dollar_cents_without_minimum(
    spy: Equity, shares: int, expected: str
) -> None:
    # Arrange
    model = IbkrFixedFeeModel(minimum=Decimal(0))

    # Act
    commission = _commission(model, spy, shares, "500.00")

    # Assert
    assert commission == Money.from_str(expected)


def test_ibkr_fee_model_rejects_negative_rates() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        IbkrFixedFeeModel(per_share=Decimal("-0.005"))
