"""Backtests of strategies on catalog bars with Nautilus' BacktestEngine, returned as polars frames.

`declarations` reads the backtests file; `run.run_declared_backtest` runs one declaration on one
instrument end to end; `engine.run_backtest` is the engine run itself; `costs` (fee models in `fees` and
`tiered_fees`, slippage, risk caps); `benchmarks` (buy and hold); `versions` and `manifest` (provenance);
`result` holds the frame schemas and `result_frames` builds them; `artifacts` writes and reads the frames.
"""
