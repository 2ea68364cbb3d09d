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
# The repo root is the Dagster instance: dagster.yaml here, run storage under data/dagster/.
export DAGSTER_HOME := $(CURDIR)

.PHONY: venv demo test ui gateway lint clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv --clear $(VENV)  # --clear: a venv of another Python (3.11) is rebuilt, not patched
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,scale]'
	touch $(STAMP)

demo: venv
	$(BIN)/python -m ntrader_pipeline.cli.demo

test: venv
	$(BIN)/python -m pytest

# Dagster UI on 127.0.0.1:$(UI_PORT) + embedded gateway on $(GATEWAY_PORT) + HTML reports over HTTP on
# $(REPORTS_PORT); all stop together on Ctrl-C (0 = a free port).
ui: venv
	$(BIN)/python -m ntrader_pipeline.cli.ui --ui-port $(UI_PORT) --gateway-port $(GATEWAY_PORT) \
		--reports-port $(REPORTS_PORT)

gateway: venv
	$(BIN)/python -m ntrader_pipeline.gateway --port $(GATEWAY_PORT)

lint: venv
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf data/catalog data/backtests data/reports data/dagster
