"""Static checks of the stored notebooks (nbval re-executes them separately)."""

from __future__ import annotations

import json
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(
    p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
sys.path.insert(0, str(ROOT / "scripts"))
import sync_notebooks  # noqa: E402

# Widget models whose view is computed in the browser, plus their plain
# layout/style companions. Anything else (a slider, an `interact` output) would
# be a live control beside a frozen output on the static site.
ALLOWED_WIDGET_MODELS = {"AnyModel", "LayoutModel", "StyleModel", "DescriptionStyleModel"}


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix())
def notebook(request):
    return request.param, load(request.param)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 14


def test_setup_cell_is_current(notebook):
    path, _ = notebook
    assert sync_notebooks.sync(path, check=True), f"run scripts/sync_notebooks.py ({path.name})"


def test_every_figure_has_alt_text(notebook):
    path, nb = notebook
    for index, cell in enumerate(nb["cells"]):
        has_image = any(
            "image/png" in out.get("data", {}) or "image/svg+xml" in out.get("data", {})
            for out in cell.get("outputs", [])
        )
        if has_image:
            alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
            assert len(alt) > 20, f"{path.name} cell {index}: figure without alt text"


def test_only_browser_computed_widgets(notebook):
    path, nb = notebook
    state = nb["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    for model_id, model in state.get("state", {}).items():
        name = model["model_name"]
        assert name in ALLOWED_WIDGET_MODELS, (
            f"{path.name}: widget model {name} ({model_id}) would be stale on the static site"
        )


def test_outputs_are_stored_and_error_free(notebook):
    path, nb = notebook
    counts = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        counts.append(cell["execution_count"])
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name} cell {index}: stored error"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: not run top to bottom"


# --- Prose backed by assertions ---------------------------------------------------------
# Every comparative or quantitative sentence of a chapter has a hidden cell beside it that
# calls masked_loss.teaching.book.claim(condition, "the sentence"); executing the notebook
# (nbval, `make execute`) fails, naming the sentence, when the data stop supporting it.

CHAPTERS = [p for p in NOTEBOOKS if re.match(r"\d\d_", p.name)]
CLAIM_CALL = re.compile(r"(?<![\w.])claim\(")
COMPARATIVE = re.compile(
    r"\b(larger|smaller|more|less|fewer|greater|faster|slower|times|twice|half|equal|equals"
    r"|differ|differs|different|same|changes? nothing|factor|exactly|too (?:large|small)|NaN"
    r"|inf|never|every|all)\b",
    re.IGNORECASE,
)
CODE_SPANS = re.compile(r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$]*\$", re.DOTALL)


def source(cell):
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else text


def claim_count(nb):
    return sum(
        len(CLAIM_CALL.findall(source(cell))) for cell in nb["cells"] if cell["cell_type"] == "code"
    )


def has_comparative_prose(nb):
    prose = " ".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    return bool(COMPARATIVE.search(CODE_SPANS.sub(" ", prose)))


@pytest.fixture(params=CHAPTERS, ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix())
def chapter(request):
    return request.param, load(request.param)


def test_comparative_prose_is_backed_by_claims(chapter):
    path, nb = chapter
    if has_comparative_prose(nb):
        assert claim_count(nb) >= 1, (
            f"{path.name}: comparative prose but no claim() assertion beside it "
            "(from masked_loss.teaching.book import claim)"
        )


def test_claim_cells_are_hidden_and_import_claim(chapter):
    path, nb = chapter
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    calls = [c for c in code if CLAIM_CALL.search(source(c))]
    if not calls:
        return
    assert any(
        "from masked_loss.teaching.book import" in source(c) and "claim" in source(c) for c in code
    ), f"{path.name}: claim() is called but never imported from masked_loss.teaching.book"
    for cell in calls:
        tags = cell["metadata"].get("tags", [])
        assert "remove-cell" in tags, (
            f"{path.name}: a claim() cell without the remove-cell tag shows on the site:\n"
            + source(cell)[:200]
        )
