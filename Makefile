# The two commands: `make run` (demo on embedded defaults) and `make test` (real services).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVICES := $(PYTHON) scripts/localservices.py
GRAPHIQL_ASSETS := marketplace/api/static/graphiql/vendor/versions.json
HOST ?= 127.0.0.1
PORT ?= 8000
# `make serve`: gunicorn workers and threads, and DEMO=0 to skip loading the demo data.
WORKERS ?= 2
THREADS ?= 4
DEMO ?= 1

.PHONY: install run test test-unit services services-stop services-status browser serve schema clean

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,serve]"
	@touch $@

## GraphiQL's scripts, vendored from npm so the page works offline (scripts/graphiql_assets.py).
$(GRAPHIQL_ASSETS): scripts/graphiql_assets.py
	$(PYTHON) scripts/graphiql_assets.py

install: $(BIN)/.installed $(GRAPHIQL_ASSETS)

## Serve the API with demo data on the embedded defaults (SQLite, eager Celery, database search).
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py populatedb
	@echo "Storefront: http://$(HOST):$(PORT)/shop/   vendor dashboard: http://$(HOST):$(PORT)/shop/vendor"
	@echo "GraphiQL: http://$(HOST):$(PORT)/graphql/   admin: http://$(HOST):$(PORT)/admin/"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## Install and start PostgreSQL, Redis, Elasticsearch, stripe-mock and Chromium, then run every test on them.
test: install services browser
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

## Debian's Chromium (and a CJK font) for the browser tests (scripts/browser.py).
browser:
	$(PYTHON) scripts/browser.py install

## Production layout on this machine: gunicorn + a Celery worker + beat (Procfile), MARKETPLACE_ENV=production,
## against the local services (docs/deploy.md). Ctrl-C stops all three.
serve: install services
	eval "$$($(SERVICES) env)" && $(BIN)/python scripts/serve.py --bind $(HOST):$(PORT) \
		--workers $(WORKERS) --threads $(THREADS) $(if $(filter 1,$(DEMO)),--demo)

## Regenerate the API contract graphql/schema.graphql (a test fails when it is stale).
schema: install
	$(BIN)/python manage.py graphql_schema --out graphql/schema.graphql

clean:
	rm -rf $(VENV) db.sqlite3 var marketplace/api/static/graphiql/vendor
