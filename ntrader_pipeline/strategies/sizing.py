"""Position sizing shared by the long-only strategies: how many whole shares one entry buys."""

from __future__ import annotations

import math
from decimal import Decimal
from enum import StrEnum

# Cash kept back on an entry for its commission and a tick of slippage, so a CASH account never
# goes negative (IBKR fixed caps commission at 1% of value; slippage is one tick on the remainder).
CASH_RESERVE_PCT = Decimal("0.01")


class Sizing(StrEnum):
    """How `trade_size` is read: shares, quote-currency notional, or percent of equity."""

    FIXED_SHARES = "fixed_shares"
    FIXED_NOTIONAL = "fixed_notional"
    PERCENT_OF_EQUITY = "percent_of_equity"


def entry_quantity(
    sizing: Sizing | str,
    trade_size: Decimal,
    price: Decimal,
    cash: Decimal,
    equity: Decimal,
    max_gross_exposure: Decimal | None = None,
) -> int:
    """
    Whole shares to buy at `price`: the sizing's target, never more than the cash (less a reserve for
    costs) buys, and never more than `max_gross_exposure` × equity in position value.

    Parameters
    ----------
    sizing : Sizing | str
        `fixed_shares`: `trade_size` shares; `fixed_notional`: `trade_size` of quote currency;
        `percent_of_equity`: `trade_size` percent (e.g. 50 = half) of the account's equity.
    trade_size, price, cash, equity : Decimal
        Size parameter, the decision price (bar close), free cash and marked-to-market equity.
    max_gross_exposure : Decimal, optional
        Cap on position value as a multiple of equity (1.0 = fully invested); None = no cap.

    Returns
    -------
    int
        Shares to buy; 0 when nothing is affordable or the price is not positive.

    """
    if price <= 0 or trade_size <= 0:
        return 0
    sizing = Sizing(sizing)
    if sizing is Sizing.FIXED_SHARES:
        target = trade_size
    elif sizing is Sizing.FIXED_NOTIONAL:
        target = trade_size / price
    else:
        target = equity * trade_size / Decimal(100) / price
    affordable = max(cash, Decimal(0)) * (1 - CASH_RESERVE_PCT) / price
    limits = [target, affordable]
    if max_gross_exposure is not None:
        limits.append(max(equity, Decimal(0)) * max_gross_exposure / price)
    return max(math.floor(min(limits)), 0)
