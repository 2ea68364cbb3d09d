"""IB's historical-data pacing rules, enforced before each request and shared across processes.

IB answers a request that breaks its limits with error 162 and nothing else; the Nautilus client then
waits out its timeout. So we wait *before* asking instead. IB's "Historical Data Limitations" page lists
the pacing violations for bars of **30 seconds or less**: an identical request within 15 s, 6 or more
requests for one contract/exchange/tick type within 2 s, more than 60 requests within 10 minutes. For
bars of 1 minute and larger it says those hard limits "have been lifted" and a soft throttle balances the
load instead; the limit of 50 open requests applies to every request. So small bars get the hard rules,
larger bars only a soft per-contract rate (`soft_limit` per `soft_window_s`, a courtesy that keeps IB's
throttle from slowing the answers) and the open-request cap; a 162 still backs off (see the fetcher).

State lives in one SQLite file (WAL, `BEGIN IMMEDIATE` for check-and-record), so concurrent Dagster runs
and later processes on the instance see every request made in the windows that matter.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from ntrader_pipeline.ingest.errors import FetchError

# A hair past each window edge: the gateway (and IB) must see the window as passed.
_MARGIN_S = 0.05
_OPEN_POLL_S = 0.1


class PacingWaitError(FetchError):
    """Waiting for a pacing slot would take longer than the configured bound."""


@dataclass(frozen=True, slots=True)
class PacingRules:
    identical_window_s: float = 15.0
    per_contract_limit: int = 5
    per_contract_window_s: float = 2.0
    small_bar_limit: int = 60
    small_bar_window_s: float = 600.0
    small_bar_max_seconds: int = 30
    max_open: int = 50
    soft_limit: int = 6  # bars of 1 minute and larger: at most this many per contract and tick type...
    soft_window_s: float = 1.0  # ...within this window


@dataclass(frozen=True, slots=True)
class PacedRequest:
    """What the rules look at: the full request (identical = same key), its contract/exchange/tick type,
    and its bar length."""

    request_key: str
    contract_key: str
    bar_seconds: int
    description: str = ""


class PacingLimiter:
    """`with limiter.slot(request): ...` waits (bounded) until the request breaks no rule, records it and
    holds one of the open-request slots until the block ends."""

    def __init__(
        self,
        path: Path | str,
        *,
        rules: PacingRules | None = None,
        max_wait_s: float = 900.0,
        open_ttl_s: float = 300.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = Path(path)
        self.rules = rules or PacingRules()
        self.max_wait_s = max_wait_s
        # A process killed mid-request never releases its slot: it lapses after this long.
        self.open_ttl_s = open_ttl_s
        self._clock = clock
        self._sleep = sleep
        self.waited_s = 0.0
        self._in_process = threading.Lock()  # this process's threads take turns at the database
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS requests (id INTEGER PRIMARY KEY, started REAL NOT NULL, "
                "request_key TEXT NOT NULL, contract_key TEXT NOT NULL, small INTEGER NOT NULL, "
                "open_until REAL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS requests_started ON requests (started)")

    @contextmanager
    def slot(self, request: PacedRequest) -> Iterator[None]:
        row_id = self.acquire(request)
        try:
            yield
        finally:
            self.release(row_id)

    def acquire(self, request: PacedRequest) -> int:
        """Record the request once no rule forbids it now; returns its row id for `release`."""
        started_waiting = self._clock()
        while True:
            row_id, delay = self._record_or_delay(request)
            if row_id is not None:
                return row_id
            waited = self._clock() - started_waiting
            if waited + delay > self.max_wait_s:
                raise PacingWaitError(
                    f"{request.description or request.request_key}: IB's pacing rules would hold this "
                    f"request for another {delay:.1f} s, past the {self.max_wait_s:.0f} s bound "
                    f"(IB_PACING_MAX_WAIT_S); other runs may be fetching heavily — retry later or raise "
                    "the bound"
                )
            self._sleep(delay)
            self.waited_s += delay

    def _record_or_delay(self, request: PacedRequest) -> tuple[int | None, float]:
        """(its row id, 0) once the request is recorded, or (None, how long to wait first)."""
        # One transaction at a time per process: threads contending for SQLite's write lock would each
        # sleep in its busy handler (milliseconds to 100 ms a try); other processes still can.
        with self._in_process, closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            now = self._clock()
            delay = self._delay(db, request, now)
            if delay > 0:
                db.execute("COMMIT")
                return None, delay
            cursor = db.execute(
                "INSERT INTO requests (started, request_key, contract_key, small, open_until) "
                "VALUES (?, ?, ?, ?, ?)",
                (now, request.request_key, request.contract_key, self._small(request), now + self.open_ttl_s),
            )
            db.execute("DELETE FROM requests WHERE started < ?", (now - self._horizon_s,))
            db.execute("COMMIT")
            return int(cursor.lastrowid or 0), 0.0

    def release(self, row_id: int) -> None:
        """Close the request and move its stamp to now: IB saw it at some unknown instant between
        acquire and now (a busy machine can delay the send by more than any fixed margin), and the
        answer being in means it was sent, so later requests count their windows from here."""
        with self._in_process, closing(self._connect()) as db:
            db.execute(
                "UPDATE requests SET open_until = NULL, started = MAX(started, ?) WHERE id = ?",
                (self._clock(), row_id),
            )

    def delay_for(self, request: PacedRequest) -> float:
        """Seconds until `request` would break no rule (0 when it may go now)."""
        with closing(self._connect()) as db:
            return self._delay(db, request, self._clock())

    # -- internals ---------------------------------------------------------------------------

    @property
    def _horizon_s(self) -> float:
        rules = self.rules
        windows = (rules.identical_window_s, rules.per_contract_window_s, rules.small_bar_window_s)
        return max(*windows, rules.soft_window_s) + 1

    def _small(self, request: PacedRequest) -> int:
        return int(request.bar_seconds <= self.rules.small_bar_max_seconds)

    def _delay(self, db: sqlite3.Connection, request: PacedRequest, now: float) -> float:
        rules = self.rules
        delays = [0.0]
        if self._small(request):
            (last_identical,) = db.execute(
                "SELECT MAX(started) FROM requests WHERE request_key = ? AND started > ?",
                (request.request_key, now - rules.identical_window_s),
            ).fetchone()
            if last_identical is not None:
                delays.append(last_identical + rules.identical_window_s - now + _MARGIN_S)
            delays.append(
                _window_delay(
                    db, "contract_key = ? AND small = 1", (request.contract_key,), now,
                    rules.per_contract_limit, rules.per_contract_window_s,
                )
            )  # fmt: skip
            delays.append(
                _window_delay(db, "small = 1", (), now, rules.small_bar_limit, rules.small_bar_window_s)
            )
        else:
            delays.append(
                _window_delay(
                    db, "contract_key = ? AND small = 0", (request.contract_key,), now,
                    rules.soft_limit, rules.soft_window_s,
                )
            )  # fmt: skip
        (open_count,) = db.execute("SELECT COUNT(*) FROM requests WHERE open_until > ?", (now,)).fetchone()
        if open_count >= rules.max_open:
            delays.append(_OPEN_POLL_S)
        return max(delays)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        db.execute("PRAGMA busy_timeout=30000")
        # WAL without an fsync per commit: a request's record is visible to every process at once; only
        # a power loss could drop the last few, which are pacing history, not data.
        db.execute("PRAGMA synchronous=NORMAL")
        return db


def _window_delay(
    db: sqlite3.Connection, where: str, params: tuple, now: float, limit: int, window_s: float
) -> float:
    """Seconds until fewer than `limit` matching requests started within the last `window_s`."""
    starts = [
        row[0]
        for row in db.execute(
            f"SELECT started FROM requests WHERE {where} AND started > ? ORDER BY started DESC LIMIT ?",
            (*params, now - window_s, limit),
        )
    ]
    if len(starts) < limit:
        return 0.0
    return starts[limit - 1] + window_s - now + _MARGIN_S
