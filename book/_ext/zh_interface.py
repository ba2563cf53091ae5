"""The Chinese pages in Chinese: the interface the theme and the extensions generate.

The build has one Sphinx ``language`` (English); the pages under ``book/zh/``
and ``notebooks/zh/`` are Chinese. What the site itself writes on a page comes
from three places, and each is switched to Chinese for those pages only:

1. **Message catalogs** (templates and Python code): the theme's templates call
   ``_()`` / ``{% trans %}``, which Sphinx binds to its translator with
   ``templates.environment.install_gettext_translations``; the HTML writer
   (heading links, admonition titles) and sphinx-book-theme's buttons call
   ``sphinx.locale.get_translation(catalog)``, which looks the translator up in
   ``sphinx.locale.translators`` *at call time*. :func:`use_language` swaps both
   for the page being produced: the zh_CN catalogs that Sphinx,
   pydata-sphinx-theme and sphinx-book-theme ship, in front of them our own
   :data:`MESSAGES` for what they leave in English, and the numbered-label
   formats (``numfig_format``: "练习 %s", "图 %s"). The switch happens where a
   page's text is produced: before its references are resolved (a
   post-transform that runs first), before its body is written (around
   ``builder.write_doc``, which in a parallel build runs in the worker that
   writes the page) and before its template is rendered (``html-page-context``,
   which also covers pages that have no source, such as the search page).
2. **The doctree**: sphinx-exercise writes "Solution to" + " Exercise N" into
   the doctree when the pages are read, and myst-nb puts "Show code cell
   content" on its hide/show nodes; these are rewritten on the resolved doctree
   of a Chinese page (``doctree-resolved``), before it is written.
3. **Numbers**: Sphinx numbers figures and exercises once over the whole book,
   so the Chinese chapters (after the English ones) would say "练习 14" where
   the English chapter says "Exercise 2". After Sphinx assigns the numbers
   (``env-get-updated``), each Chinese figure or exercise whose label is its
   English counterpart's plus ``-zh`` takes the counterpart's number; the
   English numbers do not change. scripts/plain_jupyter.py numbers the Chinese
   edition the same way.
"""

from __future__ import annotations

import gettext
import pathlib
import re
from typing import Any

import sphinx
import sphinx.locale
from book_settings import is_chinese
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

ZH_SUFFIX = "-zh"
LOCALE = "zh_CN"
BOOK_TITLE_ZH = "PyTorch 中的掩码损失"
AUTHOR_ZH = "masked-loss 项目作者"

# What the installed catalogs leave in English, or say in another register.
MESSAGES: dict[str, dict[str, str]] = {
    "sphinx": {
        # Sphinx's HTML writer
        "Link to this heading": "链接到此标题",
        "Link to this image": "链接到此图片",
        "Link to this code": "链接到此代码",
        "Link to this table": "链接到此表格",
        "Link to this definition": "链接到此定义",
        "Link to this equation": "链接到此公式",
        # pydata-sphinx-theme's templates
        "Skip to main content": "跳到正文",
        "Back to top": "回到顶部",
        "next": "下一页",
        "previous": "上一页",
        "next page": "下一页",
        "previous page": "上一页",
        "Color mode": "颜色模式",
        "Light": "浅色",
        "Dark": "深色",
        "System Settings": "跟随系统",
        "Site navigation": "全站导航",
        "Section Navigation": "本节导航",
        "On this page": "本页内容",
        "Breadcrumb": "导航路径",
        "Home": "首页",
        "Last updated on %(last_updated)s.": "最后更新于 %(last_updated)s。",
        "© Copyright %(copyright)s.": "© 版权所有 %(copyright)s。",
        "Copyright %(copyright)s": "版权所有 %(copyright)s",
        # book/_templates: the theme writes these two without a catalog
        "Toggle primary sidebar": "显示或隐藏目录栏",
        "Toggle secondary sidebar": "显示或隐藏本页目录",
    },
    "booktheme": {
        "Contents": "目录",
        "By": "作者:",
        "By the": "作者:",
        "Search": "搜索",
        "Download this page": "下载本页",
        "Download source file": "下载源文件",
        "Download notebook file": "下载笔记本文件",
        "Print to PDF": "打印为 PDF",
        "Fullscreen mode": "全屏模式",
        "Launch interactive content": "在线运行",
        "Source repositories": "源代码仓库",
        "Source repository": "源代码仓库",
        "Repository": "仓库",
        "Suggest edit": "建议修改",
        "Edit this page": "编辑此页",
        "Open issue": "报告问题",
        "Open an issue": "报告问题",
        "Last updated on": "最后更新于",
        "Copyright": "版权所有",
    },
}
# Figure, table, code and exercise labels ("Fig. %s" -> "图 %s").
NUMFIG_FORMAT = {
    "figure": "图 %s",
    "table": "表 %s",
    "code-block": "代码 %s",
    "exercise": "练习 %s",
}
# myst-nb's default hide/show prompts ("Show code cell {type}" with each {type}).
CELL_PROMPTS = {
    "Show code cell content": "显示代码单元",
    "Hide code cell content": "隐藏代码单元",
    "Show code cell source": "显示代码",
    "Hide code cell source": "隐藏代码",
    "Show code cell output": "显示输出",
    "Hide code cell output": "隐藏输出",
    "Show code cell outputs": "显示输出",
    "Hide code cell outputs": "隐藏输出",
}
# Strings written straight into the HTML, without a catalog (replaced in book_settings._finish).
HTML_STRINGS = {
    'aria-label="Toggle hidden content"': 'aria-label="显示或隐藏内容"',
    'bd-docs-nav" aria-label="Main"': 'bd-docs-nav" aria-label="全书目录"',
    '<nav aria-label="Page">': '<nav aria-label="本页">',
    "let toggleHintShow = 'Click to show';": "let toggleHintShow = '点击显示';",
    "let toggleHintHide = 'Click to hide';": "let toggleHintHide = '点击隐藏';",
}
CATALOG_KEYS = {"sphinx": ("general", "sphinx"), "booktheme": ("general", "booktheme")}


