# socialads: one front door. `make help` lists the targets.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTHON ?= python3
# Every dependency, pinned (`make lock` writes it): installs and CI run exactly these versions.
LOCK   := requirements.lock

.DEFAULT_GOAL := help
.PHONY: help install build demo test lint bench clean lock audit

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c $(LOCK) -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed ## set up .venv and node_modules

build: install ## bundle, hash and precompress the front-end into static/dist
	PYTHON=$(abspath $(PY)) npm run --silent build  # the venv's Python lists the installed widgets

demo: build ## run the whole product locally (embedded Redis unless SOCIALADS_REDIS_URL is set)
	$(VENV)/bin/socialads demo

test: build ## run the whole test suite (the front-end's unit tests, then real Redis, real servers, headless Chromium)
	npm run --silent test
	$(VENV)/bin/pytest

lint: install ## ruff (check + format), mypy, the layers' import contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# BENCH_ARGS=--quick for a 1-2 minute run; `.venv/bin/python bench/run.py --help` lists the sizes.
bench: build ## benchmarks vs a bare baseline: JSON, a table with targets, bench/latency.png
	@$(PY) -c 'import matplotlib' 2>/dev/null && test -x $(VENV)/bin/py-spy || \
	  $(VENV)/bin/pip install -q -c $(LOCK) -e '.[bench]'
	$(PY) bench/run.py $(BENCH_ARGS)

# pip-compile keeps the existing pins that still fit; PIP_COMPILE_FLAGS=--upgrade moves them all.
lock: ## re-pin the dependencies into requirements.lock after changing pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q pip-tools $(if $(wildcard $(LOCK)),-c $(LOCK))
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --extra dev --extra bench \
	  --strip-extras --unsafe-package socialads --no-emit-index-url --no-emit-find-links \
	  $(PIP_COMPILE_FLAGS) --output-file $(LOCK) pyproject.toml

# For operators, not CI: it needs a vulnerability database (PyPI's JSON API) on the network.
audit: $(VENV)/.installed ## check the pinned dependencies for known vulnerabilities (pip-audit)
	@$(VENV)/bin/pip install -q -c $(LOCK) pip-audit || { \
	  echo "make audit: could not install pip-audit; is PyPI reachable from here?" >&2; exit 1; }
	@$(VENV)/bin/pip-audit --requirement $(LOCK) --no-deps --disable-pip --progress-spinner off \
	  2>$(VENV)/audit.log && echo "make audit: no known vulnerabilities in $(LOCK)" || { \
	  status=$$?; \
	  if grep -qE 'requests\.exceptions|Max retries|NameResolution|timed out' $(VENV)/audit.log; then \
	    echo "make audit: the vulnerability database could not be reached from this machine," \
	         "so nothing was checked. Run it where the network is open." >&2; \
	  else \
	    cat $(VENV)/audit.log >&2; \
	    echo "make audit: known vulnerabilities above (or pip-audit failed); raise the pins" \
	         "with 'make lock PIP_COMPILE_FLAGS=\"--upgrade-package NAME\"'." >&2; \
	  fi; exit $$status; }

clean: ## remove what the build and the demo made
	rm -rf static/dist instance .pytest_cache .ruff_cache .mypy_cache
