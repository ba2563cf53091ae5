"""Build-time settings that a static _config.yml cannot express.

- the release: the package version (``masked_loss/__init__.py``, the single
  source) gives the footer's version, the git tag ``v<version>`` that the
  Colab links open, and (scripts/sync_notebooks.py) the tag the set-up cell
  installs;
- reader features: a page title without the site name twice, a meta
  description and social-preview tags, a last-updated date from git, a
  dark-mode logo, a 404 page, a link to the whole-book PDF;
- page weight and phones: the theme's 1.5 MB icon script is dropped (its
  stylesheet already draws the icons with a web font), formulas are rendered
  to SVG at build time (no MathJax in the browser), and ``site.css`` /
  ``site.js`` repair the theme's small-screen navigation and clipped output;
- the Chinese pages in Chinese throughout (book/_ext/zh_interface.py): the
  theme's interface, the generated labels ("练习 2", "图 3", the show/hide
  buttons) and exercise and figure numbers equal to the English chapter's.
"""

from __future__ import annotations

import datetime
import functools
import html
import json
import pathlib
import posixpath
import re
import shutil
import subprocess
import urllib.parse
from typing import Any

import snowballstemmer
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.search.zh import SearchChinese
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = pathlib.Path(__file__).resolve().parents[2]
PDF_NAME = "masked-losses-in-pytorch.pdf"
DESCRIPTION = (
    "Masked losses in PyTorch: why F.mse_loss(pred * mask, target * mask) is wrong, and "
    "correct, NaN-safe masked means for padded sequences, missing values and ignored pixels."
)
SOCIAL_IMAGE = "social-card.png"
EDIT_BRANCH = "main"


