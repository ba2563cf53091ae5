# Every command a contributor needs. `make serve` and `make test` do all set-up.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: setup serve book execute test test-package test-notebooks lint bench clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

setup: $(STAMP)  ## create .venv with everything the book and the tests need

book: $(STAMP)  ## build the site into _build/html (zero warnings allowed)
	$(BIN)/jupyter-book build . -W -n --keep-going

serve: book  ## build, then serve the site at http://$(HOST):$(PORT)
	@echo "Serving the book at http://$(HOST):$(PORT) (Ctrl-C to stop)"
	$(BIN)/python -m http.server $(PORT) --bind $(HOST) --directory _build/html

execute: $(STAMP)  ## re-run every notebook in place (refreshes stored outputs)
	$(BIN)/python scripts/execute_notebooks.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/sync_notebooks.py --check

test: lint book  ## every test: package, doctests, notebooks (nbval), built site
	$(BIN)/python -m pytest

bench: $(STAMP)  ## masked-MSE formulations, as ratios to the naive one
	$(BIN)/python benchmarks/bench_masked_mse.py

clean:
	rm -rf _build .pytest_cache .hypothesis
