# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench fuzz faults eval clean playground

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "pmo-bot needs Python 3.11 or newer on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@$(BIN)/pmo-bot kb validate  # also prepares the knowledge snapshot a quick start reads
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(BIN)/pmo-bot kb validate
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/pmo-bot serve

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/router.py

# Property-based fuzzing at 10,000 examples a fuzzer (`make test` runs a short pass of the same).
fuzz: $(VENV)/.installed-dev
	PMO_FUZZ=1 $(BIN)/pytest -q tests/test_fuzz_*.py

# The scale-out fault suite at full size: 1,000 people, 20 faults, on SQLite and PostgreSQL
# (PMO_TEST_POSTGRES_URL, as .ci/run sets it; `make test` runs a short form of the same).
faults: $(VENV)/.installed-dev
	PMO_FAULTS=1 $(BIN)/pytest -q -s -rs tests/test_faults.py tests/test_survey_crash.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

# Usefulness of the coach's answers per kind of user, on the blind question sets.
eval: $(VENV)/.installed-dev
	$(BIN)/python -m tests.coach_eval

# The digest card in the Microsoft 365 Agents Playground, in headless Chromium: screenshots in
# docs/screenshots and no word broken mid-way (docs/teams-playground.md). Not part of `make test`.
playground: $(VENV)/.installed-dev
	test -x .playground/node_modules/.bin/agentsplayground || \
		npm install --prefix .playground --no-audit --no-fund @microsoft/m365agentsplayground
	$(BIN)/python bench/playground/check.py
