# Every command a contributor needs. `make serve` and `make test` do all set-up.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

NODE_STAMP := node_modules/.installed
# Chromium for the browser tests and the PDF: found, installed with apt-get where
# permitted, or a one-line instruction and a stop (scripts/ensure_browser.sh).
ENSURE_BROWSER := scripts/ensure_browser.sh

.PHONY: setup browser vendor html pdf serve book execute test check lint bench colab-test clean student slides screenshots colab release

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

browser: setup  ## find or install Chromium, or stop with the command to run
	@$(ENSURE_BROWSER) >/dev/null

vendor: setup  ## copy the self-hosted runtime (widgets) into the site's assets
	$(BIN)/python scripts/vendor_assets.py

html: vendor student slides  ## build the site's pages into _build/html (zero warnings allowed)
	$(BIN)/jupyter-book build . -W -n --keep-going
	rm -rf _build/html/classroom && mkdir -p _build/html/classroom
	cp _build/student/masked-losses-student-notebooks.zip _build/html/classroom/
	cp -R _build/slides _build/html/classroom/slides

student: $(STAMP)  ## the student edition: notebooks without solutions, and their zip
	$(BIN)/python scripts/make_student.py --out _build/student

colab: $(STAMP)  ## the Colab edition: colab/ and colab/zh/, the chapters as plain Jupyter (commit it)
	$(BIN)/python scripts/plain_jupyter.py --out colab

release: $(STAMP)  ## check the versions, build the editions, tag v<version> locally (push is yours)
	$(BIN)/python scripts/release.py

slides: setup  ## the class's reveal.js deck (reveal.js from node_modules)
	$(BIN)/python scripts/make_slides.py --out _build/slides

pdf: html browser  ## print the whole book into _build/html/masked-losses-in-pytorch.pdf
	CHROMIUM="$$($(ENSURE_BROWSER))" $(BIN)/python scripts/build_pdf.py

# A review set to look through before any change to pages, CSS, templates or the PDF.
screenshots: book  ## every page at 390 and 1280 px, light and dark, and sampled PDF pages: test-artifacts/index.html
	CHROMIUM="$$($(ENSURE_BROWSER))" $(BIN)/python scripts/screenshots.py

book: pdf  ## the complete site: pages and the whole-book PDF

serve: html  ## build, then serve the site at http://$(HOST):$(PORT)
	@CHROMIUM="$$($(ENSURE_BROWSER) 2>/dev/null)" $(BIN)/python scripts/build_pdf.py \
	  || echo "(No whole-book PDF without Chromium; the pages are complete.)"
	@echo "Serving the book at http://$(HOST):$(PORT) (Ctrl-C to stop)"
	$(BIN)/python -m http.server $(PORT) --bind $(HOST) --directory _build/html

execute: $(STAMP)  ## re-run every notebook in place (refreshes stored outputs)
	$(BIN)/python scripts/execute_notebooks.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/sync_notebooks.py --check

# `browser` comes first: without Chromium the run stops before lint, build and tests.
# Two workers (the two cores CI has); --dist loadscope keeps each notebook's cells, and
# each test file's shared browser and built site, on one worker, in order.
PYTEST_WORKERS ?= 2
test: setup browser lint book  ## every test: package, doctests, notebooks (nbval), site, PDF
	CHROMIUM="$$($(ENSURE_BROWSER))" $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope

# The contributor's quick loop: lint, the package's tests and its doctests; no
# site, notebooks or browser. Hypothesis runs fewer examples than in `make test`.
check: $(STAMP)  ## lint, package tests and doctests (about two minutes on 2 cores)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	HYPOTHESIS_MAX_EXAMPLES=60 $(BIN)/python -m pytest -q -n 2 \
	  --override-ini="addopts=--doctest-modules -p no:cacheprovider" masked_loss \
	  $(PACKAGE_TESTS)

# The package's own tests (no site, notebooks, editions or browser).
PACKAGE_TESTS := $(addprefix tests/,test_audit_0_2.py test_autograd.py test_benchmark.py \
  test_classification.py test_compile.py test_distributed.py test_errors.py test_exercises.py \
  test_exercises_part1.py test_losses.py test_reductions.py test_regressions.py \
  test_transforms.py)

colab-test: setup  ## the Colab edition (en + zh), each chapter alone: its set-up cell pip-installs the wheel, google.colab stand-in
	$(BIN)/python scripts/colab_check.py

bench: $(STAMP)  ## masked-MSE formulations, as ratios to the naive one
	$(BIN)/python benchmarks/bench_masked_mse.py
	$(BIN)/python benchmarks/bench_cross_entropy.py

clean:
	rm -rf _build .pytest_cache .hypothesis test-artifacts book/site_assets/vendor
