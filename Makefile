# The two set-up commands of the README, and the developer's checks.
#   make demo   - install into .venv, then run the simulator and the daemon (Ctrl-C stops)
#   make check  - install into .venv, then lint, type-check and run every test
#   make lock   - re-resolve requirements/*.lock from pyproject.toml's ranges
# Both need Python 3.11+ (with venv) and a RabbitMQ on 127.0.0.1:5672; tests also PostgreSQL.

VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint types check clean lock

# The dependencies come from the hashed lock (requirements/dev.lock): the same versions on
# every machine, each download checked against its hash; the project itself goes on top.
$(STAMP): pyproject.toml requirements/dev.lock
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-resolve both locks from pyproject.toml's ranges; uv runs from a throw-away venv, so it
# is no dependency of the project. `make lock` keeps every pin the ranges still allow (after
# adding or changing a dependency); `make lock UPGRADE=--upgrade` takes the newest releases.
UPGRADE ?=
lock:
	python3 -m venv $(VENV)-uv
	$(VENV)-uv/bin/pip install --quiet uv
	$(VENV)-uv/bin/uv pip compile pyproject.toml --extra postgres --generate-hashes \
		--python-version 3.11 --universal $(UPGRADE) --quiet -o requirements/runtime.lock
	$(VENV)-uv/bin/uv pip compile pyproject.toml --extra postgres --extra dev --generate-hashes \
		--python-version 3.11 --universal $(UPGRADE) --quiet -o requirements/dev.lock
	rm -rf $(VENV)-uv

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
