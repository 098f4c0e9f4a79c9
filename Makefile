# The two commands of the README: `make serve` and `make test`. Everything else is their parts.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test lint build install clean

$(BIN)/atrocity-kg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/atrocity-kg

build: install
	$(BIN)/atrocity-kg build

serve: build
	$(BIN)/atrocity-kg serve

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var
