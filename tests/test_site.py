"""The built site in a real browser: every page, every link, the explorer, axe-core.

Serves ``_build/html`` on 127.0.0.1 and drives Debian's Chromium with
Playwright. ``make test`` builds the site first; run alone, the first test
builds it if it is missing. Screenshots land in ``test-artifacts/``.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import pathlib
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse

import pytest
import torch
import yaml

import masked_loss as ml
from masked_loss.teaching.widget import UNEQUAL_EXAMPLE

ROOT = pathlib.Path(__file__).resolve().parent.parent
# BOOK_SITE: another build to check (e.g. an older one, to see these tests fail on it).
SITE = pathlib.Path(os.environ.get("BOOK_SITE", ROOT / "_build" / "html"))
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXPLORER_PAGE = "notebooks/03_why_k_over_n.html"


def site_pages() -> list[str]:
    skip = ("_static", "_sources", "_images", "_modules", "jupyter_execute")
    return sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if p.relative_to(SITE).parts[0] not in skip
    )


@pytest.fixture(scope="session")
def site():
    if not (SITE / "index.html").exists():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "vendor_assets.py")], check=True)
        jupyter_book = pathlib.Path(sys.executable).with_name("jupyter-book")
        build = [str(jupyter_book), "build", str(ROOT), "-W", "-n", "--keep-going"]
        subprocess.run(build, check=True)
    handler = functools.partial(QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def pages_prefix() -> str:
    """The path GitHub Pages serves the site under: /<repository name>/."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return "/" + config["repository"]["url"].rstrip("/").rsplit("/", 1)[1] + "/"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass

    def translate_path(self, path):
        # The site is also served under /<repository>/, as on GitHub Pages.
        prefix = pages_prefix()
        if path.startswith(prefix):
            path = "/" + path[len(prefix) :]
        return super().translate_path(path)

    def send_error(self, code, message=None, explain=None):
        # Like GitHub Pages: a missing page gets the site's 404.html.
        page = SITE / "404.html"
        if code != 404 or not page.exists():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@pytest.fixture(scope="session")
def browser():
    from conftest import sync_playwright

    assert shutil.which(CHROMIUM) or pathlib.Path(CHROMIUM).exists(), (
        f"{CHROMIUM} not found: apt-get install -y chromium"
    )
    with sync_playwright() as playwright:
        # Real scrollbars (Playwright hides them by default): the layout tests measure them.
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, ignore_default_args=["--hide-scrollbars"]
        )
        yield browser
        browser.close()


class PageRecorder:
    """Opens a page and records every console error, page error and failed or foreign request."""

    def __init__(self, browser, site, width=1280, height=900):
        self.origin = urllib.parse.urlsplit(site).netloc
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._response)
        # Nothing may leave the site; anything that tries is recorded and blocked.
        self.page.route("**/*", self._route)

    def _console(self, message):
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _failed(self, request):
        self.problems.append(f"failed request: {request.url} ({request.failure})")

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _route(self, route):
        url = urllib.parse.urlsplit(route.request.url)
        if url.scheme in ("data", "blob") or url.netloc == self.origin:
            route.continue_()
        else:
            self.problems.append(f"request to another origin: {route.request.url}")
            route.abort()

    def close(self):
        self.context.close()


@pytest.fixture
def recorder(browser, site):
    rec = PageRecorder(browser, site)
    yield rec
    rec.close()


class IdCollector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)


@functools.cache
def ids_in(path: pathlib.Path) -> frozenset[str]:
    collector = IdCollector()
    collector.feed(path.read_text(encoding="utf-8"))
    return frozenset(collector.ids)


def test_site_has_every_chapter(site):
    pages = site_pages()
    for expected in (
        "book/intro.html",
        "book/api.html",
        EXPLORER_PAGE,
        "notebooks/02_the_bug.html",
    ):
        assert expected in pages


def unresolved(hrefs, recorder):
    """Same-site links whose file, or whose #fragment in that file, does not exist."""
    broken = []
    for href in hrefs:
        url = urllib.parse.urlsplit(href)
        if url.scheme not in ("http", "https") or url.netloc != recorder.origin:
            continue
        path = url.path
        if path.startswith(pages_prefix()):
            path = "/" + path[len(pages_prefix()) :]
        target = SITE / urllib.parse.unquote(path.lstrip("/"))
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            broken.append(href)
        elif url.fragment and target.suffix == ".html" and url.fragment not in ids_in(target):
            broken.append(href)
    return broken


def open_page(recorder, site, page_path):
    """Load a page until the network is idle (and, on its page, the explorer has rendered).

    The 404 page is opened where GitHub Pages serves it, under /<repository>/.
    """
    address = site + (pages_prefix()[1:] + page_path if page_path == "404.html" else page_path)
    recorder.page.goto(address, wait_until="networkidle")
    if page_path == EXPLORER_PAGE:
        recorder.page.wait_for_selector(".mle-root")
    return recorder.page