class _Messages(gettext.NullTranslations):
    """A small catalog in front of the installed ones (their fallback)."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self._messages = messages

    def gettext(self, message: str) -> str:
        if message in self._messages:
            return self._messages[message]
        return super().gettext(message)


def _installed(catalog: str) -> list[pathlib.Path]:
    """The locale folders of the packages that ship ``catalog``, in precedence order."""
    if catalog == "sphinx":
        import pydata_sphinx_theme

        return [
            pathlib.Path(sphinx.locale.__file__).parent,
            pathlib.Path(pydata_sphinx_theme.__file__).parent / "locale",
        ]
    import sphinx_book_theme

    return [
        pathlib.Path(sphinx_book_theme.__file__).parent / "theme/sphinx_book_theme/static/locales"
    ]


def chinese_translator(catalog: str) -> gettext.NullTranslations:
    """Our messages, then each installed zh_CN (or zh) catalog of ``catalog``."""
    chain: gettext.NullTranslations = _Messages(MESSAGES[catalog])
    for folder in _installed(catalog):
        found = gettext.translation(catalog, folder, languages=[LOCALE], fallback=True)
        if type(found) is not gettext.NullTranslations:
            chain.add_fallback(found)
    return chain


class _State:
    def __init__(self, app: Sphinx) -> None:
        self.english = {key: sphinx.locale.translators.get(key) for key in CATALOG_KEYS.values()}
        self.chinese = {key: chinese_translator(name) for name, key in CATALOG_KEYS.items()}
        self.numfig_english = dict(app.config.numfig_format)
        self.language = "en"


_STATE: dict[int, _State] = {}


def use_language(app: Sphinx, chinese: bool) -> None:
    """Make the catalogs, template gettext and label formats those of one language."""
    state = _STATE.get(id(app))
    language = "zh" if chinese else "en"
    if state is None or state.language == language:
        return
    state.language = language
    translators = state.chinese if chinese else state.english
    for key, translator in translators.items():
        if translator is None:
            sphinx.locale.translators.pop(key, None)
        else:
            sphinx.locale.translators[key] = translator
    templates = getattr(app.builder, "templates", None)
    environment = getattr(templates, "environment", None)
    if environment is not None and hasattr(environment, "install_gettext_translations"):
        environment.install_gettext_translations(translators[CATALOG_KEYS["sphinx"]])
    formats = dict(state.numfig_english)
    if chinese:
        formats.update({key: value for key, value in NUMFIG_FORMAT.items() if key in formats})
    app.config.numfig_format = formats


class _PageLanguage(SphinxPostTransform):
    """The page's language, before any of its references are resolved ("练习 2", "图 3")."""

    default_priority = 1

    def run(self, **kwargs: Any) -> None:
        use_language(self.app, is_chinese(self.env.docname))


