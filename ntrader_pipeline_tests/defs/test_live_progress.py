"""Live progress: a range run records each month's partition as soon as its last session is stored."""

import threading
import time

import dagster as dg

from ntrader_pipeline.defs.resources import IBGatewayResource
from ntrader_pipeline.gateway import Fault
from ntrader_pipeline.ingest.progress import Progress
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline_tests.defs.helpers import MINUTE_BARS, materialize

FIRST, LAST = "2024-01-24", "2024-02-06"  # 10 sessions: 6 in January, 4 in February
BOUND_S = 120  # the whole run, on a busy machine


def test_materialized_partition_count_rises_while_the_range_run_goes_on(ib_gateway, ib_settings, storage):
    ib_gateway.faults.script("SPY", Fault(delay=0.4))  # each session's answer is slow
    # One request at a time: January settles about 1.6 s before February (4 × 0.4 s), a window the poll
    # below sees even on a loaded machine (with 8 in flight both months settle within 0.4 s).
    ib_resource = IBGatewayResource(**{**ib_settings.model_dump(), "max_open_requests": 1})
    sessions = [s.key for s in sessions_between(FIRST, LAST)]
    keys = ["2024-01-01|SPY.ARCA", "2024-02-01|SPY.ARCA"]
    results: list[dg.ExecuteInProcessResult] = []
    with dg.instance_for_test() as instance:
        run = threading.Thread(
            target=lambda: results.append(
                materialize(
                    dg.AssetSelection.assets(MINUTE_BARS),
                    ib_resource,
                    storage,
                    partition_range=(f"{FIRST}|SPY.ARCA", f"{LAST}|SPY.ARCA"),
                    instance=instance,
                )
            ),
            daemon=True,
        )
        run.start()
        seen_while_running: set[int] = set()
        deadline = time.monotonic() + BOUND_S
        while run.is_alive() and time.monotonic() < deadline:
            seen_while_running.add(len(instance.get_materialized_partitions(MINUTE_BARS)))
            time.sleep(0.1)
        run.join(timeout=max(0.0, deadline - time.monotonic()))
        assert not run.is_alive(), f"the range run did not end within {BOUND_S} s"
        (result,) = results
        assert result.success

        # The UI's partition count filled in during the run, not only at its end.
        assert any(0 < n < len(keys) for n in seen_while_running), sorted(seen_while_running)
        assert instance.get_materialized_partitions(MINUTE_BARS) == set(keys)

        # One event per month partition, with its own sessions and bars (no summary on top).
        events = result.asset_materializations_for_node("bars_1_minute")
        assert [e.partition for e in events] == keys
        assert [e.metadata["sessions"].value for e in events] == [6, 4]
        assert [e.metadata["bars"].value for e in events] == [6 * 390, 4 * 390]
        assert all("max_attempts" not in e.metadata for e in events)

        # Progress lines in the run's own log: done/total, bars and an ETA.
        messages = [
            e.user_message for e in instance.all_logs(result.run_id) if e.user_message.startswith("progress:")
        ]
        total = len(sessions)
        assert messages[-1].startswith(f"progress: {total}/{total} sessions, {390 * total} bars")
        assert "ETA 0 s" in messages[-1]


def test_progress_lines_every_n_sessions_and_at_the_end():
    progress = Progress(total=5, every=2)
    lines = [progress.add(10) for _ in range(5)]
    assert [line is not None for line in lines] == [False, True, False, True, True]
    assert lines[1].startswith("progress: 2/5 sessions, 20 bars,") and "ETA" in lines[1]
    assert lines[-1].startswith("progress: 5/5 sessions, 50 bars,")
