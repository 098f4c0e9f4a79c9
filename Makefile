# The two commands of the README: `make serve` and `make test`. Everything else is their parts.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The home page's SPARQL editor (YASGUI) comes from npm, pinned by package-lock.json and served
# from node_modules/. Without npm everything else works, and the page offers a plain query form.
NPM := $(shell command -v npm 2>/dev/null)
EDITOR := $(if $(NPM),node_modules/.package-lock.json)

# `make serve PORT=8001 HOST=0.0.0.0` serves elsewhere than 127.0.0.1:8000. Only values given
# on make's command line count: a HOST or PORT in the environment (some shells and platforms
# set one) is not taken for this server's. ATROCITY_KG_HOST and ATROCITY_KG_PORT work as well.
SERVE_ARGS := $(strip $(if $(filter command line,$(origin HOST)),--host $(HOST)) \
	$(if $(filter command line,$(origin PORT)),--port $(PORT)))

.PHONY: serve test suite test-fast lint build install clean bench hooks

$(BIN)/atrocity-kg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# npm ci writes node_modules/.package-lock.json; no install scripts are needed (the bundle is built).
node_modules/.package-lock.json: package-lock.json package.json
	$(NPM) ci --ignore-scripts --no-audit --no-fund
	touch $@

install: $(BIN)/atrocity-kg $(EDITOR)
ifeq ($(NPM),)
	@echo "npm not found: the home page will offer a plain query form instead of the SPARQL editor"
endif

build: install
	$(BIN)/atrocity-kg build

serve: build
	$(BIN)/atrocity-kg serve $(SERVE_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# The same checks before each commit (.pre-commit-config.yaml), with the tools in .venv.
hooks: install
	$(BIN)/pre-commit install

# Tests run on every core (pytest-xdist), a whole test file per worker; `make test WORKERS=0`
# runs them all in this one process, as a plain `pytest` does.
WORKERS ?= auto
PYTEST := $(BIN)/pytest -n $(WORKERS) --dist loadfile

# Everything: lint and types, beside every test (real servers, both store modes, kills,
# browser): the linters' few seconds fit while the test workers wait for the session's build.
# Either failing fails `make test`.
test: install
	$(MAKE) --no-print-directory -j2 lint suite

suite: install
	$(PYTEST)

# The inner loop: the tests not marked `slow` (pyproject.toml says what is), embedded store only.
test-fast: install
	$(PYTEST) -m "not slow"

# The benchmark suite (not part of the tests): its extras, then one run that prints the targets.
bench: install
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/suite.py

clean:
	rm -rf $(VENV) var node_modules
