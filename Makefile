# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: run test lint install install-dev kb bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,kb,dask]'
	touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
install-dev: $(STAMP_DEV)

# Start the main job on the embedded defaults.
run: $(STAMP_RUN)
	$(BIN)/skinrec demo

test: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP_DEV)
	$(BIN)/ruff check .

# Rebuild the committed ingredient knowledge base from the data directory.
kb: $(STAMP_DEV)
	$(BIN)/skinrec build-kb

bench: $(STAMP_DEV)
	$(BIN)/python benchmarks/parse_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
