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

# Tests in parallel processes (pytest-xdist): more than the cores, as most tests wait on a
# server; tests sharing a wider fixture stay together (tests/conftest.py). TEST_WORKERS=0: one.
TEST_WORKERS ?= 3
test: install
	$(UV) run --frozen pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen lint-imports
	$(UV) run --frozen mypy

bench: install
	$(UV) run --frozen python bench/lifecycle.py

clean:
	rm -rf .data .pytest_cache .ruff_cache
