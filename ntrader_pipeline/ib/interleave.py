"""Up to N jobs running at once, taken in turn from per-lane queues: how a backfill keeps N historical
requests in flight across instruments (lanes) and sessions (jobs).

Jobs run on worker threads and must not write the catalog; their results come back, as they finish, to
the thread that iterates `results()` (the ingest generator), which does the writes and may queue more
jobs meanwhile. With `max_open=1` jobs run inline on the iterating thread, one at a time, in the same
order: the sequential fetch is the same code path without threads.

Lanes take turns: the next job to start is the oldest queued job of the lane after the one that started
last, so one instrument's sessions never crowd out the others' (and its per-contract pacing windows fill
no faster than the others').
"""

from __future__ import annotations

import concurrent.futures
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
    """`add()` jobs (also while iterating `results()`); `drop_lane()` forgets a lane's queued jobs."""

    def __init__(self, max_open: int) -> None:
        if max_open < 1:
            raise ValueError(f"max_open must be at least 1, got {max_open}")
        self.max_open = max_open
        self._lanes: OrderedDict[Hashable, deque[Job]] = OrderedDict()
        self.peak_running = 0

    def add(self, job: Job) -> None:
        self._lanes.setdefault(job.lane, deque()).append(job)

    def drop_lane(self, lane: Hashable) -> list[Job]:
        """Forget the lane's queued jobs (running ones finish); returns what was dropped."""
        return list(self._lanes.pop(lane, ()))

    @property
    def queued(self) -> int:
        return sum(len(jobs) for jobs in self._lanes.values())

    def _next_job(self) -> Job | None:
        """The first queued job of the next lane in turn; that lane then goes to the back."""
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
        with concurrent.futures.ThreadPoolExecutor(self.max_open, thread_name_prefix="ib-fetch") as pool:
            running: dict[concurrent.futures.Future, Job] = {}
            try:
                while True:
                    while len(running) < self.max_open and (job := self._next_job()) is not None:
                        running[pool.submit(job.run)] = job
                    self.peak_running = max(self.peak_running, len(running))
                    if not running:
                        return
                    done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                    for future in done:
                        job = running.pop(future)
                        error = future.exception()
                        yield Finished(job, None if error else future.result(), error)
            finally:
                self._lanes.clear()  # closed early: start nothing more; running jobs end on their own
                for future in running:
                    future.cancel()

    def _inline(self) -> Iterator[Finished]:
        while (job := self._next_job()) is not None:
            self.peak_running = 1
            try:
                value = job.run()
            except Exception as exc:  # handed to the reader like a worker's exception
                yield Finished(job, error=exc)
                continue
            yield Finished(job, value)
