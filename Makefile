# The two commands: `make run` (demo on embedded defaults) and `make test` (real services).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVICES := $(PYTHON) scripts/localservices.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-unit services services-stop services-status schema clean

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

install: $(BIN)/.installed

## Serve the API with demo data on the embedded defaults (SQLite, eager Celery, database search).
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py populatedb
	@echo "GraphiQL: http://$(HOST):$(PORT)/graphql/   admin: http://$(HOST):$(PORT)/admin/"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## Install and start PostgreSQL, Redis, Elasticsearch and stripe-mock, then run every test on them.
test: install services
	eval "$$($(SERVICES) env)" && $(BIN)/python -m pytest $(PYTEST_ARGS)

## Only the fast unit tests (no services needed).
test-unit: install
	$(BIN)/python -m pytest -m unit $(PYTEST_ARGS)

services:
	$(SERVICES) start

services-stop:
	$(SERVICES) stop

services-status:
	$(SERVICES) status

## Regenerate the API contract graphql/schema.graphql (a test fails when it is stale).
schema: install
	$(BIN)/python manage.py graphql_schema --out graphql/schema.graphql

clean:
	rm -rf $(VENV) db.sqlite3 var
