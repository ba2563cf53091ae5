"""The Chinese edition (中文版): same code as its English twins, linked both ways, searchable.

Each page under ``notebooks/zh/`` and ``book/zh/`` translates the English page
of the same name. These tests keep the pair honest: the same code, token for
token, with only comments and string literals translated (plus the one
``use_language("zh")`` line of the import cell); Chinese comments, printed
labels, check messages and figure text; the wordings Chinese readers expect;
language links in both directions, the same glued numbers and no number typed
by hand in their place, the cheat sheet's calls unchanged, and (once the site
is built) a Chinese term in Sphinx's search index. nbval re-executes the
Chinese notebooks like every other one.
"""

from __future__ import annotations

import ast
import io
import json
import os
import pathlib
import re
import sys
import tokenize

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


# The one line a Chinese chapter adds to its import cell (it sets the helpers' language),
# and its import.
USE_LANGUAGE_CALL = 'use_language("zh")'
USE_LANGUAGE_IMPORT = "from masked_loss.teaching import use_language"
STRING = "<string>"
PRAGMA = re.compile(r"#\s*(noqa\b|type:|fmt:|pragma\b|@title\b|@param\b)")


def tokens(source: str) -> list[tuple[int, str]]:
    """Python tokens of a code cell (IPython magics as plain operators)."""
    return [
        (tok.type, tok.string)
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type != tokenize.ENDMARKER
    ]


def skeleton(source: str) -> list[str]:
    """A cell's code with comments dropped and every string literal a placeholder.

    Adjacent literals ("a" "b") count as one, an f-string (one token before Python
    3.12, several after) as one; the keys passed to ``glue`` stay as written, since
    the pages name them.
    """
    out: list[str] = []
    depth = 0  # inside an f-string (Python >= 3.12 splits it into parts)
    for kind, string in tokens(source):
        name = tokenize.tok_name[kind]
        if name == "FSTRING_START":
            depth += 1
            if depth == 1 and (not out or out[-1] != STRING):
                out.append(STRING)
            continue
        if depth:
            depth -= name == "FSTRING_END"
            continue
        if kind in (tokenize.COMMENT, tokenize.NL):
            continue
        if kind == tokenize.STRING:
            if out[-2:] == ["glue", "("]:
                out.append(string)
            elif not out or out[-1] != STRING:
                out.append(STRING)
            continue
        # Where a line ends and how deep it is indented is layout, not code.
        out.append(f"<{name}>" if name in ("NEWLINE", "INDENT", "DEDENT") else string)
    return out


def import_cell_index(nb: dict) -> int:
    """The code cell right after the set-up cell."""
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    setup = [i for i, c in enumerate(code) if "setup" in c["metadata"].get("tags", [])]
    return setup[0] + 1 if setup else 0


def without_use_language(source: str) -> str:
    """The import cell of a Chinese chapter less the two lines that set the helpers' language."""
    lines = source.rstrip("\n").split("\n")
    call = lines.pop()
    assert call.split("#")[0].strip() == USE_LANGUAGE_CALL, (
        f"the import cell does not end with {USE_LANGUAGE_CALL}: {call!r}"
    )
    assert USE_LANGUAGE_IMPORT in lines, f"the import cell lacks {USE_LANGUAGE_IMPORT!r}"
    lines.remove(USE_LANGUAGE_IMPORT)
    return "\n".join(lines) + "\n"


def test_code_cells_are_the_english_code(pair):
    """Same code, token for token: only comments and string literals are translated."""
    path, zh, en = pair
    code = [[c for c in nb["cells"] if c["cell_type"] == "code"] for nb in (zh, en)]
    assert len(code[0]) == len(code[1]), f"{path.name}: not as many code cells as the English one"
    first = import_cell_index(zh)
    for index, (ours, theirs) in enumerate(zip(*code, strict=True)):
        assert ours["metadata"].get("tags", []) == theirs["metadata"].get("tags", []), (
            f"{path.name}: code cell {index} has other tags than the English one"
        )
        source = text(ours)
        if index == first:
            source = without_use_language(source)
        assert skeleton(source) == skeleton(text(theirs)), (
            f"{path.name}: code cell {index} differs from the English twin "
            "beyond comments and string literals"
        )


