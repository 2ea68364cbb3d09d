from __future__ import annotations

from decimal import Decimal

import pytest

from ntrader_pipeline.strategies.sizing import entry_quantity

D = Decimal


@pytest.mark.parametrize(
    ("sizing", "size", "price", "cash", "equity", "cap", "expected"),
    [
        ("fixed_shares", D(100), D("10.00"), D(100_000), D(100_000), None, 100),
        ("fixed_shares", D(100), D("10.00"), D(500), D(500), None, 49),  # cash less 1% reserve
        ("fixed_notional", D(10_000), D("33.00"), D(100_000), D(100_000), None, 303),
        ("percent_of_equity", D(25), D("47.50"), D(100_000), D(100_000), None, 526),
        ("percent_of_equity", D(100), D("50.00"), D(100_000), D(100_000), None, 1980),
        ("fixed_shares", D(1000), D("50.00"), D(100_000), D(100_000), D("0.2"), 400),
        ("fixed_shares", D(100), D("0"), D(100_000), D(100_000), None, 0),
        ("fixed_shares", D(100), D("10"), D(-5), D(-5), None, 0),
    ],
)
def test_entry_quantity(sizing, size, price, cash, equity, cap, expected) -> None:
    assert entry_quantity(sizing, size, price, cash, equity, cap) == expected


def test_unknown_sizing_is_rejected() -> None:
    with pytest.raises(ValueError, match="'kelly' is not a valid Sizing"):
        entry_quantity("kelly", D(1), D(1), D(1), D(1))
