"""ntrader_pipeline: IB bars → Nautilus catalog → pandera checks → backtests → reports (Dagster)."""

__version__ = "0.1.0"
