# `make run` serves the API on 127.0.0.1:8000; `make test` runs every check. Each builds .venv/ itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The embedded verifier needs torch; this pin takes the CPU build (a looser spec pulls CUDA, GBs).
TORCH  ?= torch==2.13.0

.PHONY: run run-worker test deploy-check deploy-e2e lint typecheck unit fuzz browser pictures bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[worker]' '$(TORCH)'
	touch $@

$(VENV)/.dev-installed: pyproject.toml clients/python/pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]' -e 'clients/python[cli]'
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/python -m service --host $(HOST) --port $(PORT)

run-worker: $(VENV)/.run-installed
	$(BIN)/python -m service.worker --host $(HOST) --port $(or $(WORKER_PORT),8001)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

unit: $(VENV)/.dev-installed browser
	$(BIN)/python -m pytest -q

# Schemathesis against a real API process: every operation and check, positive and negative
# data, bounded (about a minute; FUZZ_EXAMPLES=n per operation, FUZZ_SEED=n). Any finding fails.
fuzz: $(VENV)/.dev-installed
	$(BIN)/python scripts/fuzz.py

# tests/browser/ drive Debian's Chromium (playwright never downloads one). Installed once, as root;
# elsewhere the tests say loudly that they skip, and fail under CI=true.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else echo "make browser: $(CHROMIUM) is missing; as root: apt-get update && apt-get install -y chromium" >&2; fi

# The README's and guides' pictures, drawn by the service itself (scripts/make_pictures.py).
pictures: $(VENV)/.dev-installed
	$(BIN)/python scripts/make_pictures.py

deploy-check: $(VENV)/.dev-installed
	$(BIN)/hadolint deploy/docker/Dockerfile.api deploy/docker/Dockerfile.worker
	$(BIN)/docker-compose -f docker-compose.yml config -q
	$(BIN)/docker-compose -f docker-compose.yml -f docker-compose.cpu.yml config -q
	for overlay in cpu gpu; do \
	  kubectl kustomize deploy/k8s/overlays/$$overlay > build/k8s-$$overlay.yaml && \
	  $(BIN)/kubernetes-validate --strict --quiet build/k8s-$$overlay.yaml || exit 1; \
	done
	$(BIN)/python scripts/export_openapi.py --check

# Builds both images and runs them with compose; skips loudly where docker cannot run.
deploy-e2e: $(VENV)/.dev-installed
	deploy/e2e.sh

test: lint typecheck unit fuzz deploy-check deploy-e2e

# wrk (Debian's) drives the throughput section; installed once, as root.
bench: $(VENV)/.dev-installed
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
