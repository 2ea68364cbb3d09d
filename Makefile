# Two commands on a fresh machine: `make demo` (the pipeline end to end) and `make test`.
SHELL := /bin/bash
# nautilus_trader 1.231 needs Python 3.12; named explicitly, since a CI shell may not honour pyenv's
# .python-version (plain python3 can be 3.11 there).
PYTHON ?= python3.12
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UI_PORT ?= 3000
GATEWAY_PORT ?= 4002
REPORTS_PORT ?= 3001
# Test-only packages whose metadata conflicts with the pins (ib_async 2.1.0 caps tzdata<2026, nautilus_trader
# needs >=2026.3; ib_async runs fine on the newer tzdata): installed without their dependencies, which these
# pins list.
NO_DEPS_DEV := ib_async==2.1.0 aeventkit==2.1.0 nest_asyncio==1.6.0
# pytest's workers: 3 on the 2-core CI machine (the e2e tests spend much of their time waiting on daemon
# ticks and child processes, which a third worker overlaps: 434 s vs 586 s with 2); 0 runs serially.
PYTEST_WORKERS ?= 3
# --no-loadscope-reorder: xdist (3.6+) otherwise hands out the files with the most tests first, which
# starts the one-test modules of several minutes last (conftest.py orders the files for the workers).
XDIST := -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder
IMAGE ?= ntrader-pipeline
CONTAINER ?= $(shell command -v podman >/dev/null && echo podman || echo docker)
# The repo root is the Dagster instance: dagster.yaml here, run storage under data/dagster/.
export DAGSTER_HOME := $(CURDIR)

.PHONY: venv demo test test-fast test-integration test-e2e ui gateway lint docs image clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv --clear $(VENV)  # --clear: a venv of another Python (3.11) is rebuilt, not patched
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,scale]'
	$(BIN)/pip install --quiet --no-deps $(NO_DEPS_DEV)
	touch $(STAMP)

demo: venv
	$(BIN)/python -m ntrader_pipeline.cli.demo

# Every test, in parallel (tests of one module share a worker: --dist loadfile).
test: venv
	$(BIN)/python -m pytest $(XDIST)

# The tiers (ntrader_pipeline_tests/tiers.py assigns one to every test): unit is pure logic, under a minute.
test-fast: venv
	$(BIN)/python -m pytest -m unit $(XDIST)

test-integration: venv
	$(BIN)/python -m pytest -m integration $(XDIST)

test-e2e: venv
	$(BIN)/python -m pytest -m e2e $(XDIST)

# Dagster UI on 127.0.0.1:$(UI_PORT) + embedded gateway on $(GATEWAY_PORT) + HTML reports over HTTP on
# $(REPORTS_PORT); all stop together on Ctrl-C (0 = a free port).
ui: venv
	$(BIN)/python -m ntrader_pipeline.cli.ui --ui-port $(UI_PORT) --gateway-port $(GATEWAY_PORT) \
		--reports-port $(REPORTS_PORT)

gateway: venv
	$(BIN)/python -m ntrader_pipeline.gateway --port $(GATEWAY_PORT)

lint: venv
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

# The docs site (mkdocs.yml): the generated reference pages first, then a strict build into site/.
docs: venv
	$(BIN)/python docs/gen_reference.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The code-location image (Dockerfile). Needs a registry serving python:3.12-slim: see
# docs/how-to/container-image.md (these development machines reach none).
image:
	$(CONTAINER) build -t $(IMAGE) .

clean:
	rm -rf data/catalog data/backtests data/reports data/dagster
