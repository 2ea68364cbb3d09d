"""IBKR Pro "fixed" commissions as a Nautilus fee model.

Nautilus' built-in models cannot express $0.005 per share: `PerContractFeeModel` takes a `Money`, and USD
Money holds cents, so the rate itself rounds to 0.01 or 0.00. This model keeps the rates as `Decimal` and
only rounds the commission to the currency's precision.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from nautilus_trader.backtest.models import FeeModel
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.model.orders import Order

IBKR_PER_SHARE = Decimal("0.005")
IBKR_MINIMUM = Decimal("1.00")
IBKR_MAXIMUM_PCT = Decimal("0.01")


def ibkr_fixed_commission(
    quantity: Decimal,
    trade_value: Decimal,
    per_share: Decimal = IBKR_PER_SHARE,
    minimum: Decimal = IBKR_MINIMUM,
    maximum_pct: Decimal = IBKR_MAXIMUM_PCT,
) -> Decimal:
    """Unrounded commission of one whole order: per-share rate, raised to the minimum, capped at % of value.

    The cap wins over the minimum, as at IBKR: 10 shares at $1 cost $0.10, not $1.00.
    """
    if quantity == 0:
        return Decimal(0)
    return min(max(per_share * quantity, minimum), maximum_pct * trade_value)


class IbkrFixedFeeModel(FeeModel):
    """
    IBKR Pro fixed pricing for stocks: a rate per share, a minimum and a maximum per *order*.

    Nautilus calls `get_commission` once per fill, and a market order can fill in pieces when a bar's
    volume is thin. Each fill is therefore charged the increase of the whole order's commission, so the
    minimum is paid once per order and the fills always add up to the whole-order amount.

    Parameters
    ----------
    per_share : Decimal, default 0.005
        Commission per share, in the instrument's quote currency.
    minimum : Decimal, default 1.00
        Minimum commission per order.
    maximum_pct : Decimal, default 0.01
        Maximum commission per order as a fraction of the trade value (0.01 = 1%).

    """

    def __init__(
        self,
        per_share: Decimal = IBKR_PER_SHARE,
        minimum: Decimal = IBKR_MINIMUM,
        maximum_pct: Decimal = IBKR_MAXIMUM_PCT,
    ) -> None:
        if per_share < 0 or minimum < 0 or maximum_pct < 0:
            raise ValueError(
                f"IBKR fee parameters must not be negative, got per_share={per_share}, "
                f"minimum={minimum}, maximum_pct={maximum_pct}"
            )
        self.per_share = Decimal(per_share)
        self.minimum = Decimal(minimum)
        self.maximum_pct = Decimal(maximum_pct)

    def get_commission(
        self,
        order: Order,
        fill_qty: Quantity,
        fill_px: Price,
        instrument: Instrument,
    ) -> Money:
        currency = instrument.quote_currency
        cent = Decimal(1).scaleb(-currency.precision)
        value_step = Decimal(1).scaleb(-(instrument.price_precision + instrument.size_precision))

        previous_qty = order.filled_qty.as_decimal()
        # avg_px is a double; rounding to the exact value grid removes its float error
        previous_value = (Decimal(repr(order.avg_px)) * previous_qty).quantize(value_step)
        already_charged = sum(
            (m.as_decimal() for m in order.commissions() if m.currency == currency),
            Decimal(0),
        )

        total_qty = previous_qty + fill_qty.as_decimal()
        total_value = previous_value + fill_px.as_decimal() * fill_qty.as_decimal()
        total_commission = self.commission(total_qty, total_value).quantize(cent, rounding=ROUND_HALF_UP)
        return Money(max(total_commission - already_charged, Decimal(0)), currency)

    def commission(self, quantity: Decimal, trade_value: Decimal) -> Decimal:
        """Unrounded commission for a whole order of `quantity` shares worth `trade_value`."""
        return ibkr_fixed_commission(quantity, trade_value, self.per_share, self.minimum, self.maximum_pct)
