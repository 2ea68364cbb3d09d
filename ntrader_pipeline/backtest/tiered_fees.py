"""IBKR Pro "tiered" commissions for US stocks: the per-share rate falls with the month's share volume.

Schedule (IBKR commission only, per share, by month-to-date shares traded), from
https://www.interactivebrokers.com/en/pricing/commissions-stocks.php (US, IBKR Pro Tiered):

    <= 300,000            USD 0.0035
    300,001 - 3,000,000   USD 0.0020
    3,000,001 - 20,000,000  USD 0.0015
    20,000,001 - 100,000,000  USD 0.0010
    > 100,000,000         USD 0.0005

Minimum USD 0.35 and maximum 1.0% of trade value per order. Exchange, clearing and regulatory fees that
IBKR passes through on top are not modelled (they depend on venue and liquidity flags the bars lack).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal

from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.model.orders import Order

from ntrader_pipeline.backtest.fees import IbkrFixedFeeModel

# (first share of the tier within the month, rate per share)
IBKR_TIERS: tuple[tuple[int, Decimal], ...] = (
    (0, Decimal("0.0035")),
    (300_000, Decimal("0.0020")),
    (3_000_000, Decimal("0.0015")),
    (20_000_000, Decimal("0.0010")),
    (100_000_000, Decimal("0.0005")),
)
IBKR_TIERED_MINIMUM = Decimal("0.35")
IBKR_TIERED_MAXIMUM_PCT = Decimal("0.01")


def tier_rate(month_volume: Decimal, tiers: Sequence[tuple[int, Decimal]] = IBKR_TIERS) -> Decimal:
    """The per-share rate for an order placed after `month_volume` shares this calendar month."""
    rate = tiers[0][1]
    for threshold, tier in tiers:
        if month_volume >= threshold:
            rate = tier
    return rate


class IbkrTieredFeeModel(IbkrFixedFeeModel):
    """
    IBKR Pro tiered pricing: an order's rate is the tier of the month's volume before that order
    (IBKR applies the tier reached at the time of the order), then minimum/maximum per order as in
    the fixed model. Volume resets at each calendar month (UTC) of the order's creation time.

    Parameters
    ----------
    minimum : Decimal, default 0.35
        Minimum commission per order.
    maximum_pct : Decimal, default 0.01
        Maximum commission per order as a fraction of trade value.
    tiers : sequence of (threshold shares, rate), default `IBKR_TIERS`
        Ascending month-volume thresholds, the first at 0.

    """

    def __init__(
        self,
        minimum: Decimal = IBKR_TIERED_MINIMUM,
        maximum_pct: Decimal = IBKR_TIERED_MAXIMUM_PCT,
        tiers: Sequence[tuple[int, Decimal]] = IBKR_TIERS,
    ) -> None:
        if not tiers or tiers[0][0] != 0 or any(a[0] >= b[0] for a, b in itertools.pairwise(tiers)):
            raise ValueError(f"IBKR tiers must start at 0 shares and ascend, got {list(tiers)}")
        super().__init__(per_share=tiers[0][1], minimum=minimum, maximum_pct=maximum_pct)
        self.tiers = tuple((int(t), Decimal(r)) for t, r in tiers)
        self._month: str | None = None
        self._month_volume = Decimal(0)
        self._order_rates: dict[str, Decimal] = {}

    def get_commission(
        self, order: Order, fill_qty: Quantity, fill_px: Price, instrument: Instrument
    ) -> Money:
        key = order.client_order_id.value
        if key not in self._order_rates:
            month = dt.datetime.fromtimestamp(order.ts_init // 1_000_000_000, dt.UTC).strftime("%Y-%m")
            if month != self._month:
                self._month, self._month_volume = month, Decimal(0)
            self._order_rates[key] = tier_rate(self._month_volume, self.tiers)
        self.per_share = self._order_rates[key]
        commission = super().get_commission(order, fill_qty, fill_px, instrument)
        self._month_volume += fill_qty.as_decimal()
        return commission
