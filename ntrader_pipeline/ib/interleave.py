"""Up to N jobs running at once, taken in turn from per-lane queues: how a backfill keeps N historical
requests in flight across instruments (lanes) and sessions (jobs).

Jobs run on `max_open` worker threads, each taking the next job as soon as it is free, and must not
write the catalog; their results come back, as they finish, to
the thread that iterates `results()` (the ingest generator), which does the writes and may queue more
jobs meanwhile. With `max_open=1` jobs run inline on the iterating thread, one at a time, in the same
order: the sequential fetch is the same code path without threads.

Lanes take turns: the next job to start is the oldest queued job of the lane after the one that started
last, so one instrument's sessions never crowd out the others' (and its per-contract pacing windows fill
no faster than the others').
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Job:
    """A unit of work in a lane; `tag` says what it is to whoever reads its outcome."""

    lane: Hashable
    tag: Any
    run: Callable[[], Any]


@dataclass(frozen=True, slots=True)
class Finished:
    """A job's outcome: its return value, or the exception it raised."""

    job: Job
    value: Any = None
    error: BaseException | None = None


class InterleavedPool:
    """`add()` jobs (also while iterating `results()`); `drop_lane()` forgets a lane's queued jobs.

    `max_open` worker threads each take the next job in turn as soon as they are free, so a finished
    request's slot is refilled at once, even while the reader is busy writing a result. Results the reader
    has not taken yet count against `max_open` too: when writing is slower than fetching, the workers wait
    instead of piling up answered sessions in memory, and a reader that stops early (a stopped run) leaves
    at most `max_open` requests asked for nothing."""

    def __init__(self, max_open: int) -> None:
        if max_open < 1:
            raise ValueError(f"max_open must be at least 1, got {max_open}")
        self.max_open = max_open
        self._lanes: OrderedDict[Hashable, deque[Job]] = OrderedDict()
        self._changed = threading.Condition()  # guards the lanes and the counts below
        self._running = 0
        self._unread = 0  # results queued for the reader and not taken yet
        self._closed = False
        self._finished: queue.SimpleQueue[Finished] = queue.SimpleQueue()
        self.peak_running = 0

    def add(self, job: Job) -> None:
        with self._changed:
            self._lanes.setdefault(job.lane, deque()).append(job)
            self._changed.notify()

    def drop_lane(self, lane: Hashable) -> list[Job]:
        """Forget the lane's queued jobs (running ones finish); returns what was dropped."""
        with self._changed:
            return list(self._lanes.pop(lane, ()))

    @property
    def queued(self) -> int:
        with self._changed:
            return sum(len(jobs) for jobs in self._lanes.values())

    def _next_job(self) -> Job | None:
        """The first queued job of the next lane in turn; that lane then goes to the back (call with the
        condition held)."""
        while self._lanes:
            lane, jobs = next(iter(self._lanes.items()))
            self._lanes.move_to_end(lane)
            if jobs:
                job = jobs.popleft()
                if not jobs:
                    del self._lanes[lane]
                return job
            del self._lanes[lane]
        return None

    def results(self) -> Iterator[Finished]:
        if self.max_open == 1:
            yield from self._inline()
            return
        for number in range(self.max_open):
            threading.Thread(target=self._work, name=f"ib-fetch-{number}", daemon=True).start()
        try:
            while True:
                with self._changed:
                    if not self._lanes and self._running == 0 and self._finished.empty():
                        return
                finished = self._finished.get()
                with self._changed:
                    self._unread -= 1
                    self._changed.notify_all()
                yield finished
        finally:
            # Done, or closed early: start nothing more and do not wait here for running jobs; they end
            # on their own once the caller closes what they use (IBFetcher.__exit__).
            with self._changed:
                self._closed = True
                self._lanes.clear()
                self._changed.notify_all()

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._closed and (not self._lanes or self._running + self._unread >= self.max_open):
                    self._changed.wait()
                if self._closed:
                    return
                job = self._next_job()
                if job is None:
                    continue
                self._running += 1
                self.peak_running = max(self.peak_running, self._running)
            try:
                finished = Finished(job, job.run())
            except Exception as exc:  # handed to the reader, who decides
                finished = Finished(job, error=exc)
            with self._changed:
                # counted as running until its result is queued, so the reader never sees "all done" early
                self._finished.put(finished)
                self._running -= 1
                self._unread += 1

    def _inline(self) -> Iterator[Finished]:
        while (job := self._next_job()) is not None:
            self.peak_running = 1
            try:
                value = job.run()
            except Exception as exc:  # handed to the reader like a worker's exception
                yield Finished(job, error=exc)
                continue
            yield Finished(job, value)
