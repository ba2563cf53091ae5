"""The Chinese edition (中文版): same code as its English twins, linked both ways, searchable.

Each page under ``notebooks/zh/`` and ``book/zh/`` translates the English page
of the same name. These tests keep the pair honest: identical code cells,
language links in both directions, the same glued numbers and no number typed
by hand in their place, the cheat sheet's calls unchanged, and (once the site
is built) a Chinese term in Sphinx's search index. nbval re-executes the
Chinese notebooks like every other one.
"""

from __future__ import annotations

import ast
import json
import os
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
ZH_NOTEBOOKS = sorted((ROOT / "notebooks" / "zh").glob("*.ipynb"))
ZH_PAGES = [ROOT / "book" / "zh" / "intro.md", ROOT / "book" / "zh" / "cheatsheet.md"]
# `make book` builds into _build/html; BOOK_HTML points the search test elsewhere.
SITE = pathlib.Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
CJK = re.compile(r"[\u4e00-\u9fff]")
GLUE_ROLE = re.compile(r"\{glue:text\}`(?:([^`:]+)::)?([\w-]+)(?::([^`]*))?`")
GLUE_MIME = "application/papermill.record/text/plain"

sys.path.insert(0, str(ROOT / "scripts"))
import sync_notebooks  # noqa: E402