@pytest.mark.parametrize("page_path", site_pages() or ["index.html"])
def test_page_loads_cleanly(recorder, site, page_path):
    page = open_page(recorder, site, page_path)
    images = page.eval_on_selector_all(
        "img", "els => els.map(e => ({src: e.getAttribute('src'), alt: e.getAttribute('alt')}))"
    )
    no_alt = [i["src"] for i in images if not (i["alt"] or "").strip()]
    assert not no_alt, f"images without alt text on {page_path}: {no_alt}"
    broken = unresolved(
        page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"), recorder
    )
    assert not broken, f"links that do not resolve on {page_path}: {broken}"
    # Browsers fetch /favicon.ico unless the page names an icon; it must exist.
    icons = page.eval_on_selector_all("link[rel~='icon']", "els => els.map(e => e.href)")
    assert icons and not unresolved(icons, recorder), f"missing favicon on {page_path}"
    assert not recorder.problems, "\n".join(recorder.problems)


@pytest.mark.parametrize("page_path", site_pages() or ["index.html"])
def test_accessibility_has_no_serious_violations(recorder, site, page_path):
    page = open_page(recorder, site, page_path)
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => `${v.impact} ${v.id}: ${v.help} -- ` +
                          v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
        }"""
    )
    assert not violations, f"{page_path}:\n" + "\n".join(violations)


def shown(page):
    return {
        name: page.inner_text(f".mle-results [data-value={name}]")
        for name in ("naive", "correct", "counts")
    }


def expected_text(mask, reduction):
    p, t, _ = (torch.tensor(v, dtype=torch.float32) for v in UNEQUAL_EXAMPLE)
    m = torch.tensor(mask, dtype=torch.bool)
    naive = ml.naive_masked_mse_loss(p, t, m, reduction)
    correct = ml.masked_mse_loss(p, t, m, reduction)
    return naive, correct, int(m.sum()), m.numel()


def number_in(text):
    return float(text.rsplit(":", 1)[1])


def test_explorer_works_without_a_kernel(recorder, site):
    ARTIFACTS.mkdir(exist_ok=True)
    page = open_page(recorder, site, EXPLORER_PAGE)
    explorer = page.locator(".mle-root")
    explorer.scroll_into_view_if_needed()
    explorer.screenshot(path=str(ARTIFACTS / "explorer-before.png"))

    values = shown(page)
    assert values["naive"].endswith("2.5000")
    assert values["correct"].endswith("3.7500")
    assert "k = 4 valid of N = 6" in values["counts"]
    # Unequal errors: with k fixed, *which* cells are valid changes the correct mean.
    page.click('[data-cell="1,2"]')  # mask the error of 9 ...
    page.click('[data-cell="1,0"]')  # ... and unmask an error of 1: still k = 4
    swapped = shown(page)
    assert "k = 4 valid of N = 6" in swapped["counts"]
    assert number_in(swapped["correct"]) == pytest.approx(7 / 4, abs=1e-4)
    page.click('[data-cell="1,0"]')
    page.click('[data-cell="1,2"]')
    assert shown(page) == values

    mask = [[1, 0, 1], [0, 1, 1]]
    # Unmask (0, 1) by clicking, then mask (1, 2) from the keyboard.
    page.click('[data-cell="0,1"]')
    mask[0][1] = 1
    page.focus('[data-cell="1,2"]')
    page.keyboard.press("Space")
    mask[1][2] = 0
    for reduction in ("mean", "sum"):
        page.click(f'[data-reduction="{reduction}"]')
        naive, correct, k, n = expected_text(mask, reduction)
        values = shown(page)
        assert number_in(values["naive"]) == pytest.approx(naive.item(), abs=1e-4)
        assert number_in(values["correct"]) == pytest.approx(correct.item(), abs=1e-4)
        assert f"k = {k} valid of N = {n}" in values["counts"]
        assert page.get_attribute(f'[data-reduction="{reduction}"]', "aria-checked") == "true"
    assert page.get_attribute('[data-cell="1,2"]', "aria-pressed") == "false"

    # Mask everything: the correct mean falls back to 0, never NaN.
    page.click('[data-reduction="mean"]')
    for i in range(2):
        for j in range(3):
            if mask[i][j]:
                page.click(f'[data-cell="{i},{j}"]')
    values = shown(page)
    assert number_in(values["correct"]) == 0.0
    assert "k = 0 valid" in values["counts"]
    explorer.screenshot(path=str(ARTIFACTS / "explorer-after.png"))
    assert not recorder.problems, "\n".join(recorder.problems)


def test_axe_canary_finds_a_planted_violation(browser):
    # Guards the accessibility test itself: axe must load and report real problems.
    page = browser.new_page()
    try:
        page.set_content('<html lang="en"><body><main><img src="data:,"></main></body></html>')
        page.add_script_tag(path=str(AXE))
        found = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ["violations"]}))
                .violations.map(v => `${v.impact} ${v.id}`)"""
        )
    finally:
        page.close()
    assert "critical image-alt" in found


# --- Every device: phones (390 px), tablets (900 px) and desktops ---------------------------

VIEWPORTS = {"phone": (390, 844), "tablet": (900, 1000), "desktop": (1280, 800)}
BOOK_PAGES = [p for p in site_pages() if p.startswith(("notebooks/", "book/"))]
CHAPTER_PAGE = "notebooks/06_shapes.html"