def _builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    _STATE[id(app)] = _State(app)
    write_doc = app.builder.write_doc

    def write_in_language(docname: str, doctree: nodes.document) -> None:
        use_language(app, is_chinese(docname))
        write_doc(docname, doctree)

    app.builder.write_doc = write_in_language  # type: ignore[method-assign]


def _page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    use_language(app, is_chinese(pagename))


def _finished(app: Sphinx, exception: Exception | None) -> None:
    use_language(app, False)
    _STATE.pop(id(app), None)


def _counterparts(app: Sphinx, env: Any) -> list[str]:
    """Each Chinese figure or exercise numbered as its English counterpart (label minus -zh)."""
    english: dict[tuple[str, str], tuple[int, ...]] = {}
    for docname, figtypes in env.toc_fignumbers.items():
        if is_chinese(docname):
            continue
        for figtype, numbers in figtypes.items():
            for figure_id, number in numbers.items():
                english[(figtype, figure_id)] = number
    changed = []
    for docname, figtypes in env.toc_fignumbers.items():
        if not is_chinese(docname):
            continue
        for figtype, numbers in figtypes.items():
            for figure_id in numbers:
                counterpart = english.get((figtype, figure_id.removesuffix(ZH_SUFFIX)))
                if (
                    figure_id.endswith(ZH_SUFFIX)
                    and counterpart
                    and counterpart != numbers[figure_id]
                ):
                    numbers[figure_id] = counterpart
                    changed.append(docname)
    return sorted(set(changed))


def _chinese_doctree(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Labels that sphinx-exercise and myst-nb put into the doctree, in Chinese."""
    if not is_chinese(docname):
        return
    from sphinx_exercise.nodes import exercise_enumerable_node, solution_node

    for node in doctree.findall(exercise_enumerable_node):
        _full_width_brackets(node.children[0] if node.children else None)
    for node in doctree.findall(solution_node):
        title = node.children[0] if node.children else None
        if not isinstance(title, nodes.title):
            continue
        reference = next(iter(title.findall(nodes.reference)), None)
        if reference is None or not reference.children:
            continue
        first = reference.children[0]
        match = re.fullmatch(r"\s*\S+\s+(\d[\d.]*)", first.astext())
        if not isinstance(first, nodes.Text) or not match:
            continue
        reference.replace(first, nodes.Text(NUMFIG_FORMAT["exercise"] % match.group(1)))
        _full_width_brackets(reference)
        title.children = []
        title += reference
        # No space after a full-width bracket: it would show between two Chinese words.
        title += nodes.Text("的答案" if reference.astext().endswith("）") else " 的答案")
        node["title"] = title.astext()
    for node in doctree.findall(nodes.Element):
        for key in ("prompt_show", "prompt_hide"):
            if node.get(key) in CELL_PROMPTS:
                node[key] = CELL_PROMPTS[node[key]]


def _full_width_brackets(element: Any) -> None:
    """The brackets around sphinx-exercise's subtitle, full width as Chinese writes them."""
    if element is None:
        return
    brackets = {" (": "\uff08", ")": "\uff09"}
    for child in list(element.children):
        if isinstance(child, nodes.Text) and child.astext() in brackets:
            element.replace(child, nodes.Text(brackets[child.astext()]))


def chinese_html(text: str) -> str:
    """The strings the extensions write straight into a Chinese page's HTML."""
    for english, chinese in HTML_STRINGS.items():
        text = text.replace(english, chinese)
    # The writer ends a label with a space ("练习 2 "); a full-width bracket has its own.
    return CAPTION_BEFORE_BRACKET.sub(r"\1\2", text)


CAPTION_BEFORE_BRACKET = re.compile(r'(<span class="caption-number">[^<]*?) (</span>\uff08)')


def setup(app: Sphinx) -> None:
    app.add_post_transform(_PageLanguage)
    app.connect("builder-inited", _builder_inited)
    # After the theme registered its catalogs (builder-inited) and before the
    # theme's own html-page-context handlers (priority 500) compute their labels.
    app.connect("html-page-context", _page_context, priority=1)
    app.connect("env-get-updated", _counterparts, priority=900)
    app.connect("doctree-resolved", _chinese_doctree)
    app.connect("build-finished", _finished, priority=1)
