# K2 Site. `make run` and `make test` work from a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE := k2site.settings

.PHONY: install run serve test test-postgres lint migrations-check bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

# The HTML checker (vnu.jar) and axe-core the tests run, pinned in
# package-lock.json; without npm their tests are skipped (on CI they fail).
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

install: $(VENV)/.installed $(if $(shell command -v npm),node_modules/.installed)

PORT ?= 8000

# Development server on SQLite with the demo content, debug on (make run PORT=8080).
run: install
	DJANGO_DEBUG=1 $(PY) manage.py migrate --no-input
	DJANGO_DEBUG=1 $(PY) manage.py load_demo
	DJANGO_DEBUG=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

# Production: gunicorn on the configured database and cache (the environment
# of deploy/k2site.env.example; settings in k2site/gunicorn.conf.py).
serve:
	exec $(VENV)/bin/gunicorn --config k2site/gunicorn.conf.py k2site.wsgi

# The whole suite: SQLite unless DATABASE_URL points at PostgreSQL.
test: install
	DJANGO_SECRET_KEY=test-only-secret $(PY) manage.py collectstatic --no-input -v0
	DJANGO_SECRET_KEY=test-only-secret DATABASE_CONN_MAX_AGE=0 $(PY) -m pytest $(PYTEST_ARGS)

test-postgres:
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/k2site $(MAKE) test

# Seed 10k, 100k and 1M studies into PostgreSQL (database k2_bench, dropped
# and created again), measure every page, load-test the cache; writes
# bench/RESULTS.md. E.g. BENCH_ARGS="--sizes 10000,100000".
bench: install
	$(PY) bench/run.py $(BENCH_ARGS)

# ruff (pyproject.toml) and the layers contract (import-linter): a module
# never imports an app above its own (README, "Tour").
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

migrations-check: install
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3 .pytest_cache
