from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.test_kit.stubs.execution import TestExecStubs

from ntrader_pipeline.backtest.costs import Costs
from ntrader_pipeline.backtest.tiered_fees import IbkrTieredFeeModel, tier_rate


def _charge(
    model: IbkrTieredFeeModel, instrument: Equity, shares: int, price: str, order_id: str = "O-1"
) -> Money:
    order = TestExecStubs.market_order(
        instrument, OrderSide.BUY, Quantity.from_int(shares), client_order_id=ClientOrderId(order_id)
    )
    return model.get_commission(order, Quantity.from_int(shares), Price.from_str(price), instrument)


@pytest.mark.parametrize(
    ("volume", "rate"),
    [
        (0, "0.0035"),
        (299_999, "0.0035"),
        (300_000, "0.0020"),
        (2_999_999, "0.0020"),
        (3_000_000, "0.0015"),
        (20_000_000, "0.0010"),
        (100_000_000, "0.0005"),
    ],
)
def test_tier_rate_by_month_volume(volume: int, rate: str) -> None:
    assert tier_rate(Decimal(volume)) == Decimal(rate)


@pytest.mark.parametrize(
    ("shares", "price", "expected"),
    [
        (1000, "50.00", "3.50 USD"),  # 1000 × 0.0035
        (50, "50.00", "0.35 USD"),  # 0.175 raised to the $0.35 minimum
        (10, "2.00", "0.20 USD"),  # 1% of a $20 trade caps below the minimum
        (143, "50.00", "0.50 USD"),  # 0.5005 rounds half up to the cent
    ],
)
def test_first_tier_commission_per_order(spy: Equity, shares: int, price: str, expected: str) -> None:
    assert _charge(IbkrTieredFeeModel(), spy, shares, price) == Money.from_str(expected)


def test_rate_falls_once_the_month_volume_passes_a_tier(spy: Equity) -> None:
    model = IbkrTieredFeeModel()
    # One order of 300,000 shares at $10: all at the first tier (the tier is the volume *before* the order).
    assert _charge(model, spy, 300_000, "10.00", "O-1") == Money.from_str("1050.00 USD")
    # The next order in the same month is charged at the second tier: 1000 × 0.0020.
    assert _charge(model, spy, 1000, "10.00", "O-2") == Money.from_str("2.00 USD")


def test_tiered_costs_reject_a_fixed_rate() -> None:
    with pytest.raises(ValueError, match="per_share applies to ibkr_fixed"):
        Costs(commission="ibkr_tiered", per_share=Decimal("0.001")).fee_model()
