"""The pacing limiter against the gateway's IB pacing emulation: two processes sharing one limiter file
backfill 200 daily-bar requests (5 symbols × 40 sessions, both processes on every symbol) with zero 162s
and no answer slowed by the gateway's soft throttle."""

import json
import os
import subprocess
import sys

import pytest

from ntrader_pipeline.gateway import EmbeddedGateway

SYMBOLS = "SPY,QQQ,IWM,AAPL,MSFT"
SESSIONS_PER_PROCESS = 20
PROCESS_TIMEOUT_S = 180


@pytest.fixture
def pacing_gateway():
    with EmbeddedGateway(pacing=True) as gateway:
        yield gateway


def test_two_processes_backfill_200_requests_without_a_pacing_violation(pacing_gateway, tmp_path):
    pacing_db = str(tmp_path / "ib_pacing.sqlite")
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ntrader_pipeline_tests.ingest.pacing_worker",
                str(pacing_gateway.port),
                pacing_db,
                SYMBOLS,
                str(first),
                str(SESSIONS_PER_PROCESS),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for first in (0, SESSIONS_PER_PROCESS)
    ]
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=PROCESS_TIMEOUT_S)
        assert worker.returncode == 0, err[-3000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))
    records = pacing_gateway.requests.historical_requests()
    assert len(records) == 200
    assert sum(r["requests"] for r in reports) == 200
    assert [r for r in records if r.error_code is not None] == []
    assert all(r.bar_count == 1 for r in records)
    # the shared soft rate kept every contract under the gateway's throttle, whoever asked
    assert [r for r in records if r.outcome == "delayed"] == []
