"""The interleaved pool: results the reader has not taken count against `max_open`."""

import itertools
import threading
import time

from ntrader_pipeline.ib.interleave import InterleavedPool, Job


def test_a_slow_reader_holds_the_workers_back() -> None:
    pool = InterleavedPool(max_open=3)
    started = itertools.count(1)
    counts: list[int] = []
    lock = threading.Lock()

    def run() -> None:
        with lock:
            counts.append(next(started))

    for lane in range(4):
        for _ in range(5):
            pool.add(Job(lane, None, run))
    results = pool.results()
    taken = [next(results) for _ in range(2)]
    time.sleep(0.3)  # a reader busy writing: the workers would run every job by now without the bound
    assert len(counts) <= len(taken) + pool.max_open
    rest = list(results)  # the reader goes on: every job runs, none twice
    assert len(taken) + len(rest) == 20 and len(counts) == 20


def test_closing_early_starts_nothing_more() -> None:
    pool = InterleavedPool(max_open=2)
    ran: list[int] = []
    for number in range(10):
        pool.add(Job(number % 2, number, lambda number=number: ran.append(number)))
    results = pool.results()
    next(results)
    results.close()
    time.sleep(0.2)
    assert len(ran) <= 1 + pool.max_open
