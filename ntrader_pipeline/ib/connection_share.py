"""How the requests of a run share its one IB connection: together, or one of them alone.

A request that IB (or a broken gateway) answers by dropping the socket takes every request in flight on
the connection down with it, and it would do so again on each retry. Run in step with it, the retries of
the others would fail with it until their attempts are spent. So a retry after the connection died runs
alone: the others wait for it (and it for the requests already running), and whichever request kills
the connection fails by itself.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ConnectionShare:
    """`shared()` for an ordinary request, `alone()` for one that must have the connection to itself;
    a waiting `alone()` goes before new `shared()` ones, so it is not starved by a steady stream."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._sharing = 0
        self._alone = False
        self._waiting_alone = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._alone and self._waiting_alone == 0)
            self._sharing += 1
        try:
            yield
        finally:
            with self._changed:
                self._sharing -= 1
                self._changed.notify_all()

    @contextmanager
    def alone(self) -> Iterator[None]:
        with self._changed:
            self._waiting_alone += 1
            self._changed.wait_for(lambda: not self._alone and self._sharing == 0)
            self._waiting_alone -= 1
            self._alone = True
        try:
            yield
        finally:
            with self._changed:
                self._alone = False
                self._changed.notify_all()

    def using(self, alone: bool) -> contextlib.AbstractContextManager[None]:
        return self.alone() if alone else self.shared()
