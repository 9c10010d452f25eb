# The two commands of the README: `make up` runs the engine, `make test` runs every check.
# Both create and fill .venv on first use (Python 3.11+ is all a fresh machine needs).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: up test lint faults bench demo clean mutate mutate-handpicked

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

## Run the embedded engine: Temporal dev server + Web UI + worker, SQLite under var/.
up: $(STAMP)
	$(BIN)/amity up

## Format check, lint, types, then the whole test suite (real Temporal, SQLite, PostgreSQL, Chromium).
test: $(STAMP) lint
	@$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

## Mutation testing of the pure code (mutmut, in a copy under var/mutation/); MODULES= picks
## some (e.g. MODULES=tlog/merkle.py). Fails when a mutant survives that is not listed as
## equivalent in mutation/equivalent.txt. See docs/testing.md.
mutate: $(STAMP)
	$(BIN)/python -m mutation.mutate $(MODULES)

## Hand-picked mutations of the Temporal-facing code, each against the tests that must catch it.
mutate-handpicked: $(STAMP)
	$(BIN)/python -m mutation.handpicked $(MUTATIONS)

demo: $(STAMP)
	$(BIN)/amity demo

faults: $(STAMP)
	$(BIN)/python -m bench.faults --full

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
