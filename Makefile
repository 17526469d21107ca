# Two commands for a newcomer (see README): `make demo` and `make test`.
# Both create ./.venv with the project's own files, so nothing but Python 3.11 and pip is needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint install serve bench clean-outputs

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/doisoat demo

test: lint
	$(BIN)/python -m pytest

# ruff (configured in pyproject.toml): lint rules and the one format, checked before the tests
lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Scheduled runs on this machine: Prefect server, work pool, prefect.yaml deployments and a worker
# (pipelines/serve.py); Ctrl-C stops them all.
serve: $(BIN)/.installed
	$(BIN)/doisoat serve

# Every benchmark in bench/ at a small size (a few minutes); BENCH_SIZE=medium or large for more.
BENCH_SIZE ?= small
bench: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run_all.py --size $(BENCH_SIZE)

clean-outputs:
	rm -rf out/
