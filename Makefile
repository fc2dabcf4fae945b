# Trailhouse: `make help` lists the targets.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := sample-logs
LAKE := trailhouse-lake

.PHONY: help install demo test test-fast check bench browser-deps clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install Trailhouse with its test tools

demo: $(STAMP)  ## sample logs -> ingest -> reports, then what to try next
	$(BIN)/trailhouse demo --dir $(SAMPLE) --lake $(LAKE)

browser-deps:  ## Debian's chromium for the dashboard tests (needs root or sudo)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

test: $(STAMP) browser-deps  ## the whole suite: fast tier, then the slow, AWS and browser tiers
	$(BIN)/pytest -q
	$(BIN)/pytest -q -m 'slow or aws or browser' -p no:cacheprovider

test-fast: $(STAMP)  ## only the fast tier
	$(BIN)/pytest -q

check: $(STAMP)  ## lint and type-check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP)  ## benchmarks with their baselines, figures printed as ratios
	$(BIN)/python -m bench

clean:  ## remove generated data and the virtualenv
	rm -rf $(VENV) $(SAMPLE) $(LAKE) .pytest_cache .mypy_cache .ruff_cache
