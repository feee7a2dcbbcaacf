# The README's two commands: `make run` and `make test`. Both set up what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
UV_VERSION := 0.13.8
TOOLS := .local/tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_NATIVE_TLS := 1
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help setup infra stop-infra status run stop test lint typecheck pytest bench browser

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 (or pass PYTHON=...)" >&2; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml $(wildcard */pyproject.toml services/*/pyproject.toml)
	$(UV) sync --frozen --all-packages --quiet
	@touch $@

setup: $(VENV)/.synced ## create the virtual environment from uv.lock

infra: setup ## start Kafka and PostgreSQL (idempotent)
	deploy/local/kafka.sh start
	deploy/local/postgres.sh start

stop-infra: ## stop Kafka and PostgreSQL (their data stays under .local/)
	deploy/local/kafka.sh stop
	deploy/local/postgres.sh stop

status: ## show whether Kafka and PostgreSQL are running
	-@deploy/local/kafka.sh status
	-@deploy/local/postgres.sh status

run: setup ## run the whole pipeline with a demo lecture, until Ctrl-C
	lecturegen up --demo

stop: setup ## stop everything `make run` started
	lecturegen down

lint: setup
	ruff check .
	ruff format --check .

# Each service's tests are checked on their own: under a folder with a hyphen in its name they
# get bare module names (`test_medium`), which would collide across services.
typecheck: setup
	mypy shared/src services/*/src cli/src shared/tests cli/tests tests
	@for d in services/*/tests; do echo "mypy $$d"; mypy $$d || exit 1; done

browser: ## install the browser the page's tests drive (Debian's chromium; root only)
	deploy/local/browser.sh

# With both KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL set, the tests use those services (the
# fixtures read the same variables) and the local ones are not started.
pytest: setup browser $(if $(and $(KAFKA_BOOTSTRAP_SERVERS),$(DATABASE_URL)),,infra)
	pytest

test: lint typecheck pytest ## lint, type-check and run every test against real Kafka and PostgreSQL

# Like pytest: with KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL set, the benchmarks use those.
bench: setup $(if $(and $(KAFKA_BOOTSTRAP_SERVERS),$(DATABASE_URL)),,infra) ## run the benchmarks under bench/ and print the table of figures
	@python bench/_results.py reset
	@for b in bench/[!_]*.py; do echo "== $$b"; python $$b || exit 1; done
	@python bench/_results.py table