def toc_pages() -> list[str]:
    """Every document in _toc.yml, as the site path of its page."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    # (A listed file that does not exist fails the build, not this test.)
    exists = [f for f in files if any((ROOT / f"{f}{s}").exists() for s in (".md", ".ipynb"))]
    return [f"{f}.html" for f in exists]


@pytest.fixture
def sized(browser, site, request):
    """A recorder whose window has the size named by the test's ``viewport`` parameter."""
    width, height = VIEWPORTS[request.param]
    rec = PageRecorder(browser, site, width, height)
    yield rec
    rec.close()


def visible(page, selector):
    """The one element matching ``selector`` that is displayed."""
    locator = page.locator(selector).locator("visible=true")
    assert locator.count() == 1, f"{locator.count()} visible elements match {selector}"
    return locator


def dialog_open(page, dialog_id):
    return page.evaluate(f"() => document.getElementById('{dialog_id}').open")


@pytest.mark.parametrize("sized", list(VIEWPORTS), indirect=True)
def test_primary_sidebar_opens_and_reaches_every_chapter(sized, site):
    page = open_page(sized, site, CHAPTER_PAGE)
    toggle = visible(page, ".primary-toggle")
    width = page.viewport_size["width"]
    sidebar = "#pst-primary-sidebar-modal" if width < 992 else "#pst-primary-sidebar"
    if width < 992:
        assert not page.locator("#pst-primary-sidebar").is_visible()
        toggle.click()
        page.wait_for_function("() => document.getElementById('pst-primary-sidebar-modal').open")
    else:
        assert page.locator("#pst-primary-sidebar").is_visible()
    links = page.locator(f"{sidebar} nav a[href]")
    shown_pages = set()
    for i in range(links.count()):
        link = links.nth(i)
        link.scroll_into_view_if_needed()
        if link.is_visible():
            path = urllib.parse.urlsplit(link.evaluate("a => a.href")).path.lstrip("/")
            shown_pages.add(path)
    missing = [p for p in toc_pages() if p not in shown_pages and p != "book/intro.html"]
    assert not missing, f"not reachable from the sidebar at {width}px: {missing}"
    if width < 992:
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.getElementById('pst-primary-sidebar-modal').open")
    else:
        # On a desktop the button collapses the sidebar and brings it back.
        toggle.click()
        shown = """() => document.querySelector('#pst-primary-sidebar')
                      .checkVisibility({visibilityProperty: true, opacityProperty: true})"""
        page.wait_for_function(f"() => !({shown})()")
        toggle.click()
        page.wait_for_function(shown)
    assert not sized.problems, "\n".join(sized.problems)


@pytest.mark.parametrize("sized", list(VIEWPORTS), indirect=True)
def test_contents_button_and_search_open(sized, site):
    page = open_page(sized, site, CHAPTER_PAGE)
    page.set_default_timeout(5000)
    width = page.viewport_size["width"]
    if page.locator(".secondary-toggle").locator("visible=true").count():
        visible(page, ".secondary-toggle").click()
        page.wait_for_function("() => document.getElementById('pst-secondary-sidebar-modal').open")
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.getElementById('pst-secondary-sidebar-modal').open")
    else:
        assert width >= 1200, f"no on-page contents button at {width}px"
    # Nothing (no lingering tooltip) may cover the search button.
    page.mouse.move(0, 0)
    page.locator(".search-button__button").locator("visible=true").first.click()
    page.wait_for_function("() => document.getElementById('pst-search-dialog').open")
    page.keyboard.type("mask")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search.html?q=mask*")
    page.wait_for_selector("#search-results li")
    assert not sized.problems, "\n".join(sized.problems)


CLIPPING_JS = r"""
() => {
  const problems = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className.trim()
      ? "." + el.className.trim().split(/\s+/).slice(0, 3).join(".") : "") +
    ` "${(el.textContent || "").trim().slice(0, 40)}"`;
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) {
    problems.push(`the page is ${doc.scrollWidth}px wide in a ${doc.clientWidth}px window`);
  }
  const main = document.querySelector("#main-content") || document.body;
  const scrollbar = (el) => {
    const s = getComputedStyle(el);
    return el.offsetHeight - el.clientHeight
      - parseFloat(s.borderTopWidth) - parseFloat(s.borderBottomWidth);
  };
  const checked = new Set();
  const selector = "pre, table, div.cell_output, div.cell_input, div.highlight, .mle-root, " +
    "dl.py > dt, img, .pst-scrollable-table-container, .table-wrapper";
  for (const el of main.querySelectorAll(selector)) {
    if (!el.getClientRects().length || el.closest("details:not([open])")) continue;
    for (let box = el; box && box !== document.body; box = box.parentElement) {
      if (checked.has(box)) break;
      checked.add(box);
      const over = box.scrollWidth - box.clientWidth;
      if (over <= 1 || box.clientWidth === 0) continue;
      const overflow = getComputedStyle(box).overflowX;
      if (overflow === "auto" || overflow === "scroll") {
        if (scrollbar(box) < 4) {
          problems.push(`${name(box)} scrolls ${over}px with no visible scrollbar`);
        }
        break;
      }
      if (overflow !== "visible") {
        problems.push(`${name(box)} cuts off ${over}px of content (overflow-x: ${overflow})`);
        break;
      }
    }
  }
  // Output (printed error messages included) wraps: it never needs sideways scrolling.
  for (const pre of main.querySelectorAll("div.cell_output pre")) {
    if (pre.getClientRects().length && pre.scrollWidth > pre.clientWidth + 1) {
      const over = pre.scrollWidth - pre.clientWidth;
      problems.push(`${name(pre)}: an output line is ${over}px too wide`);
    }
  }
  return problems;
}
"""


