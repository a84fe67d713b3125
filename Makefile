# The two set-up commands of the README, and the developer's checks.
#   make demo   - install into .venv, then run the simulator and the daemon (Ctrl-C stops)
#   make check  - install into .venv, then lint, type-check and run every test
# Both need Python 3.11+ (with venv) and a RabbitMQ on 127.0.0.1:5672; tests also PostgreSQL.

VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint types check clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/vsb-adapter demo

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

check: lint types test

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
