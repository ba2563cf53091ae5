"""The Chinese pages in Chinese: what the theme and the extensions write on them.

Every page under ``book/zh/`` and ``notebooks/zh/``, opened in Chromium: the
sidebar and table-of-contents buttons, previous/next, the search box, the
footer, the download and launch buttons, exercise and solution titles, figure
labels and the show/hide buttons of code cells are Chinese; the English pages
still say "Contents" and "Exercise 2"; and a Chinese exercise or figure has the
number of its English counterpart (``ex-predict-zh`` and ``ex-predict``).
The built site is ``_build/html`` (see tests/test_site.py, whose fixtures build
it when it is missing and serve it).
"""

from __future__ import annotations

import html.parser
import pathlib
import re
import sys

import pytest
from test_site import SITE, browser, site  # noqa: F401  (fixtures: the built site, Chromium)

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
sys.path.insert(0, str(ROOT / "scripts"))

import plain_jupyter  # noqa: E402
import zh_interface  # noqa: E402

CJK = re.compile(r"[\u4e00-\u9fff]")
ZH_PAGES = [
    path.relative_to(ROOT).with_suffix(".html").as_posix()
    for folder in ("book/zh", "notebooks/zh")
    for path in sorted((ROOT / folder).glob("*.*"))
    if path.suffix in {".md", ".ipynb"}
]
# English the theme or an extension would write on a page; none may show on a Chinese one.
ENGLISH_INTERFACE = re.compile(
    r"\b(Contents|Skip to main content|Back to top|previous|next|Search|By The|Copyright|"
    r"Last updated|Exercise|Solution to|Fig\.|Figure|Show code cell|Hide code cell|"
    r"Click to (show|hide)|Download|Print to PDF|Fullscreen|Suggest edit|Open issue|"
    r"Repository|Launch|Whole book|Version|Toggle|Color mode|Light|Dark|System Settings|"
    r"On this page|Link to this)\b"
)

# The page's interface, as a reader sees and hears it: visible text outside the
# prose and code, and every label (title, aria-label, placeholder). The book's
# navigation lists the English chapters by their titles; those are content.
INTERFACE_SCRIPT = """() => {
  const skip = 'nav.bd-docs-nav, .cell_input, .cell_output, pre, code, .math, mjx-container, '
    + '.widget-subarea, .jupyter-widgets, .navbar-brand';
  const out = [];
  const inSkipped = (el) => el.closest(skip) !== null;
  const labelled = '[title], [aria-label], [placeholder], [data-bs-title], '
    + '[data-bs-original-title]';
  const prose = 'article p, article li, article h1, article h2, article h3';
  for (const el of document.querySelectorAll(labelled)) {
    if (inSkipped(el) || el.closest(prose)) continue;
    const names = ['title', 'aria-label', 'placeholder', 'data-bs-title', 'data-bs-original-title'];
    for (const name of names) {
      const value = el.getAttribute(name);
      if (value) out.push(name + ': ' + value);
    }
  }
  const generated = [
    '.skip-link', '#pst-back-to-top', '.prev-next-area', '.search-button-field',
    '.bd-footer-content', '.bd-footer-article', '.footer-item', '.onthispage',
    '.page-toc .tocsection', '.article-header-buttons', '.caption-number',
    '.admonition-title', 'details.hide summary', '.toggle-button', '.dropdown-menu',
    '.bd-sidebar-secondary .sidebar-secondary-title'
  ];
  for (const selector of generated) {
    for (const el of document.querySelectorAll(selector)) {
      if (inSkipped(el)) continue;
      const text = (el.innerText || el.textContent || '').replace(/\\s+/g, ' ').trim();
      if (text) out.push(selector + ': ' + text);
    }
  }
  return out;
}"""


def label(page, selector: str) -> str:
    """A button's label: Bootstrap moves ``title`` to ``data-bs-original-title`` for its tooltip."""
    return page.eval_on_selector(
        selector,
        "el => el.getAttribute('title') || el.getAttribute('data-bs-original-title')"
        " || el.getAttribute('aria-label') || ''",
    )


def open_page(browser, site, page_path: str, width: int = 1280):  # noqa: F811
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(site + page_path, wait_until="load")
    page.wait_for_timeout(300)  # togglebutton.js adds its buttons after load
    return page