@pytest.mark.parametrize("sized", ["phone", "desktop"], indirect=True)
@pytest.mark.parametrize("page_path", site_pages() or ["index.html"])
def test_nothing_is_clipped(sized, site, page_path):
    page = open_page(sized, site, page_path)
    if page.viewport_size["width"] >= 992:
        check_page_weight(page, page_path)
    # Open every collapsed cell and dropdown: their content must fit too.
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    problems = page.evaluate(CLIPPING_JS)
    assert not problems, f"{page_path} at {page.viewport_size['width']}px:\n" + "\n".join(
        problems[:15]
    )


# --- The explorer on a phone and on a laptop ----------------------------------------------


@pytest.mark.parametrize("sized", ["phone", "desktop"], indirect=True)
def test_explorer_fits_and_shows_its_numbers(sized, site):
    page = open_page(sized, site, EXPLORER_PAGE)
    if page.viewport_size["width"] < 992:
        page.set_viewport_size({"width": 360, "height": 740})
    root = page.locator(".mle-root").first
    root.scroll_into_view_if_needed()
    fit = root.evaluate(
        """root => {
            const box = root.getBoundingClientRect();
            const out = [...root.querySelectorAll("*")]
                .filter(e => e.getClientRects().length)
                .filter(e => { const r = e.getBoundingClientRect();
                               return r.right > box.right + 1 || r.left < box.left - 1; })
                .map(e => e.className || e.tagName);
            const article = root.closest("article, main").getBoundingClientRect();
            return {out, root: root.scrollWidth - root.clientWidth,
                    beyond: box.right - article.right, page: document.documentElement.scrollWidth
                            - document.documentElement.clientWidth};
        }"""
    )
    assert not fit["out"] and fit["root"] <= 1 and fit["beyond"] <= 1 and fit["page"] <= 1, fit
    height = page.viewport_size["height"]
    grid = page.locator(".mle-grid").first.bounding_box()
    results = page.locator(".mle-results").first.bounding_box()
    if page.viewport_size["width"] >= 992:
        # With the grid on screen, the numbers are on screen too.
        page.locator(".mle-grid").first.evaluate("g => g.scrollIntoView({block: 'center'})")
        grid = page.locator(".mle-grid").first.bounding_box()
        results = page.locator(".mle-results").first.bounding_box()
        assert grid["y"] >= 0 and grid["y"] + grid["height"] <= height
        assert results["y"] >= 0 and results["y"] + results["height"] <= height, (grid, results)
    else:
        # Right under the grid (after the three reduction buttons).
        assert results["y"] - (grid["y"] + grid["height"]) < 110, (grid, results)
    # Nothing (the theme's "back to top" button included) covers the numbers when
    # the reader scrolls back up to them.
    counts = page.locator(".mle-results [data-value=counts]").first
    page.mouse.wheel(0, 600)
    page.wait_for_timeout(200)
    for fraction in (0.5, 0.9):
        counts.evaluate(
            "(e, f) => window.scrollBy(0, e.getBoundingClientRect().top - innerHeight * f)",
            fraction,
        )
        page.mouse.wheel(0, -40)
        page.wait_for_timeout(300)
        covered = counts.evaluate(
            """e => { const r = e.getBoundingClientRect();
                      const points = [[r.left + 2, r.top + r.height / 2],
                                      [r.right - 2, r.top + r.height / 2],
                                      [r.left + r.width / 2, r.top + r.height / 2]];
                      return points.filter(([x, y]) => y > 0 && y < innerHeight)
                        .map(([x, y]) => document.elementFromPoint(x, y))
                        .filter(hit => !e.contains(hit))
                        .map(hit => hit && hit.outerHTML.slice(0, 80)); }"""
        )
        assert not covered, f"the k/N line is covered by {covered}"
    assert not sized.problems, "\n".join(sized.problems)


