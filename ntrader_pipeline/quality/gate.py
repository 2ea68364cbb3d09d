"""The gate between the catalog and a backtest: every session in the window stored and clean.

A session with minutes missing is clean (backtests run on the bars that exist; none are made up) unless
the instrument's `max_missing_fraction` is exceeded, which fails the gate naming the session."""

from __future__ import annotations

import os
from collections.abc import Sequence

from ntrader_pipeline.catalog.file_cache import (
    FileIdentity,
    IdentityCache,
    directory_identity,
    is_local,
    settled,
)
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
    results, definition = _checked(
        store, instrument_id, spec, sessions, require_definition, max_missing_fraction
    )
    missing = [str(r.session) for r in results if MISSING_RULE in r.failures]
    failing = [r for r in results if not r.passed and MISSING_RULE not in r.failures]
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


# Gate outcomes of unchanged files: a sweep or a rerun in the same process checks each window once.
_CHECKED = IdentityCache(maxsize=8)


def _checked(
    store: CatalogStore,
    instrument_id: str,
    spec: BarSpec,
    sessions: Sequence[TradingSession],
    require_definition: bool,
    max_missing_fraction: float | None,
) -> tuple[list[SessionQuality], str | None]:
    """The session rules' results and the definition problem; cached by the identity of every file they
    can read (the bar type's directory, its empty-session markers, the instrument's definition files)."""

    def check() -> tuple[list[SessionQuality], str | None]:
        results = check_stored_sessions(
            store, instrument_id, spec, sessions, max_missing_fraction=max_missing_fraction
        )
        definition = _definition_problem(store, instrument_id) if require_definition else None
        return results, definition

    if not is_local(store.path):
        return check()
    bar_type = spec.bar_type(instrument_id)
    files = (
        directory_identity(store.bar_directory(bar_type)),
        directory_identity(store.empty_marker(bar_type, sessions[0]).parent) if sessions else (),
        _definition_identities(store, instrument_id) if require_definition else (),
    )
    key = (
        str(store.path.resolve()),
        instrument_id,
        spec,
        tuple(sessions),
        require_definition,
        max_missing_fraction,
        files,
    )
    results, definition = _CHECKED.get_or_compute(
        key, check, cacheable=settled(identity for group in files for identity in group)
    )
    return list(results), definition


def _definition_identities(store: CatalogStore, instrument_id: str) -> tuple[FileIdentity, ...]:
    """Identities of `data/<class>/<instrument_id>/` for every instrument class directory."""
    data_root = store.path / "data"
    try:
        classes = sorted(entry.name for entry in os.scandir(data_root) if entry.is_dir())
    except FileNotFoundError:
        return ()
    return tuple(
        identity
        for name in classes
        if name != "bar"
        for identity in directory_identity(data_root / name / instrument_id)
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
