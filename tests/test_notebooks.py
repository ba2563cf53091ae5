"""Static checks of the stored notebooks (nbval re-executes them separately)."""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
sys.path.insert(0, str(ROOT / "scripts"))
import sync_notebooks  # noqa: E402

# Widget models whose view is computed in the browser, plus their plain
# layout/style companions. Anything else (a slider, an `interact` output) would
# be a live control beside a frozen output on the static site.
ALLOWED_WIDGET_MODELS = {"AnyModel", "LayoutModel", "StyleModel", "DescriptionStyleModel"}


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
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
