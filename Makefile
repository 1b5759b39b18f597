# Every target does its own set-up: a fresh clone needs only Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/data/dagster_home
export GX_ANALYTICS_ENABLED := false

.PHONY: demo test test-fast fuzz dev bench lint format clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/edge-pipeline demo

# Tests run in TEST_WORKERS processes (pytest-xdist); a module's tests, and the modules sharing
# the demo run, stay in one worker (edge_pipeline_tests/conftest.py).
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

# Everything: lint, then the core, Dagster and system layers (what CI runs).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(PYTEST)

# The inner loop: the core and Dagster layers only (no subprocess chains, webserver, browser).
test-fast: $(STAMP)
	$(BIN)/lint-imports
	$(PYTEST) -m "not system"

# The reader fuzz tests with thousands of examples per property (`make test` runs a few dozen).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q -p no:cacheprovider edge_pipeline_tests/system/test_fuzz_readers.py

# The UI, with the daemon running the sensors and schedules (all RUNNING by default): inbox and
# outbox sensors, the run-status sensors chaining ingest -> Phase 1 -> Phase 2, the nightly
# reconciliation.  A DAGSTER_HOME made before `nux: enabled: false` was in dagster.yaml gets the
# "seen" marker, so the community dialog is not shown there either.
dev: $(STAMP)
	mkdir -p $(DAGSTER_HOME)/.nux
	cp -n dagster.yaml $(DAGSTER_HOME)/dagster.yaml 2>/dev/null || true
	test -f $(DAGSTER_HOME)/.nux/nux.yaml || echo "seen: 1" > $(DAGSTER_HOME)/.nux/nux.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: $(STAMP)
	$(BIN)/edge-pipeline bench ingest
	$(BIN)/edge-pipeline bench verify
	$(BIN)/edge-pipeline bench score

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) data/warehouse.duckdb* data/dagster_home data/synthetic
