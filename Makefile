# s2ipf: `make demo` and `make test` each do their own set-up through `make install`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= build/demo

.PHONY: install system-deps demo test fuzz bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	./scripts/install-system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,htj2k]'
	touch $(STAMP)

system-deps:
	./scripts/install-system-deps.sh

demo: install
	$(BIN)/python -m ipf.validation.demo $(DEMO)

test: install
	$(BIN)/python -m pytest

fuzz: install
	IPF_FUZZ_CASES=10000 $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/test_joborder_fuzz.py tests/test_tasktable_fuzz.py \
		tests/formats/test_reader_fuzz.py

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf build bench/results.json .pytest_cache
