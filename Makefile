# Kindred: `make run` starts everything on the embedded default; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# A CPU build of PyTorch lies on disk on our Linux x86-64 machines; installing it first stops pip
# from pulling a multi-GB CUDA build as a dependency of detoxify.
TORCH_WHEEL := $(firstword $(wildcard /opt/wheels/torch-2.13.0+cpu-cp311-*x86_64.whl))
PYTEST_ARGS ?=

.PHONY: setup run test test-fast bench bench-safety train browser-deps migrate demo clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@if [ "$$(uname -s)-$$(uname -m)" = "Linux-x86_64" ] && [ -n "$(TORCH_WHEEL)" ]; then \
		echo "Installing the CPU build of PyTorch from $(TORCH_WHEEL)"; \
		$(BIN)/pip install --quiet torch==2.13.0; \
	else \
		$(BIN)/pip install --quiet torch; \
	fi
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@

migrate: setup
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

run: demo
	@echo "Kindred is starting at http://127.0.0.1:$(PORT)/ (SQLite, in-process moderation worker)"
	$(BIN)/python manage.py serve --port $(PORT)

# Chromium for the browser tests, from the system packages (browsers cannot be downloaded by
# Playwright here). Installed when we are root and apt is available; otherwise the browser tests
# say clearly that they were skipped (and fail in CI, where CI=true).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

test: setup browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -m "not browser and not slow" $(PYTEST_ARGS)

bench: setup bench-safety
	$(BIN)/python -m bench $(BENCH_ARGS)

# Cost of the inline rules and of Kindred's safety model (one core), written to docs/.
bench-safety: setup
	$(BIN)/python -m bench.safetybench --out docs/safety-model-bench.md

# Rebuild Kindred's safety model from the repository (about 15 minutes on 2 cores); the result is
# committed, so `make run` on a fresh clone needs no training step. TRAIN_ARGS="--name NAME" to
# build a candidate to run in shadow beside the live one.
train: setup
	$(BIN)/python manage.py train_safety_model $(TRAIN_ARGS)

clean:
	rm -rf $(VENV) var staticfiles test-artifacts .pytest_cache