def test_code_comparison_can_fail():
    english = 'print(f"{n:7} rows")  # rows\nglue("k", n)\n'
    assert skeleton('print(f"{n:7} 行")  # 行数\nglue("k", n)\n') == skeleton(english)
    assert skeleton('print(f"{n:7} 行")\nglue("k", m)\n') != skeleton(english)
    assert skeleton('print(f"{n:7} 行")\nglue("键", n)\n') != skeleton(english)
    assert skeleton('print("a" "b", 1)') == skeleton('print("ab", 1)')
    assert skeleton('print("a", 2)') != skeleton('print("a", 1)')
    cell = f"import torch\n{USE_LANGUAGE_IMPORT}\n\n{USE_LANGUAGE_CALL}  # 中文\n"
    assert without_use_language(cell) == "import torch\n\n"
    with pytest.raises(AssertionError, match="does not end with"):
        without_use_language("import torch\n")


def comments(source: str) -> list[str]:
    return [string for kind, string in tokens(source) if kind == tokenize.COMMENT]


def test_code_comments_are_chinese(pair):
    """Every comment a reader of a Chinese chapter meets is Chinese (pragmas aside).

    The set-up cell is generated for every notebook by scripts/sync_notebooks.py.
    """
    path, zh, _ = pair
    for index, cell in enumerate(c for c in zh["cells"] if c["cell_type"] == "code"):
        if "setup" in cell["metadata"].get("tags", []):
            continue
        for comment in comments(text(cell)):
            if not CJK.search(comment) and not PRAGMA.match(comment):
                pytest.fail(f"{path.name} code cell {index}: English comment {comment!r}")


# Three English words in a row, outside reprs, tensors and Python source.
ENGLISH_PHRASE = re.compile(r"\b[A-Za-z]{2,}\b(?: +\b[A-Za-z]+\b){2}")
NOT_LABELS = re.compile(
    r"tensor\((?:[^()]|\([^()]*\))*\)|<[^<>]*>|\b[A-Z]\w*\((?:[^()]|\([^()]*\))*\)$"
)


def stored_texts(nb: dict) -> list[tuple[int, str]]:
    """The text a reader of the page sees under each code cell (stream, text/plain)."""
    texts = []
    for index, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        if "inspect.getsource" in text(cell):
            continue  # prints the package's source code, which is English
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                texts.append((index, "".join(out["text"])))
            elif "text/plain" in out.get("data", {}) and GLUE_MIME not in out["data"]:
                texts.append((index, "".join(out["data"]["text/plain"])))
    return texts


def english_phrases(output: str) -> list[str]:
    bare = "\n".join(NOT_LABELS.sub(" ", line) for line in output.splitlines())
    return ENGLISH_PHRASE.findall(bare)


def test_printed_labels_are_chinese(pair):
    """Printed labels and check messages are Chinese; numbers, tensors and reprs are not text."""
    path, zh, _ = pair
    found = [(i, p) for i, output in stored_texts(zh) for p in english_phrases(output)]
    assert not found, f"{path.name}: English in stored outputs (code cell, phrase): {found}"


def test_english_phrase_check_can_fail():
    assert english_phrases("SGD  naive  loss after 10 steps 0.6725")
    assert english_phrases("✗ Not yet: fill in both numbers") == ["fill in both"]
    assert not english_phrases("SGD 朴素损失 10 步后 0.6725")
    assert not english_phrases("tensor([[1., 0., 1.],\n        [0., 1., 1.]])")
    assert not english_phrases("<Figure size 460x340 with 1 Axes>")
    assert not english_phrases("MaskExplorer(2x3, reduction='mean')")


# Wordings the Chinese pages do not use (issue 18), with what they say instead.
BANNED = {
    r"小了[^。;\n]{0,40}倍": "a factor below 1: 只有正确值的 k/N",
    r"差了[^。;\n]{0,40}倍": "say what the value is: 是正确值的 k_b/N_b",
    r"掩掉": "被屏蔽(掩码为 0)的元素",
    r"最清楚的看法": "translationese",
    r"朴素运行": "translationese: 用朴素损失的训练",
    r"滑动估计": "translationese: 滑动平均",
    r"(?<!时间)步掩码": "时间步掩码",
}