def test_explorer_reduction_follows_arrow_keys(recorder, site):
    page = open_page(recorder, site, EXPLORER_PAGE)
    checked = '[data-reduction][aria-checked="true"]'
    page.focus(f".mle-root {checked}")
    assert page.get_attribute(checked, "data-reduction") == "mean"
    tab_stops = page.eval_on_selector_all("[data-reduction]", "bs => bs.map(b => b.tabIndex)")
    assert sorted(tab_stops) == [-1, -1, 0], "the radio group is one Tab stop"
    for key, expected in [
        ("ArrowRight", "sum"),
        ("ArrowDown", "none"),
        ("ArrowRight", "mean"),
        ("ArrowLeft", "none"),
        ("ArrowUp", "sum"),
        ("Home", "mean"),
        ("End", "none"),
    ]:
        page.keyboard.press(key)
        assert page.get_attribute(checked, "data-reduction") == expected, key
        focused = page.evaluate("() => document.activeElement.dataset.reduction")
        assert focused == expected, f"focus did not follow {key}"
    assert "none" in page.inner_text(".mle-results [data-value=naive]") or "[" in page.inner_text(
        ".mle-results [data-value=naive]"
    )
    assert not recorder.problems, "\n".join(recorder.problems)


# --- Page weight ---------------------------------------------------------------------------

PAGE_BUDGET = 1_500_000  # bytes, uncompressed, per page

BLOCKING_JS = """() => [...document.head.querySelectorAll('script[src]')]
    .filter(s => !s.defer && !s.async && s.type !== 'module')
    .map(s => s.src)"""

WEIGHT_JS = """() => [...performance.getEntriesByType('navigation'),
                      ...performance.getEntriesByType('resource')]
                    .map(e => [e.name, e.decodedBodySize])"""


def check_page_weight(page, page_path):
    """At most PAGE_BUDGET bytes, the explorer's page included (no separate widget runtime)."""
    page.wait_for_timeout(500)
    entries = page.evaluate(WEIGHT_JS)
    total = sum(size for _, size in entries)
    biggest = sorted(entries, key=lambda e: -e[1])[:6]
    report = "\n".join(f"{size / 1e3:8.1f} kB  {url}" for url, size in biggest)
    assert total <= PAGE_BUDGET, (
        f"{page_path}: {total / 1e6:.2f} MB in {len(entries)} requests\n{report}"
    )
    # Nothing heavy, and no widget runtime, blocks the first paint.
    sizes = {url: size for url, size in entries}
    blocking = [
        src
        for src in page.evaluate(BLOCKING_JS)
        if "widget" in src or "require" in src or sizes.get(src, 0) > 200_000
    ]
    assert not blocking, f"{page_path}: scripts that block first paint: {blocking}"
    # No MathJax script (its stylesheet for the SVG formulas is a few kB and needed).
    scripts = [url.split("?")[0] for url, _ in entries if not url.split("?")[0].endswith(".css")]
    assert not any("fontawesome.js" in url or "mathjax" in url.lower() for url in scripts)


# --- What good book sites give a reader -----------------------------------------------------