def package_version() -> str:
    """``__version__`` from masked_loss/__init__.py, read without importing torch."""
    init = (ROOT / "masked_loss" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', init, re.MULTILINE)
    if not match:
        raise RuntimeError("masked_loss/__init__.py has no __version__")
    return match.group(1)


def release_ref() -> str:
    """The git tag of this release: what the Colab links open and the set-up cell installs."""
    return f"v{package_version()}"


COLAB = "https://colab.research.google.com"


def colab_link(repository_url: str, pagename: str) -> str | None:
    """The Colab link of a chapter page: its plain-Jupyter edition at the release tag.

    ``make colab`` (scripts/plain_jupyter.py) writes ``colab/<chapter>.ipynb``
    and ``colab/zh/<chapter>.ipynb`` from ``notebooks/``: the chapters as Colab
    renders them, numbers filled in. None for a page that is not a chapter.
    """
    if not pagename.startswith("notebooks/"):
        return None
    owner, name = repository_url.rstrip("/").split("/")[-2:]
    chapter = pagename.removeprefix("notebooks/")
    return f"{COLAB}/github/{owner}/{name}/blob/{release_ref()}/colab/{chapter}.ipynb"


def site_url(repository_url: str) -> str:
    """Where GitHub Pages publishes the repository's site."""
    owner, name = repository_url.rstrip("/").split("/")[-2:]
    return f"https://{owner.lower()}.github.io/{name}/"


def is_chinese(pagename: str) -> bool:
    return pagename.startswith(("book/zh/", "notebooks/zh/"))


def _target_page(pagename: str, link: str) -> str:
    """The page name a relative link from ``pagename`` points at."""
    path = urllib.parse.urlsplit(link).path
    base = pagename.rsplit("/", 1)[0] + "/" if "/" in pagename else ""
    target = posixpath.normpath(base + path)
    return target[: -len(".html")] if target.endswith(".html") else target


def _configure(app: Sphinx, config: Config) -> None:
    # The footer shows the year the site was built.
    config.copyright = f"{datetime.date.today().year}, {config.author}"
    version = package_version()
    config.version = config.release = version
    options = dict(config.html_theme_options or {})
    # "Edit this page" opens the branch (_config.yml), the other links the release.
    global EDIT_BRANCH
    EDIT_BRANCH = options.get("repository_branch") or "main"
    options["repository_branch"] = release_ref()
    options["logo"] = {
        **options.get("logo", {}),
        "image_light": "book/images/logo.svg",
        "image_dark": "book/site_assets/logo-dark.svg",
        "alt_text": "Masked losses in PyTorch - Home",
    }
    config.html_theme_options = options
    repository = options.get("repository_url", "")
    if repository and not config.html_baseurl:
        config.html_baseurl = site_url(repository)
    config.html_last_updated_fmt = "%Y-%m-%d"
    templates = str(ROOT / "book" / "_templates")
    # First: the themes add their component folders to templates_path, and
    # book/_templates overrides two of their components (the sidebar toggles).
    if templates not in config.templates_path:
        config.templates_path = [templates, *config.templates_path]
    config.html_additional_pages = {**config.html_additional_pages, "404": "404.html"}


@functools.cache
def _git_date(path: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "log", "-1", "--format=%cs", "--", path],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip() or None


def _description(doctree: Any) -> str:
    """The page's first paragraph of prose, shortened, or the book's description."""
    if doctree is None:
        return DESCRIPTION
    from docutils import nodes

    for paragraph in doctree.findall(nodes.paragraph):
        if paragraph.next_node(nodes.Invisible) is not None:
            continue
        parent = paragraph.parent
        if isinstance(parent, nodes.container | nodes.admonition | nodes.footnote):
            continue
        text = " ".join(paragraph.astext().split())
        if len(text) >= 60:
            return text if len(text) <= 200 else text[:197].rsplit(" ", 1)[0] + "…"
    return DESCRIPTION


def _page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    # Jupyter Book always loads sphinx-thebe, whose inline set-up script ends up
    # on the page twice (a redeclaration error) and names a CDN. The book
    # launches notebooks on Colab instead, so the pages carry none of it.
    # MathJax is not needed in the browser either: formulas are SVG already.
    # (Only MathJax's *script* goes: mathjax-svg.css hides the formulas' assistive
    # copy, without which every formula reads twice.)
    def dropped(asset: Any, key: str) -> bool:
        body = getattr(asset, "attributes", {}).get("body", "")
        name = str(getattr(asset, "filename", asset) or "")
        if "thebe" in name or "THEBE" in body:
            return True
        return key == "script_files" and "mathjax" in name.lower()

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not dropped(asset, key)]
    chinese = is_chinese(pagename)
    if chinese:
        context["language"] = "zh-CN"  # <html lang>: CJK fonts (zh.css) and screen readers
    # Next/previous stay within the page's language: the last English page does not
    # lead into the Chinese introduction, nor the reverse.
    for key in ("prev", "next"):
        link = context.get(key)
        if link and is_chinese(_target_page(pagename, link.get("link", ""))) != chinese:
            context[key] = None

    config = app.config
    site_name = config.html_title or config.project
    title = context.get("title") or ""
    if pagename == "404":
        context["title"] = title = "Page not found"
    # The home page's title is the site's name: say it once.
    # (The template appends " — <docstitle>" to every title; an empty one appends nothing.)
    own_name = pagename == config.root_doc or html.unescape(title).strip() == site_name
    if own_name:
        context["docstitle"] = ""
    pathto = context["pathto"]
    # The 404 page restores the site's root from this path (see _templates/404.html).
    context["site_root_path"] = urllib.parse.urlsplit(config.html_baseurl).path or "/"
    source = context.get("sourcename") or ""
    for suffix in (".ipynb", ".md"):
        candidate = ROOT / (pagename + suffix)
        if candidate.exists():
            source = candidate.relative_to(ROOT).as_posix()
            break
    updated = _git_date(source) if source else None
    context["last_updated"] = updated or datetime.date.today().isoformat()

    description = _description(doctree)
    page_url = config.html_baseurl + (pagename + ".html" if pagename != "404" else "")
    image_url = config.html_baseurl + "_static/" + SOCIAL_IMAGE
    page_title = html.unescape(re.sub("<[^>]+>", "", context.get("title") or ""))
    if not own_name:
        page_title += f" — {site_name}"
    tags = {
        ("name", "description"): description,
        ("property", "og:title"): page_title,
        ("property", "og:description"): description,
        ("property", "og:type"): "article" if pagename != config.root_doc else "website",
        ("property", "og:url"): page_url,
        ("property", "og:site_name"): site_name,
        ("property", "og:image"): image_url,
        ("property", "og:image:alt"): "Masked losses in PyTorch: a grid of valid and masked cells",
        ("name", "twitter:card"): "summary_large_image",
    }
    context["metatags"] = context.get("metatags", "") + "".join(
        f'\n<meta {kind}="{key}" content="{html.escape(value, quote=True)}" />'
        for (kind, key), value in tags.items()
    )
    pdf = pathto(PDF_NAME, 1)
    if chinese:
        _chinese_context(context, config.version, pdf)
    else:
        context["theme_extra_footer"] = (context.get("theme_extra_footer") or "") + (
            f'<p class="book-release">Version {html.escape(config.version)} · '
            f'<a href="{pdf}">the whole book as a PDF</a></p>'
        )
    # The Colab button opens the chapter's plain-Jupyter edition, not the MyST source.
    colab = colab_link(config.html_theme_options.get("repository_url", ""), pagename)
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if group.get("label") == "launch-buttons" else []:
            if button.get("text") == "Colab" and colab:
                button["url"] = colab
    # The download menu offers the whole book next to this page's files.
    for button in context.get("header_buttons", []):
        for item in button.get("buttons", []) if isinstance(button.get("buttons"), list) else []:
            url = item.get("url", "")
            if "/edit/" in url:
                item["url"] = url.replace(f"/edit/{release_ref()}/", f"/edit/{EDIT_BRANCH}/")
        if button.get("label") == "download-buttons":
            button["buttons"].append(
                {
                    "type": "link",
                    "url": pdf,
                    "text": "全书 (.pdf)" if chinese else "Whole book (.pdf)",
                    "tooltip": "下载全书 PDF" if chinese else "Download the whole book as a PDF",
                    "icon": "fas fa-book",
                    "label": "download-book-pdf-button",
                }
            )
        if chinese and button.get("label") == "launch-buttons":
            for item in button.get("buttons", []):
                if item.get("text") == "Colab":
                    item["tooltip"] = "在 Colab 中打开"


