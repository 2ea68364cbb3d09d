# Two commands on a fresh machine: `make demo` (the pipeline end to end) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UI_PORT ?= 3000
GATEWAY_PORT ?= 4002
# The repo root is the Dagster instance: dagster.yaml here, run storage under data/dagster/.
export DAGSTER_HOME := $(CURDIR)

.PHONY: venv demo test ui gateway lint clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: venv
	$(BIN)/python -m ntrader_pipeline.demo

test: venv
	$(BIN)/python -m pytest

# Dagster UI on 127.0.0.1:$(UI_PORT), with the embedded gateway on $(GATEWAY_PORT); both stop on Ctrl-C.
ui: venv
	@$(BIN)/python -m ntrader_pipeline.gateway --port $(GATEWAY_PORT) & gateway=$$!; \
	trap 'kill $$gateway 2>/dev/null' EXIT INT TERM; \
	IB_HOST=127.0.0.1 IB_PORT=$(GATEWAY_PORT) $(BIN)/dagster dev -h 127.0.0.1 -p $(UI_PORT)

gateway: venv
	$(BIN)/python -m ntrader_pipeline.gateway --port $(GATEWAY_PORT)

lint: venv
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf data/catalog data/backtests data/reports data/dagster