def chinese_text(nb: dict) -> str:
    """Everything a Chinese chapter says in prose: markdown, captions and alt text."""
    parts = markdown(nb)
    for cell in nb["cells"]:
        mystnb = cell["metadata"].get("mystnb", {})
        parts.append(mystnb.get("figure", {}).get("caption", ""))
        parts.append(mystnb.get("image", {}).get("alt", ""))
    return "\n".join(parts)


ZH_TEXTS = {p.name: p for p in [*ZH_NOTEBOOKS, *ZH_PAGES]}


def page_text(path: pathlib.Path) -> str:
    return chinese_text(load(path)) if path.suffix == ".ipynb" else path.read_text("utf-8")


INLINE_CODE = re.compile(r"`[^`\n]+`|\{[\w:-]+\}`[^`]*`|\]\([^)]*\)|^\[[^\]]+\]:.*$", re.MULTILINE)


def without_code_blocks(text: str) -> str:
    """Markdown less its code blocks; directives (admonitions...) are prose and stay."""
    kept, directives, code = [], 0, False
    for line in text.split("\n"):
        fence = line.strip()
        if code:
            code = fence != "```"
        elif fence.startswith("```{"):
            directives += 1
        elif fence == "```" and directives:
            directives -= 1
        elif fence.startswith("```"):
            code = True
        else:
            kept.append(line)
    return "\n".join(kept)


@pytest.mark.parametrize("name", sorted(ZH_TEXTS))
def test_wording(name):
    prose = page_text(ZH_TEXTS[name])
    for pattern, instead in BANNED.items():
        found = re.findall(pattern, prose)
        assert not found, f"{name}: {found} ({instead})"
    # batch is 批次 (the English word at most once per page, introduced as 批次(batch)).
    english_batch = re.findall(r"batch(?!_)", INLINE_CODE.sub(" ", without_code_blocks(prose)))
    assert len(english_batch) <= 1, f"{name}: 'batch' in the prose {len(english_batch)} times"
    if english_batch:
        assert "批次(batch)" in prose, f"{name}: 'batch' without 批次(batch)"


def test_wording_check_can_fail():
    page = "```{admonition} 小结\n每个 batch\n```\n\n```python\nbatch = 1\n```\n在 `batch_size` 里"
    assert without_code_blocks(page) == "每个 batch\n\n在 `batch_size` 里"
    banned = [re.compile(pattern) for pattern in BANNED]
    assert banned[0].search("梯度都小了 $k/N$ 倍。")
    assert banned[-1].search("一个步掩码") and not banned[-1].search("一个时间步掩码")


FIGURE_TEXT = {"set_title", "set_xlabel", "set_ylabel", "suptitle", "text", "annotate", "label"}
MATH = re.compile(r"\$[^$]*\$")


