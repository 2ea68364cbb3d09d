"""Dagster's own tools around the code location: the Beta/Preview warnings filtered for the APIs it uses
on purpose (and only those), and the run-time bound that fails a run whose code server died."""

from __future__ import annotations

import datetime as dt
import logging
import time
import types
import warnings

import dagster as dg
import pytest
from dagster._core.events import DagsterEvent, DagsterEventType
from dagster._daemon.monitoring import concurrency, run_monitoring

from ntrader_pipeline.defs import build_definitions
from ntrader_pipeline.defs.dagster_warnings import CHOSEN_WARNINGS, filter_chosen_warnings
from ntrader_pipeline.defs.jobs import IB_JOB_MAX_RUNTIME_S, MAX_RUNTIME_TAG
from ntrader_pipeline_tests.defs.helpers import code_location

DAGSTER_LIFECYCLE = (dg.BetaWarning, dg.PreviewWarning, dg.SupersessionWarning)
POOL = "ibkr"
SLOT_DELAY_S = 60  # dagster.yaml's free_slots_after_run_end_seconds


def _lifecycle_warnings(filtered: bool) -> set[tuple[type[Warning], str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if filtered:
            filter_chosen_warnings()
        build_definitions(*code_location())
    return {(w.category, str(w.message)) for w in caught if issubclass(w.category, DAGSTER_LIFECYCLE)}


def test_only_the_chosen_beta_and_preview_apis_warn_and_the_filter_silences_exactly_them() -> None:
    unfiltered = _lifecycle_warnings(filtered=False)
    # every filter matches a warning the code location really causes (none is stale) ...
    for category, message, _why in CHOSEN_WARNINGS:
        assert any(c is category and m.startswith(message) for c, m in unfiltered), message
    # ... and nothing else of Dagster's lifecycle warnings is emitted, filtered or not
    assert len(unfiltered) == len(CHOSEN_WARNINGS)
    assert _lifecycle_warnings(filtered=True) == set()


def test_the_jobs_that_talk_to_ib_carry_a_max_runtime() -> None:
    defs = build_definitions(*code_location())
    assert defs.resolve_job_def("market_data_job").run_tags[MAX_RUNTIME_TAG] == str(IB_JOB_MAX_RUNTIME_S)
    for name in ("backtests_job", "comparison_job", "freshness_check_job"):  # catalog and reports only
        assert MAX_RUNTIME_TAG not in defs.resolve_job_def(name).run_tags


@pytest.fixture
def monitored_instance() -> dg.DagsterInstance:
    overrides = {"run_monitoring": {"enabled": True, "free_slots_after_run_end_seconds": SLOT_DELAY_S}}
    with dg.instance_for_test(overrides=overrides) as instance:
        instance.event_log_storage.set_concurrency_slots(POOL, 1)
        yield instance


def test_a_run_whose_code_server_died_is_failed_after_max_runtime_and_its_slot_freed(
    monitored_instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run launched by the daemon whose code server died (with the run worker: a killed container or
    process group) stays STARTED holding its `ibkr` slot, and the run queue then holds every later IB run,
    so no run guard (runtime/dead_runs.py) of a later run gets to start. Dagster's default launcher cannot ask
    a dead code server about its run, so run monitoring's only handle is `dagster/max_runtime`: this is the
    daemon's own monitoring pass and slot-freeing pass over such a run, with the clock moved past the bound
    (no code server exists here, as when it died)."""
    instance = monitored_instance
    job = build_definitions(*code_location()).resolve_job_def("market_data_job")
    run = instance.create_run_for_job(job_def=job, tags=job.run_tags)
    instance.report_dagster_event(
        DagsterEvent(DagsterEventType.RUN_START.value, job_name=job.name), run.run_id
    )
    assert instance.event_log_storage.claim_concurrency_slot(POOL, run.run_id, "bars_1_minute").is_claimed
    logger = logging.getLogger(__name__)

    record = instance.get_run_record_by_id(run.run_id)
    run_monitoring.monitor_started_run(instance, None, record, logger)  # within the bound: left alone
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED

    past_bound = time.time() + IB_JOB_MAX_RUNTIME_S + 1
    monkeypatch.setattr(run_monitoring, "get_current_timestamp", lambda: past_bound)
    run_monitoring.monitor_started_run(instance, None, instance.get_run_record_by_id(run.run_id), logger)
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    messages = [r.event_log_entry.message for r in instance.get_records_for_run(run.run_id).records]
    assert f"Canceling due to exceeding maximum runtime of {IB_JOB_MAX_RUNTIME_S} seconds." in messages
    assert any("Unable to get grpc client" in m for m in messages)  # the code server is gone

    context = types.SimpleNamespace(instance=instance)  # all the slot pass reads of its workspace context
    list(concurrency.execute_concurrency_slots_iteration(context, logger))
    assert instance.event_log_storage.get_concurrency_run_ids() == {run.run_id}  # not before the delay
    slot_due = dt.datetime.fromtimestamp(past_bound + SLOT_DELAY_S + 1, dt.UTC)
    monkeypatch.setattr(concurrency, "get_current_datetime", lambda: slot_due)
    list(concurrency.execute_concurrency_slots_iteration(context, logger))
    assert instance.event_log_storage.get_concurrency_run_ids() == set()
