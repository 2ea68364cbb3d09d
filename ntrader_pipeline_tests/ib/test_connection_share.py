"""A retry after the connection died runs alone on it (ib/connection_share.py)."""

from __future__ import annotations

import threading
import time

from ntrader_pipeline.ib.connection_share import ConnectionShare

WAIT_S = 5.0  # bound for a thread that must get through; never reached when the share works


def test_shared_requests_run_together() -> None:
    share = ConnectionShare()
    with share.shared(), share.shared():
        pass  # a second request does not wait for the first


def test_alone_waits_for_the_requests_running_and_goes_before_new_ones() -> None:
    share = ConnectionShare()
    events: list[str] = []
    first = share.shared()
    first.__enter__()

    def retry() -> None:
        with share.alone():
            events.append("alone")

    def new_request() -> None:
        with share.shared():
            events.append("new")

    alone = threading.Thread(target=retry)
    alone.start()
    while share._waiting_alone == 0:  # the retry is waiting for the running request
        time.sleep(0.01)
    late = threading.Thread(target=new_request)
    late.start()
    time.sleep(0.2)
    assert events == []  # neither got in beside the running request
    first.__exit__(None, None, None)
    alone.join(WAIT_S)
    late.join(WAIT_S)
    assert events == ["alone", "new"]
