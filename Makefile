# Integrationsmonitor — the two set-up commands are `make demo` and `make test`.
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8050
# pip prints one harmless line per local mirror folder it skips; keep the log readable
QUIET_PIP := { grep -v -e "is ignored" -e "^Looking in" || true; }

.PHONY: help install install-test demo data build serve test chromium pango bench bench-scale lint clean

help:
	@echo "make demo   install, generate the demo city, build the warehouse, serve http://127.0.0.1:$(PORT)"
	@echo "make test   install test dependencies (incl. Debian chromium) and run the whole suite"
	@echo "make bench  benchmarks -> BENCHMARKS.md"
	@echo "make bench-scale  the scale series with 84 M persons (hours, ~4 GiB) -> BENCHMARKS.md"
	@echo "make lint   ruff check and ruff format --check (part of CI)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -e . 2>&1 | $(QUIET_PIP)
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --disable-pip-version-check -q -e ".[test]" 2>&1 | $(QUIET_PIP)
	touch $@

install: $(VENV)/.installed pango
install-test: $(VENV)/.installed-test pango

data: install
	$(BIN)/imon demo-data

build: data
	$(BIN)/imon build

serve: install
	$(BIN)/imon serve --port $(PORT)

demo: build serve

# Browser tests and chart export need Debian's chromium (never a downloaded browser).
chromium:
	@if ! command -v chromium >/dev/null; then \
	  echo "installing Debian chromium ..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi
	@chromium --version 2>/dev/null | grep -v "unexpected operator" || true

# PDF reports (imon report) are typeset by WeasyPrint, which needs Debian's pango.
pango: $(VENV)/.installed
	@if ! $(BIN)/python -c "import weasyprint" >/dev/null 2>&1; then \
	  echo "installing Debian pango for WeasyPrint ..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 >/dev/null; \
	fi

test: install-test chromium pango
	$(BIN)/python -m pytest

bench: install-test chromium
	$(BIN)/python -m benchmarks.run

# the scale series of make bench (1, 4, 16 M persons) and a Germany-size register (#17)
bench-scale: install-test
	IMON_BENCH_SCALE=1000000,4000000,16000000,84000000 $(BIN)/python -m benchmarks.run scale

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf data/curated/* data/raw/* test-artifacts
	touch data/raw/.gitkeep data/curated/.gitkeep