@pytest.mark.parametrize("page_path", ZH_PAGES)
@pytest.mark.parametrize("width", [390, 1280])
def test_chinese_pages_interface_is_chinese(browser, site, page_path, width):  # noqa: F811
    assert (SITE / page_path).exists(), f"{page_path} was not built"
    page = open_page(browser, site, page_path, width)
    try:
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        found = page.evaluate(INTERFACE_SCRIPT)
        english = [item for item in found if ENGLISH_INTERFACE.search(item.split(": ", 1)[1])]
        assert not english, f"{page_path}: English interface text: {english}"
        # The buttons a reader uses on every page carry Chinese labels.
        buttons = (
            ".bd-header-article .primary-toggle",
            ".bd-header .primary-toggle",
            ".theme-switch-button",
        )
        for selector in buttons:
            said = label(page, selector)
            assert CJK.search(said), f"{page_path}: {selector} says {said!r}"
        if page.locator(".bd-header-article .secondary-toggle").count():
            said = label(page, ".bd-header-article .secondary-toggle")
            assert CJK.search(said), f"{page_path}: the contents button says {said!r}"
        assert "跳到正文" in page.text_content(".skip-link")
        if page.locator(".page-toc.onthispage").count():
            assert page.text_content(".page-toc.onthispage").strip() == "目录"
        footer = page.inner_text(".bd-footer-content")
        assert "作者" in footer and "版权所有" in footer and "最后更新于" in footer, footer
        placeholder = page.get_attribute("input[name=q]", "placeholder") or ""
        assert CJK.search(placeholder), placeholder
        for subtitle in page.locator(".prev-next-subtitle").all_inner_texts():
            assert subtitle.strip() in {"上一页", "下一页"}, subtitle
        # Exercises, solutions, figures and hidden cells, where the page has them.
        for title in page.locator(".exercise .caption-number").all_inner_texts():
            assert re.fullmatch(r"练习 \d+", title.strip()), title
        for title in page.locator(".solution > .admonition-title").all_inner_texts():
            assert re.fullmatch(r"练习 \d+.*的答案", title.strip()), title
        for figure in page.locator("figcaption .caption-number").all_inner_texts():
            assert re.fullmatch(r"图 \d+", figure.strip()), figure
        for summary in page.locator("details.hide summary").all_inner_texts():
            assert CJK.search(summary), summary
    finally:
        page.close()


def test_chinese_chapters_have_the_labels_checked_above(browser, site):  # noqa: F811
    """The checks above are not empty: exercises, solutions and figures are there."""
    counts = {"exercise": 0, "solution": 0, "figure": 0}
    for page_path in ZH_PAGES:
        text = (SITE / page_path).read_text(encoding="utf-8")
        counts["exercise"] += len(re.findall(r'caption-number">练习 \d+ ?<', text))
        counts["solution"] += text.count("的答案</p>")
        counts["figure"] += len(re.findall(r'caption-number">图 \d+ ?<', text))
    assert counts["exercise"] >= 3 and counts["solution"] >= 3 and counts["figure"] >= 4, counts


def test_english_pages_stay_english(browser, site):  # noqa: F811
    page = open_page(browser, site, "notebooks/03_why_k_over_n.html")
    try:
        assert page.evaluate("document.documentElement.lang") == "en"
        assert label(page, ".bd-header-article .primary-toggle") == "Toggle primary sidebar"
        assert "Skip to main content" in page.text_content(".skip-link")
        contents = page.text_content(".page-toc.onthispage")
        assert contents.strip() == "Contents", contents
        assert page.locator(".exercise .caption-number").inner_text().strip() == "Exercise 2"
        solution = page.locator(".solution > .admonition-title").inner_text()
        assert solution.startswith("Solution to") and "Exercise 2" in solution, solution
        footer = page.inner_text(".bd-footer-content")
        assert "By The masked-loss authors" in footer and "Last updated on" in footer
        assert not CJK.search(" ".join(page.evaluate(INTERFACE_SCRIPT)))
    finally:
        page.close()
    page = open_page(browser, site, "notebooks/04_training.html")
    try:
        labels = page.locator("figcaption .caption-number").all_inner_texts()
        assert labels and all(re.fullmatch(r"Fig\. \d+", x.strip()) for x in labels), labels
    finally:
        page.close()


