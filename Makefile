# The two commands of the quickstart: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_HOME ?= $(CURDIR)/.demo-home
SAMPLES := tests/data

.PHONY: demo test lint bench scale bench-scale fuzz audit lock clean

# Installs exactly the versions pinned in requirements-dev.lock (`make lock` refreshes it).
$(BIN)/kompas: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

## Set up, import the bundled real sample exports into a fresh workspace, and show what was found.
demo: $(BIN)/kompas
	rm -rf "$(DEMO_HOME)"
	$(BIN)/kompas --home "$(DEMO_HOME)" import x-archive $(SAMPLES)/x-archive/milahu104/archive.zip
	$(BIN)/kompas --home "$(DEMO_HOME)" import mastodon-archive $(SAMPLES)/mastodon-archive/dealingwith/archive.tar.gz
	$(BIN)/kompas --home "$(DEMO_HOME)" import linkedin $(SAMPLES)/linkedin/sanand0/export.zip
	$(BIN)/kompas --home "$(DEMO_HOME)" import bluesky-car $(SAMPLES)/bluesky/repo.car
	$(BIN)/kompas --home "$(DEMO_HOME)" import opml $(SAMPLES)/opml/subscriptions.opml
	$(BIN)/kompas --home "$(DEMO_HOME)" status
	$(BIN)/kompas --home "$(DEMO_HOME)" strategy init
	@echo ""
	@echo "Dashboard on the sample data: http://127.0.0.1:8765/  (press Ctrl-C to stop)"
	$(BIN)/kompas --home "$(DEMO_HOME)" serve --port 8765

## Set up with dev dependencies and run the whole test suite (exit 5, "no tests", is a failure).
test: $(BIN)/kompas
	$(BIN)/python -m pytest -n $${KOMPAS_TEST_WORKERS:-auto} --dist loadfile --durations=25; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

lint: $(BIN)/kompas
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

bench: $(BIN)/kompas
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/import_x.py
	$(BIN)/python bench/community.py
	$(BIN)/python bench/rules.py
	$(BIN)/python bench/feeds.py
	$(BIN)/python bench/people.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/startup.py

## How kompas grows: 10k, 100k and 1M posts (import, status, community, review, dashboard);
## about an hour. SCALE_SIZES=10000,100000 for a quicker run.
bench-scale: $(BIN)/kompas
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/scale.py --sizes $${SCALE_SIZES:-10000,100000,1000000}

scale: bench-scale

## The fuzz harness's long run, for before a release (5,000 exports of each kind; about an hour).
fuzz: $(BIN)/kompas
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-5000} $(BIN)/python -m pytest tests/test_fuzz.py -x -q

## pip-audit over the locked dependencies, when PyPI's vulnerability data can be reached.
audit: $(BIN)/kompas
	$(BIN)/python scripts/audit.py

## Re-pin requirements-dev.lock from pyproject.toml (needs the network).
lock: $(BIN)/kompas
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url \
		--no-emit-find-links -o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .mypy_cache .ruff_cache