def _chinese_context(context: dict[str, Any], version: str, pdf: str) -> None:
    """A Chinese page's own words where the theme takes them from the configuration."""
    context["theme_toc_title"] = "目录"
    context["theme_search_bar_text"] = "搜索本书…"
    import zh_interface  # beside this file: book/_ext, on sys.path in a Sphinx build

    context["author"] = zh_interface.AUTHOR_ZH
    context["copyright"] = f"{datetime.date.today().year}, {zh_interface.AUTHOR_ZH}"
    if context.get("docstitle"):
        context["docstitle"] = zh_interface.BOOK_TITLE_ZH
    context["theme_extra_footer"] = (
        '<p>代码:<a href="https://opensource.org/license/mit">MIT 许可证</a>。'
        '文字和图:<a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>。</p>'
        f'<p class="book-release">版本 {html.escape(version)} · <a href="{pdf}">全书 PDF</a></p>'
    )


FONTAWESOME_SCRIPT = re.compile(
    r'\s*<script defer src="[^"]*scripts/fontawesome\.js[^"]*"></script>'
)
# The theme loads the whole search index (over 100 kB) on every page, for a
# search-as-you-type box the book leaves off (pydata's default): the search box
# sends the query to search.html, which loads the index itself. Elsewhere it
# only weighs the page down.
SEARCH_INDEX_SCRIPT = re.compile(r'\s*<script src="(?:\.\./)*searchindex\.js"></script>')
INLINE_MATH = re.compile(
    r'(<span class="math notranslate nohighlight">)\\\((.*?)\\\)(</span>)', re.DOTALL
)
DISPLAY_MATH = re.compile(
    r'(<div class="math notranslate nohighlight"[^>]*>\s*(?:<span class="eqno">.*?</span>)?\s*)'
    r"\\\[(.*?)\\\](\s*</div>)",
    re.DOTALL,
)


