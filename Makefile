# socialads: one front door. `make help` lists the targets.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3

.DEFAULT_GOAL := help
.PHONY: help install build demo test lint bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed ## set up .venv and node_modules

build: install ## bundle, hash and precompress the front-end into static/dist
	PYTHON=$(abspath $(PY)) npm run --silent build  # the venv's Python lists the installed widgets

demo: build ## run the whole product locally (embedded Redis unless SOCIALADS_REDIS_URL is set)
	$(VENV)/bin/socialads demo

test: build ## run the whole test suite (real Redis, real servers, headless Chromium)
	$(VENV)/bin/pytest

lint: install ## ruff
	$(VENV)/bin/ruff check .

bench: build ## run the benchmarks in bench/ and print JSON
	$(PY) bench/run.py

clean: ## remove what the build and the demo made
	rm -rf static/dist instance .pytest_cache .ruff_cache
