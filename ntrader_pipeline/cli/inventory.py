"""`ntrader catalog`: what the catalog holds per bar type, and which sessions are missing from it;
`--verify` also opens every file and lists the unreadable, foreign, unconverted and missing ones (exit 1
if any); `--convert` first merges files of the one-file-per-session layout into month files."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nautilus_trader.model.data import BarType

from ntrader_pipeline.adjustments.events import describe_event
from ntrader_pipeline.catalog.file_checks import verify_catalog
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.markets.universe import Universe, load_universe

_LISTED = 8


@dataclass
class BarTypeInventory:
    bar_type: str
    present: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    not_listed: list[str] = field(default_factory=list)  # before IB's head timestamp: nothing to fetch
    head_timestamp: str | None = None


def inventory(
    path: Path, start: str | None = None, end: str | None = None, *, universe: Universe | None = None
) -> dict:
    """Instruments and, per bar type, sessions stored / recorded empty / missing against the instrument's
    calendar (NYSE when the universe does not list it) between `start` and `end` (defaults: the first and
    last session stored for that bar type)."""
    store = CatalogStore(path)
    instruments = _instrument_ids(store)
    bar_root = store.path / "data" / "bar"
    bar_types = {p.name for p in bar_root.iterdir() if p.is_dir()} if bar_root.exists() else set()
    rows = []
    for bar_type in sorted(bar_types | set(store.empty_bar_types())):
        row = BarTypeInventory(bar_type)
        row.present = sorted(d.isoformat() for d in store.stored_session_dates(bar_type))
        row.empty = [d.isoformat() for d in store.empty_session_dates(bar_type)]
        known = sorted({*row.present, *row.empty})
        head = _head_timestamp(store, bar_type)
        row.head_timestamp = head.isoformat() if head else None
        if known or (head and start):
            first, last = start or known[0], end or (known[-1] if known else start)
            sessions = sessions_between(first, last, _calendar_of(bar_type, universe))
            row.not_listed = [s.key for s in sessions if head and s.close <= head]
            expected = {s.key for s in sessions} - set(row.not_listed)
            row.missing = sorted(expected - set(known))
        rows.append(row)
    return {
        "catalog": str(store.path),
        "instruments": instruments,
        "bar_types": [asdict(r) for r in rows],
        "corporate_events": _corporate_events(store, instruments),
    }


def _corporate_events(store: CatalogStore, instruments: list[str]) -> dict[str, list[str]]:
    """Per instrument with stored events: one line per event (`2014-06-09 split 7:1`)."""
    found = {}
    for instrument_id in instruments:
        events = store.corporate_events(instrument_id)
        if events is not None:
            found[instrument_id] = [describe_event(row) for row in events.to_dicts()] or ["none"]
    return found


def _head_timestamp(store: CatalogStore, bar_type: str) -> dt.datetime | None:
    """The stored head timestamp of the bar type's instrument (LAST: TRADES, else MIDPOINT)."""
    what_to_show = "TRADES" if bar_type.split("-")[-2] == "LAST" else "MIDPOINT"
    return store.head_timestamp(BarType.from_str(bar_type).instrument_id.value, what_to_show)


def _instrument_ids(store: CatalogStore) -> list[str]:
    try:
        return sorted(i.id.value for i in store.catalog.instruments())
    except Exception:  # an unreadable definition file (see --verify): name instruments by their directory
        data = store.path / "data"
        return sorted({p.name for d in data.iterdir() if d.is_dir() and d.name != "bar" for p in d.iterdir()})


def _universe(path: Path) -> Universe | None:
    try:
        return load_universe(path)
    except (OSError, ValueError):  # no universe here: every bar type is checked against NYSE sessions
        return None


def _calendar_of(bar_type: str, universe: Universe | None) -> str | None:
    """The session calendar of the bar type's instrument per the universe (None: NYSE)."""
    instrument_id = BarType.from_str(bar_type).instrument_id.value
    if universe is None or instrument_id not in universe.instrument_ids:
        return None
    return universe.instrument(instrument_id).calendar_name


def run_catalog(
    path: Path,
    start: str | None,
    end: str | None,
    *,
    as_json: bool = False,
    universe_path: Path,
    verify: bool = False,
    convert: bool = False,
) -> int:
    if not Path(path).exists():
        print(f"no catalog at {path}; set NTRADER_CATALOG or pass --path")
        return 1
    for name, value in (("--start", start), ("--end", end)):
        if value is not None:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                print(f"{name} {value!r} is not a date (YYYY-MM-DD)")
                return 2
    if convert:
        from ntrader_pipeline.catalog.convert import convert_catalog

        print(convert_catalog(CatalogStore(path)).describe())
    report = inventory(Path(path), start, end, universe=_universe(universe_path))
    problems = [asdict(p) for p in verify_catalog(CatalogStore(path))] if verify else []
    if verify:
        report["problems"] = problems
    status = 1 if problems else 0
    if as_json:
        print(json.dumps(report, indent=2))
        return status
    print(f"catalog: {report['catalog']}")
    print(f"instruments ({len(report['instruments'])}): {', '.join(report['instruments']) or '-'}")
    header = (
        f"{'bar type':<44} {'present':>8} {'empty':>6} {'missing':>8} {'not listed':>10}  "
        "range / missing sessions"
    )
    print(header)
    print("-" * len(header))
    for row in report["bar_types"]:
        known = sorted({*row["present"], *row["empty"]})
        span = f"{known[0]}..{known[-1]}" if known else "-"
        missing = row["missing"]
        listed = ", ".join(missing[:_LISTED]) + (
            f" (+{len(missing) - _LISTED})" if len(missing) > _LISTED else ""
        )
        head = f"; listed from {row['head_timestamp'][:10]}" if row["head_timestamp"] else ""
        print(
            f"{row['bar_type']:<44} {len(row['present']):>8} {len(row['empty']):>6} {len(missing):>8} "
            f"{len(row['not_listed']):>10}  {span}{'; missing ' + listed if missing else ''}{head}"
        )
    for instrument_id, lines in report["corporate_events"].items():
        print(f"corporate events of {instrument_id}: " + "; ".join(lines))
    if verify:
        print(f"verify: {len(problems)} problem file(s)" + (":" if problems else ", every file is readable"))
        for problem in problems:
            print(f"  {problem['path']} {problem['problem']}; {problem['remedy']}")
    return status
