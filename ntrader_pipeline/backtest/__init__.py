"""Backtests of strategies on catalog bars with Nautilus' BacktestEngine, returned as polars frames.

`runner.run_sma_backtest` runs one instrument; `result` holds the frame schemas; `artifacts` writes and
reads the frames; `fees` is the IBKR fixed commission model.
"""
