# JobPing: `make run` runs the whole flow once on the embedded default; `make test` runs
# the test suite. Both create the virtual environment on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JOBPING_HOME ?= $(CURDIR)/.jobping
export DAGSTER_HOME ?= $(JOBPING_HOME)/dagster

.PHONY: install run dev test lint migrate clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

run: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/jobping run-once

dev: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/jobping migrate
	$(BIN)/dagster dev -w workspace.yaml

migrate: install
	$(BIN)/jobping migrate

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(JOBPING_HOME)
