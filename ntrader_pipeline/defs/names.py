"""Names of the backtest chain's assets and group, shared by the assets, jobs, sensors and CLI."""

BACKTEST_GROUP = "backtests"
COMPARISON_ASSET = "backtest_comparison"


def backtest_inputs_asset_name(name: str) -> str:
    return f"{name}_inputs"


def backtest_asset_name(name: str) -> str:
    return f"{name}_backtest"


def metrics_asset_name(name: str) -> str:
    return f"{name}_metrics"


def report_asset_name(name: str) -> str:
    return f"{name}_report"


def chain_asset_names(name: str) -> list[str]:
    """A declared backtest's chain in the order a run computes it."""
    return [
        backtest_inputs_asset_name(name),
        backtest_asset_name(name),
        metrics_asset_name(name),
        report_asset_name(name),
    ]
