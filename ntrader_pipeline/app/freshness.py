"""After the nightly refresh: is every instrument's last closed session stored? (bars, or IB's recorded
"no data": a month partition's materialization does not say which of its sessions are stored)."""

import datetime as dt

from ntrader_pipeline.app.outcomes import CheckOutcome
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.calendars import SessionCalendar
from ntrader_pipeline.markets.latest_sessions import last_closed_session, missing_latest_sessions
from ntrader_pipeline.markets.universe import BarSpec


def stored_latest_sessions(
    store: CatalogStore,
    spec: BarSpec,
    instruments: list[tuple[str, SessionCalendar]],
    now: dt.datetime,
    first: dt.date,
) -> set[tuple[str, str]]:
    """(instrument, session) for each instrument whose last closed session the catalog holds."""
    stored = set()
    for instrument_id, calendar in instruments:
        session = last_closed_session(calendar, now, first)
        bar_type = spec.bar_type(instrument_id)
        if session is not None and (
            store.has_session(bar_type, session) or store.empty_reason(bar_type, session) is not None
        ):
            stored.add((instrument_id, session.key))
    return stored


def check_latest_sessions(
    store: CatalogStore,
    spec: BarSpec,
    instruments: list[tuple[str, SessionCalendar]],
    now: dt.datetime,
    first: dt.date,
) -> CheckOutcome:
    """Fails naming every instrument whose latest session on its own calendar (closed by `now`) is not
    stored."""
    stored = stored_latest_sessions(store, spec, instruments, now, first)
    missing = missing_latest_sessions(instruments, now, first, stored)
    return CheckOutcome(
        passed=not missing,
        description="; ".join(m.describe() for m in missing) or None,
        metadata={"checked_at": now.isoformat(), "instruments": len(instruments), "missing": len(missing)},
    )
