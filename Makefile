# Voucher Shop. `make run` starts a working shop; `make test` runs the tests. Both install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 8000
UV     := $(shell command -v uv 2>/dev/null)
export UV_PYTHON_DOWNLOADS := never

.PHONY: help install run test lint worker bench messages lock clean

help:
	@echo "make run      start the shop on http://$(HOST):$(PORT)/ (SQLite, tasks in-process, mail in var/mail/)"
	@echo "make test     run the test suite (SQLite, or DATABASE_URL/REDIS_URL when set)"
	@echo "make lint     ruff, mypy and pip-audit of requirements.lock"
	@echo "make worker   Celery worker and beat (needs REDIS_URL)"
	@echo "make bench    benchmarks, written to docs/benchmarks.md"
	@echo "make install  create .venv and install everything (the other targets do this themselves)"

install: $(VENV)/.installed

# uv when present (seconds); pip otherwise. Both install exactly the versions in the lock file.
$(VENV)/.installed: pyproject.toml uv.lock requirements.lock $(wildcard locale/*/LC_MESSAGES/*.po */locale/*/LC_MESSAGES/*.po)
	@if [ -n "$(UV)" ]; then \
		uv sync --frozen --python $(PYTHON); \
	else \
		[ -x $(PY) ] || $(PYTHON) -m venv $(VENV); \
		$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock; \
	fi
	$(PY) -m config.compilemessages
	@touch $@

run: install
	@mkdir -p var/mail
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo
	@echo "Storefront: http://$(HOST):$(PORT)/s/demo/"
	@echo "Admin:      http://$(HOST):$(PORT)/admin/"
	@echo "POS:        http://$(HOST):$(PORT)/pos/"
	@echo "Emails are written to var/mail/ as .eml files."
	@echo
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) -m config.audit

worker: install
	$(VENV)/bin/celery -A config worker --beat --loglevel=INFO

# The benchmarks measure PostgreSQL; each creates and drops its own database named after this one.
bench: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/voucher_bench} $(PY) -m bench $(BENCH_ARGS)

# For developers: refresh translation catalogues (needs gettext) and the lock files.
messages: install
	$(PY) manage.py makemessages --locale de --ignore '.venv/*' --ignore 'var/*'
	$(PY) manage.py makemessages --locale de --domain djangojs --ignore '.venv/*' --ignore 'var/*'

lock:
	uv lock
	uv export --frozen --format requirements-txt --no-emit-project > requirements.lock

clean:
	rm -rf $(VENV) var/static var/test-media