def _render_math(tex: list[tuple[str, bool]]) -> tuple[list[str], str]:
    """SVG for each formula, and the stylesheet they need, from MathJax in Node.js."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("rendering the formulas needs Node.js (apt-get install nodejs)")
    done = subprocess.run(
        [node, str(ROOT / "scripts" / "render_math.mjs")],
        input=json.dumps(tex),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"MathJax failed:\n{done.stderr}")
    result = json.loads(done.stdout)
    return result["svg"], result["css"]


WIDGET_STATE = re.compile(
    r'(<script type="application/vnd\.jupyter\.widget-state\+json">)(.*?)(</script>)', re.DOTALL
)
EXPLORER_STATIC = ROOT / "masked_loss" / "teaching" / "static"
ICON_CLASSES = {"fas": "fa-solid", "fab": "fa-brands", "far": "fa-regular"}


def _current_explorer(match: re.Match[str]) -> str:
    """The explorer's code and style as the package has them now, not as last executed.

    A notebook stores its widgets' state, code included, when it runs; the site
    shows this checkout's explorer even before the notebook is re-executed.
    """
    state = json.loads(match.group(2))
    changed = False
    for model in state.get("state", {}).values():
        fields = model.get("state", {})
        if str(fields.get("_anywidget_id", "")).endswith("MaskExplorer"):
            fields["_esm"] = (EXPLORER_STATIC / "explorer.js").read_text(encoding="utf-8")
            fields["_css"] = (EXPLORER_STATIC / "explorer.css").read_text(encoding="utf-8")
            changed = True
    if not changed:
        return match.group(0)
    return match.group(1) + json.dumps(state).replace("</", "<\\/") + match.group(3)


def _long_icon_names(match: re.Match[str]) -> str:
    # "fas fa-x" -> "fa-solid fa-x": the theme's Font Awesome 6 styles draw both,
    # but the widget runtime's Font Awesome 5 stylesheet claims the short names
    # for a font of its own that it cannot find.
    tokens = [ICON_CLASSES.get(token, token) for token in match.group(2).split()]
    return match.group(1) + " ".join(tokens) + match.group(3)


INTERNAL_LINK = re.compile(
    r'<a class="reference internal" href="([^"#]*)(#[^"]*)?"([^>]*)>(.*?)</a>', re.DOTALL
)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _language_links(pagename: str, text: str) -> str:
    """``hreflang`` on each link into the other language; ``lang`` on its text in that language."""
    chinese = is_chinese(pagename)

    def mark(match: re.Match[str]) -> str:
        href, anchor, rest, label = match.groups()
        anchor = anchor or ""
        if not href.endswith(".html") or is_chinese(_target_page(pagename, href)) == chinese:
            return match.group(0)
        language = "en" if chinese else "zh-CN"
        plain = re.sub("<[^>]+>", "", label)
        own_text = plain.strip() == "English" if chinese else bool(CJK.search(plain))
        lang = f' lang="{language}"' if own_text else ""
        attributes = f'href="{href}{anchor}"{rest} hreflang="{language}"{lang}'
        return f'<a class="reference internal" {attributes}>{label}</a>'

    return INTERNAL_LINK.sub(mark, text)


def _finish(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = pathlib.Path(app.outdir)
    pages = [p for p in outdir.rglob("*.html") if "_static" not in p.parts]
    texts = {page: page.read_text(encoding="utf-8") for page in pages}
    formulas: dict[tuple[str, bool], int] = {}
    for text in texts.values():
        for display, pattern in ((False, INLINE_MATH), (True, DISPLAY_MATH)):
            for match in pattern.finditer(text):
                formulas.setdefault((html.unescape(match.group(2)).strip(), display), len(formulas))
    svgs, css = _render_math(list(formulas)) if formulas else ([], "")
    if formulas:
        # An incremental build rewrites only the pages that changed; the others
        # hold their SVGs already, and the stylesheet written with them stays.
        (outdir / "_static" / "mathjax-svg.css").write_text(css, encoding="utf-8")

    def replace(display: bool) -> Any:
        def swap(match: re.Match[str]) -> str:
            svg = svgs[formulas[(html.unescape(match.group(2)).strip(), display)]]
            return match.group(1) + svg + match.group(3)

        return swap

    for page, text in texts.items():
        new = FONTAWESOME_SCRIPT.sub("", text)
        pagename = page.relative_to(outdir).with_suffix("").as_posix()
        if pagename != "search":
            new = SEARCH_INDEX_SCRIPT.sub("", new)
        new = _language_links(pagename, new)
        if is_chinese(pagename):
            import zh_interface

            new = zh_interface.chinese_html(new)
        new = re.sub(r'(<i class=")([^"]*)(")', _long_icon_names, new)
        new = WIDGET_STATE.sub(_current_explorer, new)
        new = INLINE_MATH.sub(replace(False), new)
        new = DISPLAY_MATH.sub(replace(True), new)
        # Sphinx's inline MathJax configuration has nothing left to configure.
        new = re.sub(r"\s*<script>window\.MathJax = .*?</script>", "", new, flags=re.DOTALL)
        if new != text:
            page.write_text(new, encoding="utf-8")


class _SearchChineseAndEnglish(SearchChinese):
    """Chinese split by jieba; English stemmed with Porter, as the browser stems queries.

    Sphinx's Chinese search stems the index with Porter2 but the page's query
    code with Porter, so plain ``html_search_language: zh`` loses English
    words such as "bias"; one stemmer for both keeps English search intact.
    """

    def init(self, options: dict[str, str]) -> None:
        super().init(options)
        self.stemmer = snowballstemmer.stemmer("porter")


def setup(app: Sphinx) -> dict[str, object]:
    # The Chinese pages' interface (book/_ext/zh_interface.py). Imported here, not
    # at the top: scripts/release.py loads this file alone, by its path.
    import zh_interface

    zh_interface.setup(app)
    app.add_search_language(_SearchChineseAndEnglish)
    app.add_css_file("zh.css")
    app.connect("config-inited", _configure)
    app.connect("html-page-context", _page_context, priority=900)
    app.connect("build-finished", _finish)
    app.add_css_file("site.css")
    app.add_css_file("mathjax-svg.css")
    app.add_js_file("site.js", loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