def test_reader_features(recorder, site):
    import masked_loss

    page = open_page(recorder, site, "notebooks/06_shapes.html")
    footer = page.inner_text(".bd-footer-content")
    assert f"Version {masked_loss.__version__}" in footer
    assert re.search(r"Last updated on \d{4}-\d{2}-\d{2}", footer), footer
    assert page.locator(".bd-footer-content a[href$='masked-losses-in-pytorch.pdf']").count() == 1
    meta = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('meta[name], meta[property]')]
              .map(m => [m.getAttribute('name') || m.getAttribute('property'), m.content]))"""
    )
    assert len(meta.get("description", "")) >= 60
    for key in ("og:title", "og:description", "og:url", "og:image", "twitter:card"):
        assert meta.get(key), f"no {key}"
    assert meta["og:image"].endswith("/_static/social-card.png")
    assert (SITE / "_static" / "social-card.png").exists()
    title = page.title()
    assert title.count("Masked losses in PyTorch") == 1 and title.startswith("Shapes")

    # The home page says the site's name once; so does every other page.
    titles = {}
    for path in ("book/intro.html", "book/api.html"):
        page.goto(site + path, wait_until="networkidle")
        titles[path] = page.title()
    assert titles["book/intro.html"] == "Masked losses in PyTorch", titles
    assert all(t.count("Masked losses in PyTorch") == 1 for t in titles.values()), titles

    # Dark mode gets its own logo, not a white box.
    page.evaluate("() => document.documentElement.setAttribute('data-theme', 'dark')")
    logo = page.locator(".navbar-brand img").locator("visible=true")
    assert logo.count() == 1 and logo.get_attribute("src").endswith("logo-dark.svg")
    dark_logo = (SITE / "_static" / "logo-dark.svg").read_text()
    assert "#ffffff" not in dark_logo.lower() and 'fill="white"' not in dark_logo
    assert not recorder.problems, "\n".join(recorder.problems)


def test_missing_pages_get_the_404_page(recorder, site):
    """GitHub Pages serves 404.html for any missing address, at any depth."""
    page = recorder.page
    page.goto(site + pages_prefix()[1:] + "notebooks/no/such/page.html", wait_until="networkidle")
    assert page.title().startswith("Page not found")
    assert page.locator("#page-not-found h1").inner_text() == "Page not found"
    # Its styles and scripts load from the site's root, not from the missing folder.
    # (Every failed resource is also recorded with its address as "HTTP 404: <url>";
    # the console's own line for the page's 404 names none.)
    problems = [
        p
        for p in recorder.problems
        if "no/such/page.html" not in p and not p.startswith("console error: Failed to load")
    ]
    assert not problems, "\n".join(problems)
    home = page.locator("#page-not-found a").first
    home.click()
    page.wait_for_load_state()
    assert page.url.endswith(pages_prefix() + "book/intro.html")


# --- What a reader sees: formulas, tables, code, figures, the phone drawer ---------------------
#
# These look at rendered pages as a reader does (computed styles, line boxes, sizes on
# screen), not only at the HTML. One pass over every page at 390 px serves them all.

SURVEY_JS = r"""
() => {
  const text = (el) => (el.textContent || "").trim().slice(0, 60);
  const out = {formulas: 0, copies: [], brokenWords: [], cutCode: [], images: [], longCode: []};
  // Formulas: the SVG is what one reads; MathJax's assistive copy must stay unseen.
  for (const c of document.querySelectorAll("mjx-container")) {
    out.formulas += 1;
    const copy = c.querySelector("mjx-assistive-mml");
    if (!copy) continue;
    const s = getComputedStyle(copy);
    const r = copy.getBoundingClientRect();
    const clipped = (s.clip && s.clip !== "auto" && s.clip.startsWith("rect(1px"))
      || (s.clipPath && s.clipPath !== "none");
    const shown = s.display !== "none" && s.visibility !== "hidden" && Number(s.opacity) > 0
      && r.width * r.height > 2 && !clipped;
    if (shown) out.copies.push(text(copy));
  }
  // Tables: a word (Latin letters, digits, names in code) is never split over two lines.
  for (const cell of document.querySelectorAll(".bd-article td, .bd-article th")) {
    if (!cell.getClientRects().length) continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      // (A word: letters, digits and "_"; code may break at its punctuation.)
      for (const m of node.data.matchAll(/[A-Za-z0-9_]+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0)
          .map((r) => Math.round(r.top)));
        if (tops.size > 1) out.brokenWords.push(m[0]);
      }
    }
  }
  // Inline code in prose and callouts stays inside its paragraph's box.
  for (const code of document.querySelectorAll(".bd-article code")) {
    if (code.closest("pre, table, .highlight") || !code.getClientRects().length) continue;
    const box = code.closest("p, li, dd, .admonition");
    if (!box) continue;
    const limit = box.getBoundingClientRect().right;
    if ([...code.getClientRects()].some((r) => r.right > limit + 1)) out.cutCode.push(text(code));
  }
  // Figures: their size on screen, to compare with their size in pixels.
  for (const img of document.querySelectorAll(".bd-article img")) {
    const src = img.getAttribute("src") || "";
    if (!src.includes("_images/") || !img.naturalWidth) continue;
    out.images.push({src, shown: img.getBoundingClientRect().width, natural: img.naturalWidth});
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def phone_survey(browser, site):
    """Every page at 390 px (light theme): what SURVEY_JS finds on it."""
    recorder = PageRecorder(browser, site, 390, 844)
    found = {}
    for page_path in site_pages():
        page = open_page(recorder, site, page_path)
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        found[page_path] = page.evaluate(SURVEY_JS)
    recorder.close()
    return found


def test_no_formula_shows_its_text_copy(phone_survey):
    """A formula reads once: "4/6", not "4/64/6" (MathJax's assistive copy stays hidden)."""
    total = sum(found["formulas"] for found in phone_survey.values())
    shown = {page: found["copies"] for page, found in phone_survey.items() if found["copies"]}
    count = sum(len(copies) for copies in shown.values())
    assert total >= 100, f"only {total} formulas found: is the math rendered?"
    assert not shown, (
        f"{count} of {total} formulas show their text copy on {len(shown)} pages: "
        + ("; ".join(f"{page}: {copies[:3]}" for page, copies in list(shown.items())[:6]))
    )


def test_no_word_is_broken_inside_a_table_cell(phone_survey):
    """At 390 px "float16" stays "float16"; a table too wide for the column scrolls instead."""
    broken = {p: f["brokenWords"] for p, f in phone_survey.items() if f["brokenWords"]}
    count = sum(len(words) for words in broken.values())
    assert not broken, f"{count} words broken on {len(broken)} pages: " + "; ".join(
        f"{page}: {words[:4]}" for page, words in broken.items()
    )


def test_inline_code_is_not_cut_off(phone_survey):
    cut = {p: f["cutCode"] for p, f in phone_survey.items() if f["cutCode"]}
    assert not cut, f"inline code running out of its box at 390 px: {cut}"


FONT_SIZE_ARGUMENT = re.compile(r"\b(?:fontsize|labelsize|titlesize)\s*=\s*(\d+(?:\.\d+)?)")
NAMED_SIZES = {"xx-small": 5.79, "x-small": 6.94, "small": 8.33}
MATPLOTLIB_DEFAULT_PT = 10.0  # text, ticks and legends unless a notebook asks for less


def smallest_font_pt(page_path: str) -> float:
    """The smallest font size (pt) the page's notebook gives any figure text."""
    source = ROOT / page_path.replace(".html", ".ipynb")
    if not source.exists():
        return MATPLOTLIB_DEFAULT_PT
    import json

    code = "\n".join(
        "".join(cell["source"])
        for cell in json.loads(source.read_text(encoding="utf-8"))["cells"]
        if cell["cell_type"] == "code"
    )
    sizes = [float(size) for size in FONT_SIZE_ARGUMENT.findall(code)]
    sizes += [pt for name, pt in NAMED_SIZES.items() if re.search(rf"[\"']{name}[\"']", code)]
    return min([MATPLOTLIB_DEFAULT_PT, *sizes])


def test_figure_text_is_legible_on_a_phone(phone_survey):
    """At 390 px a figure's smallest text is at least 9 CSS px on screen.

    Its size on screen: font size (pt) x the image's dpi / 72 (pixels in the PNG)
    x the shown width / the PNG's width.
    """
    from PIL import Image

    small = []
    checked = 0
    for page_path, found in phone_survey.items():
        points = smallest_font_pt(page_path)
        for image in found["images"]:
            name = image["src"].rsplit("/", 1)[1].split("?")[0]
            dpi = Image.open(SITE / "_images" / name).info.get("dpi", (100, 100))[0]
            css_px = points * dpi / 72 * image["shown"] / image["natural"]
            checked += 1
            if css_px < 9:
                small.append(f"{page_path}: {name[:12]} text {css_px:.1f} px")
    assert checked >= 4, checked
    assert not small, f"{len(small)} of {checked} figures too small at 390 px:\n" + "\n".join(small)


MAX_CODE_LINE = 80


@functools.cache
def parsed(page_path: str):
    """The built page, parsed once for every test that reads it."""
    from bs4 import BeautifulSoup

    return BeautifulSoup((SITE / page_path).read_text(encoding="utf-8"), "html.parser")


def code_blocks(page_path: str) -> list[list[str]]:
    """The page's shown code blocks (cell inputs and code in prose), as lists of lines.

    (Not the collapsed Colab set-up cell: its one long line is a pip address.)
    """
    soup = parsed(page_path)
    return [
        pre.get_text().splitlines()
        for pre in soup.select("div.highlight pre")
        if not pre.find_parent(class_="cell_output") and not pre.find_parent(class_="tag_setup")
    ]


def test_code_lines_fit_without_scrolling():
    """Shown code keeps to 80 characters: no sideways scrolling even at 1280 px."""
    pages = [p for p in site_pages() if p.startswith(("book/", "notebooks/"))]
    total = 0
    failing = {}
    for page_path in pages:
        blocks = code_blocks(page_path)
        total += len(blocks)
        long = [b for b in blocks if any(len(line) > MAX_CODE_LINE for line in b)]
        if long:
            failing[page_path] = len(long)
    count = sum(failing.values())
    assert total >= 50, total
    assert not failing, (
        f"{count} of {total} code blocks have lines over {MAX_CODE_LINE} characters: "
        + ", ".join(f"{page} ({n})" for page, n in failing.items())
    )


def test_phone_drawer_closes_after_a_tap_and_on_escape(browser, site):
    recorder = PageRecorder(browser, site, 390, 844)
    page = open_page(recorder, site, CHAPTER_PAGE)
    try:
        # The page's contents: tapping a section shows that section, not the drawer.
        page.locator(".secondary-toggle").locator("visible=true").first.wait_for()
        visible(page, ".secondary-toggle").click()
        page.wait_for_function("() => document.getElementById('pst-secondary-sidebar-modal').open")
        page.locator("#pst-secondary-sidebar-modal nav a[href^='#']").nth(1).click()
        page.wait_for_timeout(400)
        assert not dialog_open(page, "pst-secondary-sidebar-modal"), "still open after a tap"
        # The chapter list: Esc closes it wherever the focus is.
        visible(page, ".primary-toggle").click()
        page.wait_for_function("() => document.getElementById('pst-primary-sidebar-modal').open")
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.keyboard.press("Escape")
        page.wait_for_timeout(300)
        assert not dialog_open(page, "pst-primary-sidebar-modal"), "still open after Esc"
        assert not recorder.problems, "\n".join(recorder.problems)
    finally:
        recorder.close()


def test_search_icon_does_not_cover_the_query(browser, site):
    recorder = PageRecorder(browser, site, 390, 844)
    page = open_page(recorder, site, CHAPTER_PAGE)
    try:
        page.locator(".search-button__button").locator("visible=true").first.click()
        page.wait_for_function("() => document.getElementById('pst-search-dialog').open")
        page.keyboard.type("Wmask")
        gap = page.evaluate(
            """() => {
                const form = document.querySelector('#pst-search-dialog form.bd-search');
                const icon = form.querySelector('i, svg').getBoundingClientRect();
                const input = form.querySelector('input');
                const start = input.getBoundingClientRect().left
                    + parseFloat(getComputedStyle(input).paddingLeft);
                return start - icon.right;
            }"""
        )
        assert gap >= 0, f"the search icon covers the query's first {-gap:.0f} px"
    finally:
        recorder.close()


def test_deck_is_readable_on_a_phone(browser, site):
    """At 390 px: the slide in the address opens, in slide view, with text >= 14 px."""
    recorder = PageRecorder(browser, site, 390, 844)
    page = recorder.page
    try:
        page.goto(site + "classroom/slides/index.html#/5", wait_until="networkidle")
        page.wait_for_function("() => window.Reveal && Reveal.isReady()")
        assert page.evaluate("() => Reveal.getIndices().h") == 5, "#/5 did not open slide 6"
        assert not page.evaluate("() => Reveal.isScrollView()"), "the deck fell back to scroll view"
        sizes = page.evaluate(
            """() => {
                const px = (el) => el.getBoundingClientRect().height
                    / el.offsetHeight * parseFloat(getComputedStyle(el).fontSize);
                const shown = (els) => [...els].filter(el => el.offsetHeight).map(px);
                const slides = [...document.querySelectorAll('.reveal .slides > section')];
                const text = [], code = [];
                slides.forEach((slide, index) => {
                    Reveal.slide(index);
                    text.push(...shown(slide.querySelectorAll('p, li')));
                    code.push(...shown(slide.querySelectorAll('pre code')));
                });
                Reveal.slide(5);
                return {text, code};
            }"""
        )
        # (Every slide, as shown on this phone.)
        text = [px for px in sizes["text"] if px > 0]
        code = [px for px in sizes["code"] if px > 0]
        assert text and min(text) >= 14, f"slide text down to {min(text or [0]):.1f} px"
        assert not code or min(code) >= 12, f"slide code down to {min(code):.1f} px"
        assert not recorder.problems, "\n".join(recorder.problems)
    finally:
        recorder.close()


class RootOnlyHandler(QuietHandler):
    """Serves the site at the server's root only, as `make serve`, a fork or a mirror would."""

    def translate_path(self, path):
        return http.server.SimpleHTTPRequestHandler.translate_path(self, path)


def test_404_page_is_styled_wherever_the_site_is_served(browser):
    handler = functools.partial(RootOnlyHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = f"http://127.0.0.1:{server.server_address[1]}/"
    recorder = PageRecorder(browser, root, 1280, 900)
    try:
        page = recorder.page
        page.goto(root + "notebooks/no/such/page.html", wait_until="networkidle")
        assert page.locator("#page-not-found h1").inner_text() == "Page not found"
        # Every stylesheet the page names loaded, from this server's root. (The browser
        # may also fetch them speculatively from the project's own path before the
        # page's script corrects its <base>; those early 404s change nothing seen.)
        sheets = page.evaluate(
            """() => [...document.querySelectorAll('link[rel=stylesheet]')].map(l => [
                l.href, !!l.sheet && (() => { try { return l.sheet.cssRules.length > 0; }
                                              catch (e) { return false; } })()])"""
        )
        unloaded = [href for href, loaded in sheets if not loaded]
        foreign = [href for href, _ in sheets if not href.startswith(root + "_static/")]
        assert len(sheets) >= 5 and not unloaded and not foreign, (unloaded, foreign)
        primary = page.evaluate(
            "() => getComputedStyle(document.documentElement).getPropertyValue("
            "'--pst-color-primary').trim()"
        )
        assert primary, "the theme's styles are not applied"
        page.locator("#page-not-found a").first.click()
        page.wait_for_load_state()
        assert page.url == root + "book/intro.html"
    finally:
        recorder.close()
        server.shutdown()


def test_next_and_previous_stay_in_the_language():
    crossing = []
    for page_path in site_pages():
        soup = parsed(page_path)
        chinese = "/zh/" in page_path
        for link in soup.select("a.left-prev, a.right-next, link[rel=next], link[rel=prev]"):
            target = urllib.parse.urljoin(page_path, link["href"])
            if ("/zh/" in target) != chinese:
                crossing.append(f"{page_path} -> {target}")
    assert not crossing, "next/previous into the other language:\n" + "\n".join(crossing)


def test_language_links_edit_link_and_citation():
    checked = 0
    for page_path in site_pages():
        soup = parsed(page_path)
        chinese = "/zh/" in page_path
        for link in soup.select("article a.reference.internal[href]"):
            target = urllib.parse.urljoin(page_path, link["href"].split("#")[0])
            if target.endswith(".html") and ("/zh/" in target) != chinese:
                checked += 1
                wanted = "en" if chinese else "zh-CN"
                assert link.get("hreflang") == wanted, f"{page_path}: {link}"
                if link.get_text(strip=True) in ("English", "中文版"):
                    assert link.get("lang") == wanted, f"{page_path}: {link}"
        if page_path.startswith(("book/", "notebooks/")):
            edit = soup.select_one("a[href*='/edit/main/']")
            assert edit is not None, f"no edit-this-page link on {page_path}"
    assert checked >= 20, checked
    intro = parsed("book/intro.html")
    bibtex = [pre.get_text() for pre in intro.select("div.highlight pre") if "@" in pre.get_text()]
    assert any(re.search(r"@\w+\{masked-losses", b) and "title" in b for b in bibtex), bibtex
    assert any(f"version = {{{ml.__version__}}}" in b for b in bibtex), bibtex
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"].startswith("1.2")
    assert citation["title"] == "Masked losses in PyTorch"
    assert citation["version"] == ml.__version__
