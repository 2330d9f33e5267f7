# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint install install-dev browser kb bench clean

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

# Start the main job on the embedded defaults: the web app and API on 127.0.0.1:8000
# (demo catalog unless SKINREC_CATALOG names one). `skinrec demo` checks example labels.
run: $(STAMP_RUN)
	$(BIN)/skinrec serve

# Headless Chromium for tests/browser: Debian's chromium + chromium-driver, installed only when
# the binary is missing (the file is the stamp). Playwright drives it and never downloads a
# browser (this machine is offline). A failed install fails `make test`; the tests never skip.
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "need Debian's apt-get to install chromium" >&2; exit 1; }
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver \
	  || { $$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver; }
	$(CHROMIUM) --version

browser: $(CHROMIUM)

test: $(STAMP_DEV) $(CHROMIUM)
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
