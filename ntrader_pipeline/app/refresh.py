"""Which declared backtests a bars run affects: those whose window holds a session the run stored, on
their instrument or their benchmark index (the refresh sensor runs exactly these)."""

from collections.abc import Iterable

from ntrader_pipeline.backtest.declarations import BacktestDeclaration
from ntrader_pipeline.markets.bar_specs import bars_asset_name


def affected(
    declarations: Iterable[BacktestDeclaration],
    stored: dict[str, set[str]],
    sessions: tuple[str, str] | None,
) -> dict[str, set[str]]:
    """{backtest name: {instruments}} whose bars (the instrument's or the benchmark index's) the run
    stored inside the backtest's window; all stored when the run's sessions are unknown."""
    found: dict[str, set[str]] = {}
    for d in declarations:
        if sessions is not None and (
            sessions[1] < d.window.start.isoformat() or sessions[0] > d.window.end.isoformat()
        ):
            continue  # the changed sessions are outside the window: nothing to rerun
        changed = stored.get(bars_asset_name(d.spec), set())
        instruments = set(d.instruments) if d.index_instrument in changed else changed & set(d.instruments)
        if instruments:
            found[d.name] = instruments
    return found
