# JobPing: `make run` runs the whole flow once on the embedded default; `make test` runs
# the test suite. Both create the virtual environment on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JOBPING_HOME ?= $(CURDIR)/.jobping
export DAGSTER_HOME ?= $(JOBPING_HOME)/dagster

.PHONY: install run dev test lint migrate clean prod-local

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

# The Dagster UI on http://127.0.0.1:3000 and, beside it, the web page and API on
# http://127.0.0.1:8000 (stopped with the UI).
dev: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/jobping migrate
	$(BIN)/jobping api & api=$$!; trap 'kill $$api' EXIT INT TERM; $(BIN)/dagster dev -w workspace.yaml

# The production processes on this machine against the local PostgreSQL: each setting can be
# overridden from the environment (see README, "Running in production").
PROD_HOME := $(JOBPING_HOME)/prod
prod-local: export DAGSTER_HOME := $(PROD_HOME)/dagster
prod-local: export DAGSTER_PG_HOST ?= 127.0.0.1
prod-local: export DAGSTER_PG_PORT ?= 5432
prod-local: export DAGSTER_PG_USER ?= postgres
prod-local: export DAGSTER_PG_PASSWORD ?=
prod-local: export DAGSTER_PG_DB ?= jobping_dagster
prod-local: export JOBPING_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/jobping
prod-local: install
	mkdir -p $(DAGSTER_HOME)
	cp deploy/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/jobping prod-local --create-databases --run-dir $(PROD_HOME)

migrate: install
	$(BIN)/jobping migrate

# Independent tests run on every core (pytest-xdist); the tests that start the production
# processes (marked e2e and faults) run after them, one at a time, since they measure how
# the stack behaves and a busy pool would only slow them. Plain `pytest` runs all serially.
test: install
	$(BIN)/pytest -n auto -m "not e2e and not faults"
	$(BIN)/pytest -m "e2e or faults"

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(JOBPING_HOME)
