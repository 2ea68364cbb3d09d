"""How much `engine.run_backtest` (validation + frames) adds to a bare BacktestEngine run of SmaCross.

Run: .venv/bin/python benchmarks/backtest_engine_overhead.py
Prints best-of-N wall times on synthetic 1-minute bars; never asserts on timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

import numpy as np
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.enums import AccountType, OmsType
from nautilus_trader.model.identifiers import InstrumentId, Symbol, TraderId
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import Money, Price, Quantity

from ntrader_pipeline.backtest.engine import run_backtest
from ntrader_pipeline.backtest.fees import IbkrFixedFeeModel
from ntrader_pipeline.strategies.sma_cross import SmaCross, SmaCrossConfig

BAR_COUNTS = (25_000, 100_000)
REPEATS = 3
FAST_PERIOD, SLOW_PERIOD, TRADE_SIZE, STARTING_CASH = 10, 30, 100, 100_000.0
MINUTE_NS = 60_000_000_000
START_NS = 1_704_205_800_000_000_000  # 2024-01-02 14:30 UTC


def spy() -> Equity:
    return Equity(
        instrument_id=InstrumentId.from_str("SPY.ARCA"),
        raw_symbol=Symbol("SPY"),
        currency=USD,
        price_precision=2,
        price_increment=Price.from_str("0.01"),
        lot_size=Quantity.from_int(1),
        isin="US78462F1030",
        ts_event=0,
        ts_init=0,
    )


def synthetic_bars(instrument: Equity, count: int, seed: int = 42) -> list[Bar]:
    """A seeded random walk around $470 with cent prices, one bar per minute."""
    rng = np.random.default_rng(seed)
    closes = np.round(470.0 + np.cumsum(rng.normal(0.0, 0.05, count)), 2)
    opens = np.concatenate(([closes[0]], closes[:-1]))
    highs = np.round(np.maximum(opens, closes) + rng.uniform(0.0, 0.05, count), 2)
    lows = np.round(np.minimum(opens, closes) - rng.uniform(0.0, 0.05, count), 2)
    volumes = rng.integers(2_000, 20_000, count)
    bar_type = BarType.from_str(f"{instrument.id}-1-MINUTE-LAST-EXTERNAL")
    return [
        Bar(
            bar_type,
            Price(o, 2),
            Price(h, 2),
            Price(lo, 2),
            Price(c, 2),
            Quantity(int(v), 0),
            START_NS + i * MINUTE_NS,
            START_NS + (i + 1) * MINUTE_NS,
        )
        for i, (o, h, lo, c, v) in enumerate(
            zip(opens.tolist(), highs.tolist(), lows.tolist(), closes.tolist(), volumes.tolist(), strict=True)
        )
    ]


def sma_cross(instrument: Equity, bar_type: BarType) -> SmaCross:
    return SmaCross(
        SmaCrossConfig(
            instrument_id=instrument.id,
            bar_type=bar_type,
            fast_period=FAST_PERIOD,
            slow_period=SLOW_PERIOD,
            trade_size=Decimal(TRADE_SIZE),
        )
    )


def product_run(instrument: Equity, bars: list[Bar]) -> int:
    """`run_backtest` of SmaCross; returns the number of fills."""
    result = run_backtest(instrument, bars, lambda bar_type: sma_cross(instrument, bar_type), STARTING_CASH)
    return result.fills.height


def raw_engine_run(instrument: Equity, bars: list[Bar]) -> None:
    """The engine setup of `run_backtest` (venue, fee model, strategy), with no checks and no frames."""
    engine = BacktestEngine(
        BacktestEngineConfig(
            trader_id=TraderId("BACKTESTER-001"),
            logging=LoggingConfig(log_level="ERROR"),
            run_analysis=False,
        )
    )
    engine.add_venue(
        venue=instrument.id.venue,
        oms_type=OmsType.NETTING,
        account_type=AccountType.CASH,
        starting_balances=[Money(STARTING_CASH, USD)],
        base_currency=USD,
        fee_model=IbkrFixedFeeModel(),
    )
    engine.add_instrument(instrument)
    engine.add_data(bars)
    engine.add_strategy(sma_cross(instrument, bars[0].bar_type))
    engine.run()
    engine.dispose()


def best_of(repeats: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    instrument = spy()
    print(f"SmaCross {FAST_PERIOD}/{SLOW_PERIOD}, best of {REPEATS}")
    header = ("bars", "raw engine s", "run_backtest s", "ratio", "fills", "bars/s")
    print("{:>8} {:>13} {:>19} {:>6} {:>6} {:>8}".format(*header))
    for count in BAR_COUNTS:
        bars = synthetic_bars(instrument, count)
        raw = best_of(REPEATS, lambda bars=bars: raw_engine_run(instrument, bars))
        full = best_of(REPEATS, lambda bars=bars: product_run(instrument, bars))
        fills = product_run(instrument, bars)
        print(f"{count:>8,} {raw:>13.3f} {full:>19.3f} {full / raw:>6.2f} {fills:>6} {count / full:>8,.0f}")


if __name__ == "__main__":
    main()
