# Concord. `make run` serves the demo on http://127.0.0.1:8000 with a background worker beside it; `make test` runs lint and the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev lint format lock bench worker clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Concord needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python -m config.embedded $(HOST):$(PORT)

test: install-dev lint
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerate the hash-pinned locks after changing pins in pyproject.toml.
lock: install-dev
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements-dev.lock

# Benchmarks measure on PostgreSQL (this machine's by default); figures go to BENCHMARKS.md.
# `make bench BENCH=scale` measures every screen at 1M tasks (database built once, kept); BENCH_SCALE=10k for a quick check.
BENCH_SCALE ?= 1m
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
bench: install-dev
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} BENCH_SCALE=$(BENCH_SCALE) $(BIN)/python -m bench $(BENCH)

worker: install
	$(BIN)/celery -A config worker --loglevel=INFO

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
