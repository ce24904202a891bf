# hocba — the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
export HOCBA_VAR_DIR ?= $(CURDIR)/var

.PHONY: install demo test test-sqlite test-postgres bench lint clean

install:
	@PYTHON=$(PYTHON) scripts/install.sh

demo: install
	@scripts/demo.sh

test: install
	@scripts/test.sh

test-sqlite: install
	@scripts/test.sh sqlite

test-postgres: install
	@scripts/test.sh postgres

bench: install
	@$(BIN)/python bench/run.py

lint: install
	@$(BIN)/ruff check src tests bench

clean:
	rm -rf var build dist src/*.egg-info
