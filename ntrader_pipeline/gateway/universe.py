"""A universe of N synthetic stocks the gateway lists beside its fixed contracts, and the matching universe
file for the code location (NTRADER_UNIVERSE), so a benchmark can run the pipeline over N instruments.

Each stock is a deterministic function of its index: a 4-letter ticker starting with Q or X followed by
three letters (never one of the fixed contracts' symbols), a primary exchange among NYSE, NASDAQ and ARCA,
a conId from 800,000,000 and a well-formed US ISIN (check digit by ISO 6166's Luhn rule). Their bars are
the synthetic series every symbol gets (synthetic.py: seeded by symbol and date), on NYSE sessions, with
no market realities: ideal data. A symbol the gateway does not list still gets error 200.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from ntrader_pipeline.gateway.contracts import CONTRACTS, ListedContract

PRIMARY_EXCHANGES = ("NYSE", "NASDAQ", "ARCA")
FIRST_CON_ID = 800_000_000
MAX_SYNTHETIC_STOCKS = 2 * 26**3  # Q??? and X??? tickers
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FIXED_SYMBOLS = frozenset(c.symbol for c in CONTRACTS.values())


def _ticker(index: int) -> str:
    """Q/X + three letters; index order scrambled by a stride coprime with 26³ (deterministic, no two
    equal)."""
    prefix, rest = divmod(index, 26**3)
    scrambled = (rest * 7_919) % 26**3  # 7919 is prime and does not divide 26³
    letters = "".join(_LETTERS[(scrambled // 26**k) % 26] for k in (2, 1, 0))
    return ("Q", "X")[prefix] + letters


def isin_check_digit(body: str) -> int:
    """ISO 6166: letters → numbers (A=10 … Z=35), then Luhn from the right over the digit string."""
    digits = "".join(str(int(ch, 36)) for ch in body)
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return (10 - total % 10) % 10


def _unit(*parts: str) -> float:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big") / 2**64


def synthetic_stock(index: int) -> ListedContract:
    """The index-th synthetic stock (0-based)."""
    if not 0 <= index < MAX_SYNTHETIC_STOCKS:
        raise ValueError(f"synthetic stock index {index} is outside 0..{MAX_SYNTHETIC_STOCKS - 1}")
    symbol = _ticker(index)
    exchange = PRIMARY_EXCHANGES[index % len(PRIMARY_EXCHANGES)]
    body = f"US9{index:08d}"  # US + 9 characters; the 9 prefix keeps them apart from the fixed ISINs
    is_etf = exchange == "ARCA"
    return ListedContract(
        symbol,
        exchange,
        FIRST_CON_ID + index,
        f"{body}{isin_check_digit(body)}",
        f"SYNTHETIC {symbol} {'ETF' if is_etf else 'INC'}",
        "ETF" if is_etf else "COMMON",
        "Funds" if is_etf else "Industrial",
        "Equity Fund" if is_etf else "Diversified",
        "Synthetic",
        # the level synthetic.py gives a symbol it does not list (so contract details and bars agree)
        round(20.0 + 480.0 * _unit("base-price", symbol), 2),
        5_000 + int(45_000 * _unit("base-volume", symbol)),
    )


def synthetic_stocks(count: int) -> tuple[ListedContract, ...]:
    """The first `count` synthetic stocks; none shares a symbol with the fixed contracts."""
    if not 0 <= count <= MAX_SYNTHETIC_STOCKS:
        raise ValueError(f"--synthetic-stocks must be within 0..{MAX_SYNTHETIC_STOCKS}, got {count}")
    stocks = tuple(synthetic_stock(i) for i in range(count))
    clash = [s.symbol for s in stocks if s.symbol in _FIXED_SYMBOLS]
    if clash:  # cannot happen with Q/X tickers; a guard should the fixed registry grow
        raise ValueError(f"synthetic tickers {clash} clash with the gateway's fixed contracts")
    return stocks


def listing(count: int) -> Mapping[str, ListedContract]:
    """The gateway's contracts: the fixed ones and `count` synthetic stocks, by registry key."""
    if count == 0:
        return CONTRACTS
    return {**CONTRACTS, **{s.key: s for s in synthetic_stocks(count)}}


def universe_document(
    stocks: Sequence[ListedContract], bar_specs: Sequence[str] = ("1-MINUTE-LAST", "1-DAY-LAST")
) -> dict:
    """The universe file's content for `stocks` (see markets/universe.py)."""
    return {
        "bar_specs": list(bar_specs),
        "instruments": [
            {
                "symbol": s.symbol,
                "sec_type": "STK",
                "exchange": "SMART",
                "primary_exchange": s.primary_exchange,
                "currency": s.currency,
            }
            for s in stocks
        ],
    }


def write_universe(
    path: Path | str, count: int, bar_specs: Sequence[str] = ("1-MINUTE-LAST", "1-DAY-LAST")
) -> Path:
    """Write the universe file of the first `count` synthetic stocks (point NTRADER_UNIVERSE at it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# {count} synthetic stocks the embedded gateway lists with --synthetic-stocks {count} "
        "(written by ntrader_pipeline.gateway.universe.write_universe)\n"
    )
    text = yaml.safe_dump(universe_document(synthetic_stocks(count), bar_specs), sort_keys=False)
    path.write_text(header + text)
    return path
