# Two commands: `make run` (set up everything and serve the demo) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# A local server: DEBUG on (it also allows the built-in development secret key).
export DJANGO_DEBUG ?= 1
# Links in e-mails (surveys) point at the server `make run` starts.
export DJANGO_SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: help install run serve migrate demo test test-fast lint format clean assets chromium bench-pages screenshots bench bench-scale bench-load

help:
	@echo "make run        set up (venv, install, migrate, demo data) and serve http://$(HOST):$(PORT)"
	@echo "make serve      the production processes (gunicorn, Celery worker, beat) on DATABASE_URL + REDIS_URL; Ctrl-C stops all"
	@echo "make test       set up and run the whole test suite (+ ruff and migration checks)"
	@echo "make test-fast  the suite without the slow tests"
	@echo "make lint       ruff and makemigrations --check only"
	@echo "make bench-pages  server time of the dashboard and the lists on the demo data (SQLite)"
	@echo "make screenshots  the browser tour on the demo data, screenshots in test-artifacts/"
	@echo "make bench      metrics recompute vs the floor at 10k/100k/1M rows (PostgreSQL, BENCH_PG) -> bench/results.md, then bench-scale and bench-load"
	@echo "make bench-scale  pages and operations at the large size vs the small (PostgreSQL) -> bench/scale.md"
	@echo "make bench-load   32 users for 60 s (locust) against gunicorn on PostgreSQL, then the journal check -> bench/load.md"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 or python3 on PATH)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip 2>/dev/null || true
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py compute_metrics

run: demo assets
	@if [ -n "$$REDIS_URL" ]; then \
		echo "REDIS_URL is set: starting a Celery worker (with the nightly schedule)"; \
		$(VENV)/bin/celery -A config worker -B --schedule var/celerybeat-schedule \
			--loglevel=info --concurrency=2 & \
		worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	else \
		$(PY) manage.py runserver $(HOST):$(PORT); \
	fi

# The production processes on this machine: migrate (as DATABASE_OWNER_URL when set), then
# gunicorn, a Celery worker and beat on the PostgreSQL and Redis of DATABASE_URL and
# REDIS_URL (required); Ctrl-C stops them all (bin/serve).
serve: install assets
	$(PY) bin/serve

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

test: lint assets chromium
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Front-end libraries come from the npm registry (pinned in package.json + package-lock.json)
# and are copied into static/vendor/ (git-ignored). Without npm the dashboard's charts fall
# back to their tables.
ASSETS := static/vendor/chart.umd.min.js
$(ASSETS): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && mkdir -p static/vendor && \
		cp node_modules/chart.js/dist/chart.umd.min.js $(ASSETS); \
	else echo "WARNING: npm not found: the dashboard charts fall back to their tables"; fi

assets: $(ASSETS)

# The browser tests drive Debian's Chromium with Playwright; install it when we can.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Chromium (Debian package) for the browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
			|| echo "WARNING: could not install Chromium: the browser tests will be skipped"; \
		else echo "WARNING: /usr/bin/chromium is missing (needs root + apt-get): the browser tests will be skipped"; fi; \
	fi

# The browser tests' tour on the real demo data; screenshots in test-artifacts/screenshots/.
screenshots: install assets chromium
	WEB_DEMO_TOUR=1 $(PY) -m pytest tests/web/test_browser.py -k demo_tour $(PYTEST_ARGS)

bench-pages: install assets
	$(PY) bench/pages.py

# The benchmarks' extra tools (locust).
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

# Metrics benchmark: generates 10k/100k/1M journal+event rows into its own databases
# (cdmo_bench_*) on the PostgreSQL at BENCH_PG (default postgres://postgres@127.0.0.1:5432),
# and SQLite files under var/bench/; writes bench/results.md. About 15 minutes. Then the
# pages at scale (bench-scale) and the load test (bench-load).
bench: $(BENCH_STAMP)
	$(PY) -m bench.run $(BENCH_ARGS)
	$(PY) -m bench.scale
	$(PY) -m bench.load

# Pages, panels and API lists at the large size's biggest organization next to the small
# size's (single client, 8 connections on gunicorn), the daily rules, a phase move (embedded
# and with a Redis worker: BENCH_REDIS, default redis://127.0.0.1:6379/9) -> bench/scale.md.
bench-scale: install
	$(PY) -m bench.scale

# Load test: 32 users (locust) for 60 s against gunicorn on 127.0.0.1 with PostgreSQL (its
# own databases cdmo_bench_load*) and a Redis worker (BENCH_LOAD_REDIS, default index 7), then
# the journal check; fails on any failed request or journal problem. LOAD_ARGS, e.g.
# "--users 8 --seconds 15" for a quick trial -> bench/load.md.
bench-load: $(BENCH_STAMP)
	$(PY) -m bench.load $(LOAD_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