def load(path: pathlib.Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def text(cell: dict) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def twin(path: pathlib.Path) -> pathlib.Path:
    """The English page a Chinese one translates: the same name one folder up."""
    return path.parent.parent / path.name


def markdown(nb: dict) -> list[str]:
    return [text(c) for c in nb["cells"] if c["cell_type"] == "markdown"]


def glued_values(nb: dict) -> dict[str, str]:
    """Every glued key of an executed notebook, with its stored text/plain."""
    values = {}
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name and GLUE_MIME in out.get("data", {}):
                values[name] = "".join(out["data"][GLUE_MIME])
    return values


def rendered(plain: str, spec: str) -> str:
    """The text {glue:text}`key:spec` puts on the page (myst-nb formats the literal)."""
    return format(ast.literal_eval(plain), spec or "s") if spec else plain


# Code, math, roles, link targets and HTML comments carry digits that are not prose.
NOT_PROSE = re.compile(
    r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$\n]*\$|\{[\w:-]+\}`[^`]*`|\]\([^)]*\)|^\[[^\]]+\]:.*$|<!--.*?-->",
    re.DOTALL | re.MULTILINE,
)


def typed_numbers(prose: str, numbers: set[str]) -> list[str]:
    """Which of ``numbers`` appear typed in ``prose``, outside code, math and roles."""
    bare = NOT_PROSE.sub(" ", prose)
    return sorted(n for n in numbers if re.search(rf"(?<![\d.]){re.escape(n)}(?![\d])", bare))


@pytest.fixture(params=ZH_NOTEBOOKS, ids=lambda p: p.name)
def pair(request):
    path = request.param
    return path, load(path), load(twin(path))


def test_the_chinese_part_one_is_complete():
    names = [p.name for p in ZH_NOTEBOOKS]
    assert names == [
        "01_mseloss_refresher.ipynb",
        "02_the_bug.ipynb",
        "03_why_k_over_n.ipynb",
        "04_training.ipynb",
        "05_the_fix.ipynb",
    ]
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    for path in [*ZH_NOTEBOOKS, *ZH_PAGES]:
        entry = path.relative_to(ROOT).with_suffix("").as_posix()
        assert f"file: {entry}\n" in toc, f"{entry} is not in _toc.yml"


def test_code_cells_identical_to_the_english_twin(pair):
    path, zh, en = pair
    code = [
        [(text(c), c["metadata"].get("tags", [])) for c in nb["cells"] if c["cell_type"] == "code"]
        for nb in (zh, en)
    ]
    assert len(code[0]) == len(code[1]), f"{path.name}: not as many code cells as the English one"
    for index, (ours, theirs) in enumerate(zip(*code, strict=True)):
        assert ours == theirs, f"{path.name}: code cell {index} differs from the English twin"


def test_prose_is_translated(pair):
    path, zh, _ = pair
    for index, prose in enumerate(markdown(zh)):
        stripped = NOT_PROSE.sub(" ", prose)
        if re.search(r"[A-Za-z]{4,}\s+[A-Za-z]{4,}\s+[A-Za-z]{4,}", stripped):
            pytest.fail(f"{path.name} markdown cell {index}: English prose left untranslated")
    for cell in zh["cells"]:
        alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt")
        if alt is not None:
            assert CJK.search(alt), f"{path.name}: figure alt text not translated: {alt[:60]}"


def test_exercise_labels_are_unique_to_the_chinese_page(pair):
    path, zh, en = pair
    labels = re.compile(r":label: (\S+)|\{solution-start\} (\S+)")
    ours = {a or b for cell in markdown(zh) for a, b in labels.findall(cell)}
    theirs = {a or b for cell in markdown(en) for a, b in labels.findall(cell)}
    assert {label.removesuffix("-zh") for label in ours} == theirs, path.name
    assert all(label.endswith("-zh") for label in ours), f"{path.name}: {sorted(ours)}"


def test_language_links_both_ways(pair):
    path, zh, en = pair
    assert f"[English](../{path.name})" in markdown(zh)[0], (
        f"{path.name}: no link to the English twin"
    )
    assert f"[中文版](zh/{path.name})" in markdown(en)[0], f"English {path.name}: no link to zh/"


@pytest.mark.parametrize("page", ZH_PAGES, ids=lambda p: p.name)
def test_pages_link_both_ways(page):
    top = page.read_text(encoding="utf-8").splitlines()[:5]
    assert f"[English](../{page.name})" in top, f"book/zh/{page.name}: no link to the English twin"
    english_top = twin(page).read_text(encoding="utf-8").splitlines()[:5]
    assert f"[中文版](zh/{page.name})" in english_top, f"book/{page.name}: no link to zh/"


def test_the_same_numbers_come_from_glue(pair):
    path, zh, en = pair
    used = {key for cell in markdown(zh) for _, key, _ in GLUE_ROLE.findall(cell)}
    english = {key for cell in markdown(en) for _, key, _ in GLUE_ROLE.findall(cell)}
    assert used == english, f"{path.name}: glued numbers differ from the English page"
    missing = used - glued_values(zh).keys()
    assert not missing, f"{path.name}: {sorted(missing)} shown but not glued by this notebook"


def test_no_glued_number_typed_by_hand(pair):
    path, zh, en = pair
    values = glued_values(zh)
    formats = {
        (key, spec)
        for cell in markdown(zh) + markdown(en)
        for _, key, spec in GLUE_ROLE.findall(cell)
    }
    # One-character renderings ("4", "6") are too common to tell apart from ordinary prose.
    numbers = {rendered(values[key], spec) for key, spec in formats if key in values}
    numbers = {n for n in numbers if len(n) > 1}
    for index, prose in enumerate(markdown(zh)):
        typed = typed_numbers(prose, numbers)
        assert not typed, f"{path.name} markdown cell {index}: {typed} typed instead of glued"


def test_intro_numbers_come_from_glue():
    page = ROOT / "book" / "zh" / "intro.md"
    prose = page.read_text(encoding="utf-8")
    references = GLUE_ROLE.findall(prose)
    assert references, "the Chinese intro quotes the tutorial's numbers through glue"
    numbers = set()
    for doc, key, spec in references:
        values = glued_values(load((page.parent / doc).resolve()))
        assert key in values, f"{doc}::{key} is not glued"
        numbers.add(rendered(values[key], spec))
    assert not typed_numbers(prose, {n for n in numbers if len(n) > 1})


def test_typed_number_check_can_fail():
    assert typed_numbers("教程打印的是 0.5000,代码返回 0.6667。", {"0.5000", "0.6667"}) == [
        "0.5000",
        "0.6667",
    ]
    assert not typed_numbers("代码返回 {glue:text}`bug_mean_actual:.4f`,即 $4/6$。", {"0.6667"})


def test_cheatsheet_has_the_same_calls():
    """The English cheat sheet's calls run in the test suite; the Chinese one shows the same."""

    def calls(page):
        rows = [
            line for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("|")
        ]
        return [s for row in rows for s in re.findall(r"`([^`]+)`", row) if "(" in s[1:]]

    english = calls(ROOT / "book" / "cheatsheet.md")
    assert len(english) >= 15
    assert calls(ROOT / "book" / "zh" / "cheatsheet.md") == english


def test_setup_cells_current_and_outputs_stored():
    for path in ZH_NOTEBOOKS:
        assert sync_notebooks.sync(path, check=True), (
            f"stale set-up cell in notebooks/zh/{path.name}"
        )
        code = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
        assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), path.name
        assert not any(o["output_type"] == "error" for c in code for o in c["outputs"]), path.name


def search_index() -> dict:
    index = SITE / "searchindex.js"
    if not index.exists():
        pytest.skip(f"{index} not found: build the site first (make book)")
    raw = index.read_text(encoding="utf-8")
    return json.loads(raw[raw.index("(") + 1 : raw.rindex(")")])


def pages_found(index: dict, term: str) -> set[str]:
    """The pages the site's search lists for ``term``: body words and title words."""
    hits = set()
    for kind in ("terms", "titleterms"):
        found = index[kind].get(term, [])
        hits.update([found] if isinstance(found, int) else found)
    return {index["docnames"][i] for i in hits}


@pytest.mark.parametrize("query", ["掩码", "均值", "梯度"])
def test_site_search_finds_chinese_terms(query):
    """Sphinx's search splits Chinese only with html_search_language: zh and jieba installed."""
    pages = pages_found(search_index(), query)
    assert pages, (
        f"{query!r} is not in the search index: set html_search_language: zh "
        "(sphinx: config: in _config.yml) and install jieba (requirements.txt)"
    )
    assert "notebooks/zh/02_the_bug" in pages, sorted(pages)


def test_site_search_still_finds_english_terms():
    index = search_index()
    pages = pages_found(index, "mask")
    assert "notebooks/02_the_bug" in pages and "book/intro" in pages, sorted(pages)
    # The browser stems a query with the Porter stemmer ("bias" -> "bia"). Sphinx's
    # Chinese language stems the index's English words with Porter2 ("bias" stays), so
    # such a query would find nothing unless the index is stemmed with Porter as well.
    assert "notebooks/08_nan_padding" in pages_found(index, "bia")
