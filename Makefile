# The two commands: `make run` (serve on the embedded defaults) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Django 6 needs Python 3.12 or newer: take the first one found.
PYTHON ?= $(shell for p in python3.13 python3.12 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) python3; do \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Chart.js for the dashboard, pinned; keep in step with VITRINE_CHARTJS_URL and
# VITRINE_CHARTJS_INTEGRITY in config/settings/base.py.
CHARTJS_VERSION := 4.5.1
CHARTJS_INTEGRITY := sha384-jb8JQMbMoBUzgWatfe6COACi2ljcDdZQ2OxczGA3bGNeWe+6DChMTBJemed7ZnvJ
CHARTJS := static/vendor/chartjs-$(CHARTJS_VERSION)/chart.umd.min.js
# axe-core, the accessibility checker the browser tests load into each page;
# pinned like Chart.js (tests/e2e/axe.py names the same file).
AXE_VERSION := 4.14.1
AXE_INTEGRITY := sha384-xt1SFg49QaDwsyt0Xfs2XAyBtYPClXl3X2q5OOLeGAUmq9jZTYIMdztpF99WdhiH
AXE := static/vendor/axe-core-$(AXE_VERSION)/axe.min.js
export CHARTJS_HASH_PY := import base64, hashlib, sys; \
  print("sha384-" + base64.b64encode(hashlib.sha384(open(sys.argv[1], "rb").read()).digest()).decode())

.PHONY: help run test lint format worker browser clean vendor

help:
	@echo "make run    install, migrate, seed the demo merchant, serve on http://$(HOST):$(PORT) with a worker"
	@echo "make test   install and run the whole test suite"
	@echo "make lint   ruff check and format check"
	@echo "make worker the local Celery workers: inference, and default + training with the periodic upkeep (needs CELERY_BROKER_URL)"
	@echo "make vendor fetch the pinned Chart.js and axe-core into static/vendor/ (offline installs, browser tests)"

$(STAMP): requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

# Local mode, asked for: production is the default everywhere else (README,
# "Running on real services").
run worker: export DJANGO_DEBUG := true

# The web server and a background worker (with the periodic upkeep) on a broker
# under var/ that needs no service; Ctrl-C stops both (config/run_local.py).
# Chart.js from static/vendor/ when npm could fetch it, else from its CDN.
run: $(STAMP)
	@mkdir -p var
	-@$(MAKE) --no-print-directory vendor
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python -m config.run_local --chartjs $(CHARTJS) $(HOST):$(PORT)

# Chromium comes from Debian's packages (never a downloaded browser build).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Debian's chromium for the browser tests."; fi; }

# A local copy of Chart.js (gitignored) for offline installs and the browser
# tests: the npm package's file, checked against the pinned integrity hash.
vendor: $(CHARTJS) $(AXE)

$(CHARTJS):
	@if ! command -v npm >/dev/null; then \
	  echo "npm is needed to fetch Chart.js into static/vendor/ (the browser tests need it)."; \
	  if [ "$(CI)" = true ]; then exit 1; else exit 0; fi; fi; \
	  tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  npm pack --silent --pack-destination "$$tmp" chart.js@$(CHARTJS_VERSION) >/dev/null && \
	  tar -xzf "$$tmp/chart.js-$(CHARTJS_VERSION).tgz" -C "$$tmp" package/dist/chart.umd.min.js && \
	  got=$$($(PYTHON) -c "$$CHARTJS_HASH_PY" "$$tmp/package/dist/chart.umd.min.js") && \
	  if [ "$$got" != "$(CHARTJS_INTEGRITY)" ]; then echo "Chart.js integrity mismatch: $$got"; exit 1; fi && \
	  mkdir -p $(@D) && mv "$$tmp/package/dist/chart.umd.min.js" $@ && echo "Chart.js $(CHARTJS_VERSION) -> $@"

$(AXE):
	@if ! command -v npm >/dev/null; then \
	  echo "npm is needed to fetch axe-core into static/vendor/ (the accessibility tests need it)."; \
	  if [ "$(CI)" = true ]; then exit 1; else exit 0; fi; fi; \
	  tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  npm pack --silent --pack-destination "$$tmp" axe-core@$(AXE_VERSION) >/dev/null && \
	  tar -xzf "$$tmp/axe-core-$(AXE_VERSION).tgz" -C "$$tmp" package/axe.min.js package/LICENSE && \
	  got=$$($(PYTHON) -c "$$CHARTJS_HASH_PY" "$$tmp/package/axe.min.js") && \
	  if [ "$$got" != "$(AXE_INTEGRITY)" ]; then echo "axe-core integrity mismatch: $$got"; exit 1; fi && \
	  mkdir -p $(@D) && mv "$$tmp/package/LICENSE" $(@D)/LICENSE && \
	  mv "$$tmp/package/axe.min.js" $@ && echo "axe-core $(AXE_VERSION) -> $@"

test: $(STAMP) browser vendor
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Two workers, as in production: inference on its own pool (one process per CPU,
# sized by the settings), upkeep and training on another, one job at a time.
worker: $(STAMP)
	@mkdir -p var
	@trap 'kill 0' INT TERM EXIT; \
	  $(BIN)/celery -A config worker -Q inference -n inference@%h --loglevel=INFO & \
	  $(BIN)/celery -A config worker -Q default,training -n upkeep@%h --concurrency 1 \
	    --beat --schedule var/celerybeat-schedule --loglevel=INFO & \
	  wait

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
