"""The connect sequence of a paper account with no positions, orders or executions.

General-purpose IB clients (ibapi's sample apps, ib_async) send these on connect and wait for each end
message: reqPositions → positionEnd; reqOpenOrders / reqAllOpenOrders / reqAutoOpenOrders → openOrderEnd;
reqCompletedOrders → completedOrdersEnd; reqAccountUpdates → updateAccountValue×N, (no updatePortfolio),
updateAccountTime, accountDownloadEnd; reqAccountUpdatesMulti (ib_async, per managed account) →
accountUpdateMulti×N, accountUpdateMultiEnd; reqExecutions → execDetailsEnd; reqAccountSummary →
accountSummary per tag asked, accountSummaryEnd.
"""

from __future__ import annotations

import datetime as dt

from ntrader_pipeline.gateway import messages
from ntrader_pipeline.gateway.codec import Field
from ntrader_pipeline.gateway.inbound import Incoming, parse_versioned_request_id

# what a paper account reports for reqAccountUpdates / reqAccountSummary (values as IB sends them: text)
ACCOUNT_VALUES = (
    ("AccountType", "INDIVIDUAL", ""),
    ("NetLiquidation", "1000000.00", "USD"),
    ("TotalCashValue", "1000000.00", "USD"),
    ("AvailableFunds", "1000000.00", "USD"),
    ("BuyingPower", "4000000.00", "USD"),
    ("GrossPositionValue", "0.00", "USD"),
)
_OPEN_ORDERS = (Incoming.REQ_OPEN_ORDERS, Incoming.REQ_ALL_OPEN_ORDERS, Incoming.REQ_AUTO_OPEN_ORDERS)
_CANCELS = (
    Incoming.CANCEL_ACCOUNT_SUMMARY,
    Incoming.CANCEL_POSITIONS,
    Incoming.CANCEL_HEAD_TIMESTAMP,
    Incoming.CANCEL_ACCOUNT_UPDATES_MULTI,
)


def account_answer(
    message_id: int, fields: list[str], account: str, now: dt.datetime
) -> list[list[Field]] | None:
    """The messages answering one account request, or None when `message_id` is not one of them."""
    if message_id == Incoming.REQ_POSITIONS:
        return [messages.position_end()]
    if message_id in _OPEN_ORDERS:
        return [messages.open_order_end()]
    if message_id == Incoming.REQ_COMPLETED_ORDERS:
        return [messages.completed_orders_end()]
    if message_id == Incoming.REQ_EXECUTIONS:
        return [messages.exec_details_end(parse_versioned_request_id(fields))]
    if message_id == Incoming.REQ_ACCT_DATA:
        if not (len(fields) > 2 and fields[2].strip().lower() in ("1", "true")):
            return []  # unsubscribe: nothing to answer
        values = [
            messages.account_value(key, value, currency, account) for key, value, currency in ACCOUNT_VALUES
        ]
        return [*values, messages.account_update_time(now), messages.account_download_end(account)]
    if message_id == Incoming.REQ_ACCOUNT_SUMMARY:
        req_id = parse_versioned_request_id(fields)
        tags = set(fields[4].split(",")) if len(fields) > 4 else set()
        summary = [
            messages.account_summary(req_id, account, key, value, currency)
            for key, value, currency in ACCOUNT_VALUES
            if key in tags or "All" in tags
        ]
        return [*summary, messages.account_summary_end(req_id)]
    if message_id == Incoming.REQ_ACCOUNT_UPDATES_MULTI:
        return _account_updates_multi(fields, account)
    if message_id in _CANCELS:
        return []  # everything was answered at once: nothing left to cancel
    return None


def _account_updates_multi(fields: list[str], account: str) -> list[list[Field]]:
    """reqAccountUpdatesMulti [76, version, reqId, account, modelCode, ledgerAndNLV]: the account's values
    (for the account asked, or every account for "" / "All"), then the end message ib_async waits for."""
    req_id = parse_versioned_request_id(fields)
    asked = fields[3] if len(fields) > 3 else ""
    model_code = fields[4] if len(fields) > 4 else ""
    values = (
        [
            messages.account_update_multi(req_id, account, model_code, key, value, currency)
            for key, value, currency in ACCOUNT_VALUES
        ]
        if asked in ("", "All", account)
        else []
    )
    return [*values, messages.account_update_multi_end(req_id)]