def figure_strings(source: str) -> list[str]:
    """The literal text a cell gives a figure: titles, axis labels, legend entries."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        values = [k.value for k in node.keywords if k.arg == "label"]
        if name in FIGURE_TEXT:
            values += node.args
        for value in values:
            parts = value.values if isinstance(value, ast.JoinedStr) else [value]
            found += [
                p.value for p in parts if isinstance(p, ast.Constant) and isinstance(p.value, str)
            ]
    return found


def needs_chinese(literal: str) -> bool:
    """Whether a figure string has words in it (not just symbols, math or a name)."""
    return bool(re.search(r"[A-Za-z]{2,}", MATH.sub(" ", literal))) and not CJK.search(literal)


def test_figure_text_is_chinese(pair):
    path, zh, _ = pair
    for index, cell in enumerate(c for c in zh["cells"] if c["cell_type"] == "code"):
        if not any("image/png" in out.get("data", {}) for out in cell.get("outputs", [])):
            continue
        english = [s for s in figure_strings(text(cell)) if needs_chinese(s)]
        assert not english, f"{path.name} code cell {index}: English figure text {english}"


def test_figure_text_check_can_fail():
    cell = 'ax.plot(x, y, label="naive")\nlabel(ax, "标题", "步数", r"loss $k/N$")\n'
    assert [s for s in figure_strings(cell) if needs_chinese(s)] == ["naive", "loss $k/N$"]
    assert not needs_chinese("y = k/N") and not needs_chinese(r"$\times\,\bar{k}$")


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


# --- Spaces between Chinese words: a line break or space between two stretches of Chinese text
# renders as a space in the browser (Chromium keeps it), so the Chinese prose has none.
HAN = "\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef\u201c\u201d"
ROLE_ZH = (
    r"\{(?:numref|ref)\}`[^`]*`"
    r"|\{doc\}`[^`<]*[" + HAN + r"][^`<]*<[^`>]*>`"
    r"|\{doc\}`(?:(?!\.\./)[^`<]*|[^`<]*/zh/[^`<]*)`"
)
LETTER = "\u3400-\u9fff\uf900-\ufaff"
# Closing emphasis counts only after a letter: after punctuation, CommonMark would not
# close it once the space is gone.
END = r"(?:[" + LETTER + r"]\*+|[" + HAN + r"][,;:.!?)]?|" + ROLE_ZH + r")"
START = r"(?:\**[" + HAN + r"]|" + ROLE_ZH + r")"
ZH_BLOCK = re.compile(
    r"^\s*(?:$|#|[-*+] |\d+\. |\||>|`{3,}|~{3,}|:{3,}|\$\$|:[\w-]+:|\(\w[\w-]*\)=)"
)
ZH_FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})(\{[\w:-]+\})?")


def prose_lines(text):
    """(index, line) of every line outside code blocks and maths blocks."""
    stack = []
    lines = text.split("\n")
    math = False
    out = []
    for i, line in enumerate(lines):
        m = ZH_FENCE.match(line)
        in_code = any(kind == "code" for kind, _ in stack)
        if m and not math:
            fence, directive = m.group(1), m.group(2)
            rest = line[m.end() :].strip()
            if directive and not in_code:
                stack.append(("dir", fence))
            elif stack and stack[-1][1] == fence and not rest:
                stack.pop()
            elif not in_code:
                stack.append(("code", fence))
            continue
        if line.strip() == "$$":
            math = not math
            continue
        if in_code or math:
            continue
        out.append((i, line))
    return lines, out


def chinese_gaps(text):
    """(line index, column, gap) of each space or line break between two stretches of Chinese."""
    lines, prose = prose_lines(text)
    found = []
    indexes = {i for i, _ in prose}
    for i, line in prose:
        if (
            line.lstrip().startswith("|")
            or ZH_BLOCK.match(line)
            and re.match(r"^\s*(#|:[\w-]+:|\(\w)", line)
        ):
            continue
        for m in re.finditer(r"(?:" + END + r")( +)(?=" + START + r")", line):
            found.append((i, m.start(1), m.group(1)))
        if i + 1 in indexes:
            nxt = lines[i + 1]
            if (
                not ZH_BLOCK.match(nxt)
                and re.search(END + r"$", line.rstrip())
                and re.match(START, nxt.lstrip())
            ):
                found.append((i, len(line.rstrip()), "\n"))
    return found


def prose_sources() -> list[tuple[str, str]]:
    sources = [(p.name, p.read_text(encoding="utf-8")) for p in ZH_PAGES]
    for path in ZH_NOTEBOOKS:
        sources += [
            (f"{path.name} cell {i}", text(c))
            for i, c in enumerate(load(path)["cells"])
            if c["cell_type"] == "markdown"
        ]
    return sources


def test_no_space_between_chinese_words():
    found = []
    for where, prose in prose_sources():
        lines = prose.split("\n")
        for i, column, gap in chinese_gaps(prose):
            found.append(f"{where}: {lines[i][max(0, column - 12) : column + 12]!r} ({gap!r})")
    assert not found, "a space would show between Chinese words:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("prose", "found"),
    [
        ("掩码均值必须\n**同时**改变两者", 1),
        ("那就是 {doc}`第 10 章 <../10_sample_vs_token>`", 1),
        ("即 {numref}`fig-x` 那张图", 2),
        ("见\n{doc}`../../notebooks/zh/03_why_k_over_n`", 1),
        ("**用时:** 约 5 分钟", 0),  # the space keeps the bold closed
        ("见 {doc}`../06_shapes`(英文)", 0),  # an English title
        ("```python\n# 中文\n# 注释\n```", 0),  # code
        ("走了 {glue:text}`n` 步", 0),
    ],
)
def test_space_check_can_fail(prose, found):
    assert len(chinese_gaps(prose)) == found
