# Two commands a newcomer needs: `make run` (the whole embedded stack) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
UV ?= $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON ?= $(shell $(PYTHON) -c 'import sys; print(sys.executable)')

PACKAGES := domain infra store activities workflows services api web workers

.PHONY: run test install lint bench clean

install:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet
	@# the project's bytecode: the workflow sandbox imports workflows/ for every match it builds
	@$(UV) run --frozen --no-sync python -m compileall -q $(PACKAGES) >/dev/null

run: install
	$(UV) run --frozen matchmaker dev $(RUN_ARGS)

test: install
	$(UV) run --frozen pytest $(PYTEST_ARGS)

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen lint-imports

bench: install
	$(UV) run --frozen python bench/lifecycle.py

clean:
	rm -rf .data .pytest_cache .ruff_cache
