"""Embedded IB gateway: speaks the TWS socket protocol and serves deterministic synthetic NYSE bars.

No IB account is needed: the real Nautilus IB client connects to it as to IB Gateway/TWS. Start it
in-process with `EmbeddedGateway` (tests) or as `python -m ntrader_pipeline.gateway` (demo, CI).

It answers what a paper account answers on connect (positions, open/completed orders, executions and
account updates, each with its end message; reqHeadTimeStamp) and serves market realities per symbol
(realities.py): `gateway.realities.set(symbol, MarketReality(...))` or `--reality SPEC`. By default every
symbol is ideal except the synthetic illiquid stock ILLQ (NASDAQ, conId 700000001):
- listed 2023-09-12 (head timestamp 2023-09-12 09:30 New York; earlier requests: 162 "HMDS query
  returned no data");
- about 30 % of its minutes without a trade (no TRADES bar; MIDPOINT stays continuous);
- halted 2024-01-18 11:05-11:30 New York; a late open on 2024-03-05 at 10:12;
- a 4:1 split ex 2024-02-15 (TRADES and MIDPOINT jump, ADJUSTED_LAST stays continuous);
- cash dividends of 0.20 ex 2023-12-14 (before the split) and 0.05 ex 2024-03-14.
`--ideal` turns the defaults off. Permission errors (162 "No market data permissions", 354, 10089, 10168,
10197) and the delayed-data notice 10167 are scripted per symbol with `permission=`.
"""

from ntrader_pipeline.gateway.contracts import CONTRACTS, ContractQuery, ListedContract, find_contract
from ntrader_pipeline.gateway.embedded import EmbeddedGateway
from ntrader_pipeline.gateway.faults import Fault, GatewayFaults, parse_fault_spec
from ntrader_pipeline.gateway.pacing import HistoricalPacing
from ntrader_pipeline.gateway.realities import (
    DEFAULT_REALITIES,
    Dividend,
    GatewayRealities,
    Halt,
    MarketReality,
    Split,
    late_open,
)
from ntrader_pipeline.gateway.request_log import HistoricalRecord, ReceivedRequest, RequestLog
from ntrader_pipeline.gateway.server import GatewayServer
from ntrader_pipeline.gateway.synthetic import SyntheticBar, minute_bars, session_bars

__all__ = [
    "CONTRACTS",
    "DEFAULT_REALITIES",
    "ContractQuery",
    "Dividend",
    "EmbeddedGateway",
    "Fault",
    "GatewayFaults",
    "GatewayRealities",
    "GatewayServer",
    "Halt",
    "HistoricalPacing",
    "HistoricalRecord",
    "ListedContract",
    "MarketReality",
    "ReceivedRequest",
    "RequestLog",
    "Split",
    "SyntheticBar",
    "find_contract",
    "late_open",
    "minute_bars",
    "parse_fault_spec",
    "session_bars",
]
