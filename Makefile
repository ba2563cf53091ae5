# Every command a contributor needs. `make serve` and `make test` do all set-up.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

NODE_STAMP := node_modules/.installed

.PHONY: setup vendor serve book execute test lint bench clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# The site's browser runtime and the accessibility checker, pinned by package-lock.json.
$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

setup: $(STAMP) $(NODE_STAMP)  ## create .venv and node_modules with everything needed

vendor: setup  ## copy the self-hosted runtime (MathJax, widgets) into the site's assets
	$(BIN)/python scripts/vendor_assets.py

book: vendor  ## build the site into _build/html (zero warnings allowed)
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
	rm -rf _build .pytest_cache .hypothesis test-artifacts book/site_assets/vendor