class _Numbers(html.parser.HTMLParser):
    """Each numbered element's id and its number ("Exercise 2", "练习 2", "Fig. 3")."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str | None] = []
        self.numbers: dict[str, int] = {}
        self.in_number = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"div", "figure", "table", "section"}:
            self.open.append(attrs.get("id"))
        self.in_number = "caption-number" in (attrs.get("class") or "")

    def handle_endtag(self, tag):
        if tag in {"div", "figure", "table", "section"} and self.open:
            self.open.pop()

    def handle_data(self, data):
        if self.in_number:
            owner = next((i for i in reversed(self.open) if i), None)
            match = re.search(r"(\d+)", data)
            if owner and match:
                self.numbers[owner] = int(match.group(1))
            self.in_number = False


def numbers_in(page_path: str) -> dict[str, int]:
    parser = _Numbers()
    parser.feed((SITE / page_path).read_text(encoding="utf-8"))
    return parser.numbers


def test_chinese_numbers_are_the_english_ones(site):  # noqa: F811
    english: dict[str, int] = {}
    for path in sorted((SITE / "notebooks").glob("*.html")):
        english.update(numbers_in(path.relative_to(SITE).as_posix()))
    chinese: dict[str, int] = {}
    for page_path in ZH_PAGES:
        chinese.update(numbers_in(page_path))
    zh_labels = [label for label in chinese if label.endswith("-zh")]
    assert {"ex-predict-zh", "ex-k-over-n-zh", "ex-denominators-zh"} <= set(zh_labels), chinese
    for label in zh_labels:
        counterpart = label.removesuffix("-zh")
        assert counterpart in english, f"{label}: no English counterpart {counterpart}"
        assert chinese[label] == english[counterpart], (label, chinese[label], english[counterpart])
    # The plain-Jupyter editions number the Chinese exercises the same way.
    converter = plain_jupyter.exercise_numbers(plain_jupyter.chapters("zh"))
    for label, number in converter.items():
        assert chinese[label] == number, (label, chinese[label], number)


def test_chinese_catalog_covers_the_theme_strings():
    """Each interface string the templates and writer ask for has a Chinese entry."""
    catalog = zh_interface.chinese_translator("sphinx")
    for message in (
        "Skip to main content",
        "Back to top",
        "Search",
        "next",
        "previous",
        "Color mode",
        "Light",
        "Dark",
        "System Settings",
        "On this page",
        "Last updated on %(last_updated)s.",
        "© Copyright %(copyright)s.",
        "Link to this heading",
        "Toggle primary sidebar",
        "Toggle secondary sidebar",
        "Note",
        "Warning",
    ):
        assert CJK.search(catalog.gettext(message)), message
    book_theme = zh_interface.chinese_translator("booktheme")
    for message in ("Contents", "By", "Download source file", "Print to PDF", "Suggest edit"):
        assert CJK.search(book_theme.gettext(message)), message
    # myst-nb's default prompt for every kind of hidden cell.
    from myst_nb.core.config import NbParserConfig

    config = NbParserConfig()
    for kind in ("content", "source", "output", "outputs"):
        for prompt in (config.code_prompt_show, config.code_prompt_hide):
            assert prompt.replace("{type}", kind) in zh_interface.CELL_PROMPTS, (prompt, kind)


def test_hidden_cell_buttons_are_translated_on_chinese_pages_only():
    """myst-nb's show/hide prompts, on the doctree as its post-transform leaves them.

    No Chinese chapter hides a cell today, so the browser test above finds no
    such button; this one gives the doctree step a node to translate.
    """
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document
    from myst_nb.sphinx_ import HideCodeCellNode

    def prompts(docname: str) -> tuple[str, str]:
        document = new_document("page", get_default_settings(Parser))
        node = HideCodeCellNode(
            prompt_show="Show code cell content", prompt_hide="Hide code cell content"
        )
        custom = HideCodeCellNode(prompt_show="Run me", prompt_hide="Hide me")
        document += [node, custom]
        zh_interface._chinese_doctree(None, document, docname)
        assert (custom["prompt_show"], custom["prompt_hide"]) == ("Run me", "Hide me")
        return node["prompt_show"], node["prompt_hide"]

    assert prompts("notebooks/zh/02_the_bug") == ("显示代码单元", "隐藏代码单元")
    assert prompts("notebooks/02_the_bug") == ("Show code cell content", "Hide code cell content")
