# fullcourt — `make demo` runs the main story on the embedded DuckDB, `make test` runs the tests.
# Both work on a fresh machine with only Python 3.11 and make: the venv is created on first use.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-real test test-slow bench bench-real bench-cascade clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

demo-real: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo-real.sh

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -n 2

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

bench: $(STAMP)
	$(BIN)/python bench/phase123.py
	$(BIN)/python bench/season.py --seasons 1

bench-real: $(STAMP)
	$(BIN)/python bench/real_season.py

bench-cascade: $(STAMP)
	$(BIN)/python bench/cascade.py

clean:
	rm -rf out .pytest_cache
