"""ntrader_pipeline: IB bars → Nautilus catalog → pandera checks → backtests → reports, as a Dagster code location."""

__version__ = "0.1.0"
