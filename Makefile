# Two commands set up everything on a fresh machine: `make run` and `make test`.
PY       ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
OUT      ?= out

.PHONY: setup run demo test lint typecheck check lock clean

setup: $(STAMP)  ## Create .venv/ with the locked, hash-checked dependencies.

$(STAMP): requirements.lock requirements-dev.lock setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: setup  ## The main job: the curated default feeds, once, into ./out.
	$(BIN)/newsbeam run --feeds deploy/feeds/default.opml --output $(OUT) --once

demo: setup  ## Offline: serve the sample site on loopback and run on it.
	$(BIN)/newsbeam demo --output demo-output

test: setup lint typecheck  ## Lint, type-check and run the whole test suite.
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

lock:  ## Re-resolve the pins into the hashed lock files.
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe -o requirements.lock requirements.in
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe -o requirements-dev.lock requirements-dev.in

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
