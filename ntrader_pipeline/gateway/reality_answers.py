"""A historical request's answer under the symbol's market reality: its bars, or the error IB sends."""

from __future__ import annotations

from ntrader_pipeline.gateway.faults import no_data_error
from ntrader_pipeline.gateway.history import HistoryRequestError, HistoryWindow, select_bars
from ntrader_pipeline.gateway.realities import MarketReality, permission_error
from ntrader_pipeline.gateway.reality_bars import adjusted_bars
from ntrader_pipeline.gateway.synthetic import adjusted


def served_bars(
    key: str,
    symbol: str,
    window: HistoryWindow,
    bar_seconds: int,
    what_to_show: str,
    reality: MarketReality | None,
) -> list:
    """The window's bars: ideal (the default) or under the symbol's market reality."""
    if reality is None or (not reality.changes_bars and reality.dividends is None):
        bars = select_bars(symbol, window, bar_seconds)
        return adjusted(bars) if what_to_show == "ADJUSTED_LAST" else bars
    bars = select_bars(key, window, bar_seconds, reality, what_to_show)
    return adjusted_bars(key, bars, reality) if what_to_show == "ADJUSTED_LAST" else bars


def refuse_as_ib_does(
    reality: MarketReality | None,
    contract: object,
    exchange: str,
    what_to_show: str,
    window: HistoryWindow,
    bars: list,
) -> None:
    """IB's errors for a symbol's realities: the permission error, or 162 "HMDS query returned no data"
    when sessions were asked for but none has a bar (before the listing, a whole-session halt)."""
    if reality is None:
        return
    primary = getattr(contract, "primary_exchange", "") or exchange.upper()
    if reality.permission not in (None, "delayed"):
        raise HistoryRequestError(
            *permission_error(reality.permission, primary, getattr(contract, "sec_type", "STK"))
        )
    if window.sessions and not bars and reality.changes_bars:
        raise HistoryRequestError(*no_data_error(getattr(contract, "symbol", ""), primary, what_to_show))
