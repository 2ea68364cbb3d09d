"""Every test gets one tier marker, decided from what it reaches, so a new test is tiered without anyone
remembering to mark it:

- `e2e`: starts another process (the `dagster`/`ntrader` commands, a daemon, Celery workers), a browser,
  PostgreSQL or Redis.
- `integration`: real components in this process: the embedded gateway and an IB client over a socket,
  a Dagster run or instance, a Nautilus backtest, a local HTTP or S3 server.
- `unit`: everything else (pure logic, files in a tmp dir); `make test-fast` runs these, in under a minute.

"What it reaches" is the source of the test function, of every fixture it uses (transitively) and of the
helpers in ntrader_pipeline_tests it calls (transitively). A test or module that the reading gets wrong
says so itself: `pytestmark = pytest.mark.integration` (or a marker on the test) wins over the reading.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Iterable, Iterator
from functools import cache

import pytest

TIERS = ("unit", "integration", "e2e")
_TEST_PACKAGE = "ntrader_pipeline_tests"

_E2E = re.compile(
    r"\bsubprocess\b|\bPopen\b|\bmultiprocessing\b|\bProcessPoolExecutor\b|\bsync_playwright\b"
    r"|\bpostgres_cluster\b|\bcelery_cluster\b|\bmaterialize_cli\b|\bLoggedProcesses\b|\bos\.fork\b"
)
_INTEGRATION = re.compile(
    r"\bEmbeddedGateway\b|\bmaterialize(_to_memory)?\(|\bexecute_in_process\b|\bDagsterInstance\b"
    r"|\bsocket\b|\bThreadedMotoServer\b|\bHistoric\w*Client\b|\bBacktestEngine\b|\brun_backtest\b"
    r"|\brun_sma_cross\b|\brun_crossing\b|\brun_declared_backtest\b|\bhttp\.server\b|\burlopen\b"
)


def tier_of_source(source: str) -> str:
    if _E2E.search(source):
        return "e2e"
    if _INTEGRATION.search(source):
        return "integration"
    return "unit"


def heaviest(tiers: Iterable[str]) -> str:
    return max(tiers, key=TIERS.index, default="unit")


_DEF = re.compile(r"^\s*(async\s+)?def\s", re.MULTILINE)


@cache
def _source(obj: object) -> str:
    """A function's source from its `def` (its decorators' arguments, e.g. parametrize values, are data),
    a class's whole source."""
    try:
        source = inspect.getsource(obj)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return ""
    start = _DEF.search(source) if inspect.isfunction(obj) else None
    return source[start.start() :] if start else source


def _is_test_helper(obj: object) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module.split(".")[0] == _TEST_PACKAGE and (inspect.isfunction(obj) or inspect.isclass(obj))


def _code_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):  # nested functions, comprehensions, lambdas
            yield from _code_names(const)


def _called_helpers(obj: object) -> Iterator[object]:
    """The test package's functions and classes a function (or a class's methods) names."""
    functions = [obj] if inspect.isfunction(obj) else [m for m in vars(obj).values() if inspect.isfunction(m)]
    for function in functions:
        namespace = function.__globals__
        for name in _code_names(function.__code__):
            candidate = namespace.get(name)
            if candidate is not None and _is_test_helper(candidate):
                yield candidate


@cache
def tiers_of_code(obj: object) -> str:
    """The tier of a function or class from its own source and the helpers it reaches."""
    seen: set[int] = set()
    pending = [obj]
    tiers = []
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        tiers.append(tier_of_source(_source(current)))
        pending.extend(_called_helpers(current))
    return heaviest(tiers)


def _fixture_functions(item: pytest.Item) -> Iterator[object]:
    """The test package's fixtures the item uses, directly or through other fixtures (pytest's own, such
    as tmp_path or monkeypatch, reach nothing)."""
    info = getattr(item, "_fixtureinfo", None)
    for name in getattr(item, "fixturenames", ()):
        for fixturedef in info.name2fixturedefs.get(name, ()) if info else ():
            if _is_test_helper(fixturedef.func):
                yield fixturedef.func


def tier_of_item(item: pytest.Item) -> str:
    explicit = [marker.name for marker in item.iter_markers() if marker.name in TIERS]
    if explicit:
        return explicit[0]  # the closest marker: the test's own over its class's over its module's
    function = getattr(item, "function", None)
    reached = [function, *_fixture_functions(item)] if function is not None else []
    return heaviest(tiers_of_code(obj) for obj in reached)


def assign_tiers(items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of_item(item)
        if not item.get_closest_marker(tier):
            item.add_marker(tier)


LONG_RUNNING = "long_running"


def _file_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def _rank(item: pytest.Item) -> float:
    """Lower starts earlier: a long-running module by its minutes (`long_running(minutes=4)`), longest
    first; then e2e, integration, unit."""
    long_running = item.get_closest_marker(LONG_RUNNING)
    if long_running is not None:
        return -float(long_running.kwargs.get("minutes", 1))
    tier = next(marker.name for marker in item.iter_markers() if marker.name in TIERS)
    return len(TIERS) - 1 - TIERS.index(tier)


def order_for_workers(items: list[pytest.Item]) -> None:
    """Files in the order the xdist workers should start them (`--dist loadfile` hands out files in
    collection order): modules marked `long_running` first, longest first, then files with e2e,
    integration, then unit tests only. Started last, a file of several minutes would run on alone while
    the other workers idle. A file's tests keep their order."""
    rank: dict[str, float] = {}
    for item in items:
        rank[_file_of(item)] = min(rank.get(_file_of(item), float("inf")), _rank(item))
    items.sort(key=lambda item: rank[_file_of(item)])
