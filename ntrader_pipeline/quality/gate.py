"""The gate between the catalog and a backtest: every session in the window stored and clean.

A session with minutes missing is clean (backtests run on the bars that exist; none are made up) unless
the instrument's `max_missing_fraction` is exceeded, which fails the gate naming the session."""

from __future__ import annotations

from collections.abc import Sequence

from ntrader_pipeline.catalog.file_checks import (
    INSTRUMENT_RULE,
    definition_file_paths,
    definition_problem,
)
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import TradingSession
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality.catalog_quality import MISSING_RULE, check_stored_sessions
from ntrader_pipeline.quality.session_quality import GAPS_RULE, SessionQuality

_LISTED = 10


class SessionsNotReadyError(ValueError):
    """Some sessions a backtest needs are missing from the catalog or fail the quality rules."""


def require_clean_sessions(
    store: CatalogStore,
    instrument_id: str,
    spec: BarSpec,
    sessions: Sequence[TradingSession],
    asset_hint: str,
    *,
    require_definition: bool = False,
    max_missing_fraction: float | None = None,
) -> list[SessionQuality]:
    """Raise SessionsNotReadyError naming each missing or failing session (and, with `require_definition`,
    a missing or unreadable instrument definition); otherwise the results (with their warnings: gaps,
    split-like jumps)."""
    results = check_stored_sessions(
        store, instrument_id, spec, sessions, max_missing_fraction=max_missing_fraction
    )
    missing = [str(r.session) for r in results if MISSING_RULE in r.failures]
    failing = [r for r in results if not r.passed and MISSING_RULE not in r.failures]
    definition = _definition_problem(store, instrument_id) if require_definition else None
    if not missing and not failing and definition is None:
        return results
    bar_type = spec.bar_type(instrument_id)
    problems = [definition] if definition else []
    if missing:
        shown = ", ".join(missing[:_LISTED]) + (
            f" and {len(missing) - _LISTED} more" if len(missing) > _LISTED else ""
        )
        problems.append(f"{len(missing)} sessions are not in the catalog: {shown}")
    if failing:
        shown = "; ".join(r.describe() for r in failing[:_LISTED])
        problems.append(f"{len(failing)} sessions fail the quality rules: {shown}")
    remedies = []
    if missing or definition or any(set(r.failures) - {GAPS_RULE} for r in failing):
        remedies.append(f"Materialize {asset_hint} for those partitions (re-fetch failing ones) and rerun.")
    if any(GAPS_RULE in r.failures for r in failing):
        # a re-fetch brings the same answer: IB sends no bar for a minute without a trade
        remedies.append(
            f"Sessions failing {GAPS_RULE} are as IB answered them (no bar for a minute without a trade): "
            "re-fetching does not fill them; raise the instrument's max_missing_fraction in the universe "
            "or move the backtest's window past them."
        )
    raise SessionsNotReadyError(
        f"backtest of {bar_type} over {sessions[0].key}..{sessions[-1].key} cannot run: "
        + "; ".join(problems)
        + ". "
        + " ".join(remedies)
    )


def _definition_problem(store: CatalogStore, instrument_id: str) -> str | None:
    """The `instrument_defined` rule: the instrument's definition file is stored and readable."""
    files = definition_file_paths(store, instrument_id)
    if not files:
        return (
            f"{INSTRUMENT_RULE}: the instrument definition of {instrument_id} is not in the catalog "
            f"({store.path}/data/<instrument class>/{instrument_id}/); materializing any of its bars "
            "partitions stores it"
        )
    for path in files:
        if reason := definition_problem(path):
            return (
                f"{INSTRUMENT_RULE}: the instrument definition {path} {reason}; materializing any of "
                f"{instrument_id}'s bars partitions replaces it"
            )
    return None
