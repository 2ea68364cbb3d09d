"""Corporate-action histories for tests: real splits (and the dividends paid around them) on the synthetic
price paths, plus two crafted cases real data has too.

Real (ex-dates and ratios as the companies declared them; cash amounts per share as paid then):
- AAPL 7:1 on 2014-06-09 and 4:1 on 2020-08-31; dividends 3.29 (2014-05-08), 0.47 (2014-08-07),
  0.82 (2020-08-07), 0.205 (2020-11-06).
- GE 1:8 reverse on 2021-08-02; dividends 0.01 (2021-06-28), 0.08 (2021-09-27).
- CMG 50:1 on 2024-06-26; no dividends.
Crafted:
- MSFT 3:2 on 2024-05-15 with a 0.75 cash dividend going ex the same day.
- NVDA a special dividend of 20 % of the previous (cum-dividend) close going ex on 2024-04-10 (no split:
  a 20 % drop with unchanged volume, which must not read as a 5:4 split).

The synthetic series stay what they are (the continuous path); the realities make TRADES unadjusted and
ADJUSTED_LAST back-adjusted exactly as IB serves them (reality_bars.py). Opt in per symbol:
`gateway.realities.set("AAPL", history("AAPL"))`.
"""

from __future__ import annotations

import datetime as dt

from ntrader_pipeline.gateway.realities import Dividend, MarketReality, Split
from ntrader_pipeline.gateway.reality_bars import previous_unadjusted_close

D = dt.date
SPECIAL_DIVIDEND_SHARE = 0.20
SPECIAL_DIVIDEND_DATE = D(2024, 4, 10)

_FIXED: dict[str, MarketReality] = {
    "AAPL": MarketReality(
        dividend_drops=True,
        splits=(Split(D(2014, 6, 9), 7.0), Split(D(2020, 8, 31), 4.0)),
        dividends=(
            Dividend(D(2014, 5, 8), 3.29),
            Dividend(D(2014, 8, 7), 0.47),
            Dividend(D(2020, 8, 7), 0.82),
            Dividend(D(2020, 11, 6), 0.205),
        ),
    ),
    "GE": MarketReality(
        dividend_drops=True,
        splits=(Split(D(2021, 8, 2), 1 / 8),),
        dividends=(Dividend(D(2021, 6, 28), 0.01), Dividend(D(2021, 9, 27), 0.08)),
    ),
    "CMG": MarketReality(dividend_drops=True, splits=(Split(D(2024, 6, 26), 50.0),), dividends=()),
    "MSFT": MarketReality(
        dividend_drops=True, splits=(Split(D(2024, 5, 15), 1.5),), dividends=(Dividend(D(2024, 5, 15), 0.75),)
    ),
}
HISTORY_SYMBOLS = (*_FIXED, "NVDA")


def history(symbol: str) -> MarketReality:
    """The corporate-action history of `symbol` (one of HISTORY_SYMBOLS)."""
    symbol = symbol.upper()
    if symbol == "NVDA":
        close = previous_unadjusted_close("NVDA", SPECIAL_DIVIDEND_DATE, MarketReality())
        # TRADES before the ex-date is close + amount, so amount / (close + amount) is the share
        amount = round(SPECIAL_DIVIDEND_SHARE / (1 - SPECIAL_DIVIDEND_SHARE) * close, 2)
        return MarketReality(dividend_drops=True, dividends=(Dividend(SPECIAL_DIVIDEND_DATE, amount),))
    if symbol not in _FIXED:
        raise ValueError(f"no corporate-action history for {symbol}; known: {', '.join(HISTORY_SYMBOLS)}")
    return _FIXED[symbol]
