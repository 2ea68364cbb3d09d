"""Embedded IB gateway: speaks the TWS socket protocol and serves deterministic synthetic NYSE bars.

No IB account is needed: the real Nautilus IB client connects to it as to IB Gateway/TWS. Start it
in-process with `EmbeddedGateway` (tests) or as `python -m ntrader_pipeline.gateway` (demo, CI).
"""

from ntrader_pipeline.gateway.contracts import CONTRACTS, ContractQuery, ListedContract, find_contract
from ntrader_pipeline.gateway.embedded import EmbeddedGateway
from ntrader_pipeline.gateway.faults import Fault, GatewayFaults, parse_fault_spec
from ntrader_pipeline.gateway.pacing import HistoricalPacing
from ntrader_pipeline.gateway.request_log import HistoricalRecord, ReceivedRequest, RequestLog
from ntrader_pipeline.gateway.server import GatewayServer
from ntrader_pipeline.gateway.synthetic import SyntheticBar, minute_bars, session_bars

__all__ = [
    "CONTRACTS",
    "ContractQuery",
    "EmbeddedGateway",
    "Fault",
    "GatewayFaults",
    "GatewayServer",
    "HistoricalPacing",
    "HistoricalRecord",
    "ListedContract",
    "ReceivedRequest",
    "RequestLog",
    "SyntheticBar",
    "find_contract",
    "minute_bars",
    "parse_fault_spec",
    "session_bars",
]
