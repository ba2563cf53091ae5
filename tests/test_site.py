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
import shutil
import subprocess
import sys
import threading
import urllib.parse

import pytest
import torch

import masked_loss as ml

ROOT = pathlib.Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
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


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM) or pathlib.Path(CHROMIUM).exists(), (
        f"{CHROMIUM} not found: apt-get install -y chromium"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageRecorder:
    """Opens a page and records every console error, page error and failed or foreign request."""

    def __init__(self, browser, site):
        self.origin = urllib.parse.urlsplit(site).netloc
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
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
        target = SITE / urllib.parse.unquote(url.path.lstrip("/"))
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            broken.append(href)
        elif url.fragment and target.suffix == ".html" and url.fragment not in ids_in(target):
            broken.append(href)
    return broken


def open_page(recorder, site, page_path):
    """Load a page until the network is idle (and, on its page, the explorer has rendered)."""
    recorder.page.goto(site + page_path, wait_until="networkidle")
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
    p = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    t = torch.tensor([[2.0, 3.0, 4.0], [3.0, 4.0, 5.0]])
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
    assert values["naive"].endswith("0.6667")
    assert values["correct"].endswith("1.0000")
    assert "k = 4 valid of N = 6" in values["counts"]

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
