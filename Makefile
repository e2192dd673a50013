# lead_scoring: `make run` builds the warehouse, `make test` runs every check.
# Both create .venv from requirements.lock on first use (python3 and make are all they need).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_PROJECT_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export PYTHONHASHSEED := 0
# Tests never read a developer's registry/: `make test` starts with no trained model.
TEST_ENV := LEAD_SCORING_REGISTRY=$(CURDIR)/build/test/registry

DBT := $(BIN)/dbt
LEADSCORE := $(BIN)/leadscore

.PHONY: run test venv lint pytest dbt-test maven-test clean browser dashboard bench

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(LEADSCORE) run

test: $(STAMP) lint dbt-test pytest

lint: $(STAMP)
	$(BIN)/ruff check python
	$(BIN)/ruff format --check python
	$(DBT) parse --quiet --warn-error-options '{"error": ["Deprecations"]}'
	mkdir -p build/lint
	LEAD_SCORING_DUCKDB_PATH=build/lint/lint.duckdb $(BIN)/sqlfluff lint models macros tests --processes 2

# pytest reuses the demo warehouse dbt-test built (and builds its own when run alone).
pytest: $(STAMP) browser
	$(TEST_ENV) LEAD_SCORING_TEST_WAREHOUSE=$(CURDIR)/build/test/demo.duckdb $(BIN)/pytest -q

# dbt build of the demo world from an empty warehouse: every model, seed and test.
dbt-test: $(STAMP)
	$(TEST_ENV) LEAD_SCORING_DUCKDB_PATH=build/test/demo.duckdb $(LEADSCORE) build-warehouse --fresh

maven-test: $(STAMP)
	$(TEST_ENV) LEAD_SCORING_DUCKDB_PATH=build/test/maven_crm.duckdb $(LEADSCORE) build-warehouse --fresh --dataset maven_crm

# Debian's chromium and chromedriver, for the dashboard's browser test; installed only when
# missing (needs root, as on the project's machines).
browser:
	@test -x /usr/bin/chromedriver && test -x /usr/bin/chromium || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver)

# The BI dashboard on the serving file (LEAD_SCORING_SERVING_PATH, default warehouse/serving.duckdb).
DASHBOARD_PORT ?= 8501
dashboard: $(STAMP)
	$(BIN)/streamlit run python/leadscore/dashboard/app.py --server.headless=true \
		--server.address=127.0.0.1 --server.port=$(DASHBOARD_PORT) --server.fileWatcherType=none \
		--browser.gatherUsageStats=false --client.toolbarMode=viewer

# The benchmark (not part of `make test`): 0.1x, 0.3x and 1x of 1M leads, report in build/bench/.
# History is bounded as a 1M-lead CRM would bound it: monthly snapshots over two years and
# one non-converting training row in ten (weighted by 10).
BENCH_VARS ?= {lead_scoring__snapshot_cadence_days: 28, lead_scoring__snapshot_count: 26, lead_scoring__negative_sampling_rate: 0.1}
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m leadscore.bench --vars '$(BENCH_VARS)' $(BENCH_ARGS)

clean:
	rm -rf build warehouse target logs
