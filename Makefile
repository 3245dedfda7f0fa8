# Kindred: `make run` starts everything on the embedded default; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# A CPU build of PyTorch lies on disk on our Linux x86-64 machines; installing it first stops pip
# from pulling a multi-GB CUDA build as a dependency of detoxify.
TORCH_VERSION := 2.13.0
TORCH_WHEEL := $(firstword $(wildcard /opt/wheels/torch-$(TORCH_VERSION)+cpu-cp311-*x86_64.whl))
# requirements.lock pins every other runtime and test dependency with its hashes (`make lock`).
UV_VERSION := 0.13.8
PYTEST_ARGS ?=

.PHONY: setup lock lint format run test test-fast bench bench-safety train browser-deps migrate demo clean

setup: $(VENV)/.installed

# Installs exactly what requirements.lock says, hashes checked, resolving nothing: PyTorch first
# (the CPU build; the lock leaves it out, and with it the CUDA packages PyPI's build depends on),
# then the lock with --no-deps, then Kindred itself, then `pip check` that nothing is missing.
$(VENV)/.installed: pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@if [ "$$(uname -s)-$$(uname -m)" = "Linux-x86_64" ]; then \
		if [ -z "$(TORCH_WHEEL)" ]; then \
			echo "No CPU build of PyTorch $(TORCH_VERSION) in /opt/wheels; refusing to download PyPI's CUDA build." >&2; \
			echo "Put torch-$(TORCH_VERSION)+cpu-cp311-cp311-manylinux_2_28_x86_64.whl there." >&2; \
			exit 1; \
		fi; \
		echo "Installing the CPU build of PyTorch from $(TORCH_WHEEL)"; \
		$(BIN)/pip install --quiet --no-deps "$(TORCH_WHEEL)"; \
	else \
		$(BIN)/pip install --quiet --no-deps "torch==$(TORCH_VERSION)"; \
	fi
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check
	@touch $@

# Regenerate requirements.lock from pyproject.toml's ranges, keeping the current pins
# (`make lock UPGRADE=1` moves every pin to the newest version the ranges allow; README,
# "Dependencies"). Resolved for CPython 3.11 on Linux x86-64 against the CPU build of PyTorch.
# uv runs from its own environment under var/, so a pyproject.toml the current lock cannot
# satisfy can still be locked.
lock:
	@test -x var/uv/bin/uv || { $(PYTHON) -m venv var/uv && var/uv/bin/pip install --quiet "uv==$(UV_VERSION)"; }
	@echo "torch==$(TORCH_VERSION)+cpu" > var/torch-cpu.txt
	var/uv/bin/uv pip compile pyproject.toml --extra test --generate-hashes --quiet \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		--find-links /opt/wheels --constraint var/torch-cpu.txt --no-emit-package torch \
		--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) -o requirements.lock

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

# Lint and format check first: CI fails on either (`make format` fixes formatting).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: setup browser-deps lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -m "not browser and not slow" $(PYTEST_ARGS)

bench: setup bench-safety
	$(BIN)/python -m bench $(BENCH_ARGS)

# Cost of the inline rules and of Kindred's safety model (one core), written to docs/.
bench-safety: setup
	$(BIN)/python -m bench.safetybench $(if $(findstring --quick,$(BENCH_ARGS)),--quick) \
		--out docs/safety-model-bench.md

# Rebuild Kindred's safety model from the repository (about 15 minutes on 2 cores); the result is
# committed, so `make run` on a fresh clone needs no training step. TRAIN_ARGS="--name NAME" to
# build a candidate to run in shadow beside the live one.
train: setup
	$(BIN)/python manage.py train_safety_model $(TRAIN_ARGS)

clean:
	rm -rf $(VENV) var staticfiles test-artifacts .pytest_cache
