"""The gate's outcome, file hashes and decoded bars are reused only while every file they read is unchanged
(path, size, mtime_ns, inode), and never for files modified within the settle time."""

import os

import pytest
from nautilus_trader.model.data import BarType

from ntrader_pipeline.backtest import versions
from ntrader_pipeline.catalog import file_cache
from ntrader_pipeline.catalog.hash_index import hash_file
from ntrader_pipeline.catalog.store import CatalogStore
from ntrader_pipeline.markets.sessions import sessions_between
from ntrader_pipeline.markets.universe import BarSpec
from ntrader_pipeline.quality import gate
from ntrader_pipeline.quality.gate import require_clean_sessions
from ntrader_pipeline_tests.adjustments.session_bars import session_minutes
from ntrader_pipeline_tests.backtest.bar_fixtures import ib_equity

MINUTE = BarSpec.parse("1-MINUTE-LAST")
SESSIONS = sessions_between("2024-01-02", "2024-01-04")
BAR_TYPE = BarType.from_str(MINUTE.bar_type("SPY.ARCA"))


@pytest.fixture
def store(tmp_path) -> CatalogStore:
    file_cache.clear_identity_caches()
    store = CatalogStore(tmp_path / "catalog")
    store.write_instrument(ib_equity())
    for session in SESSIONS:
        store.write_session_bars(BAR_TYPE, session, session_minutes(BAR_TYPE, session, 400.0))
    yield store
    file_cache.clear_identity_caches()


@pytest.fixture
def checks(monkeypatch) -> list[int]:
    """Counts the real gate checks."""
    calls: list[int] = []
    real = gate.check_stored_sessions

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(gate, "check_stored_sessions", counting)
    return calls


def _gate(store: CatalogStore):
    return require_clean_sessions(
        store, "SPY.ARCA", MINUTE, SESSIONS, "bars_1_minute", require_definition=True
    )


def test_settled_files_are_checked_once_and_give_the_same_results(store, checks, monkeypatch):
    monkeypatch.setattr(file_cache, "SETTLE_NS", 0)
    first, second = _gate(store), _gate(store)
    assert len(checks) == 1
    assert first == second and first is not second


def test_files_just_written_are_checked_every_time(store, checks):
    _gate(store)
    _gate(store)
    assert len(checks) == 2


def test_a_replaced_session_file_is_checked_again(store, checks, monkeypatch):
    monkeypatch.setattr(file_cache, "SETTLE_NS", 0)
    assert not any(r.missing_bars for r in _gate(store))
    session = SESSIONS[1]
    bars = session_minutes(BAR_TYPE, session, 400.0)
    store.write_session_bars(BAR_TYPE, session, bars[:100] + bars[160:])
    results = _gate(store)
    assert len(checks) == 2
    assert [(r.session, r.missing_bars) for r in results if r.missing_bars] == [(session.date, 60)]


def test_a_removed_definition_fails_the_gate_after_a_cached_pass(store, monkeypatch):
    monkeypatch.setattr(file_cache, "SETTLE_NS", 0)
    _gate(store)
    for path in store.definition_files("SPY.ARCA"):
        path.unlink()
    with pytest.raises(gate.SessionsNotReadyError, match="instrument_defined"):
        _gate(store)


def test_file_hash_follows_a_rewrite(tmp_path, monkeypatch):
    monkeypatch.setattr(file_cache, "SETTLE_NS", 0)
    path = tmp_path / "file.bin"
    path.write_bytes(b"one")
    first = versions.file_sha256(path)
    assert versions.file_sha256(path) == first == hash_file(path)
    replacement = tmp_path / "new.bin"
    replacement.write_bytes(b"two")
    os.replace(replacement, path)
    assert versions.file_sha256(path) == hash_file(path) != first


def test_decoded_bars_are_reused_until_a_file_is_replaced(store, monkeypatch):
    from ntrader_pipeline.backtest import run

    monkeypatch.setattr(file_cache, "SETTLE_NS", 0)
    first = run._read_bars(store, BAR_TYPE, SESSIONS)
    second = run._read_bars(store, BAR_TYPE, SESSIONS)
    assert first == second == store.read_bars(BAR_TYPE, SESSIONS) and first is not second
    session = SESSIONS[0]
    store.write_session_bars(BAR_TYPE, session, session_minutes(BAR_TYPE, session, 401.0))
    assert run._read_bars(store, BAR_TYPE, SESSIONS) == store.read_bars(BAR_TYPE, SESSIONS) != first
