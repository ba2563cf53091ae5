"""Print the built site into one PDF of the whole book, in table-of-contents order.

Serves ``_build/html`` on 127.0.0.1 and prints every page of ``_toc.yml`` with
headless Chromium (the system's Debian ``chromium``, or ``$CHROMIUM``; no
browser download), then joins the pages into
``_build/html/masked-losses-in-pytorch.pdf`` with a bookmark per chapter. The
site's print stylesheet wraps code and output, so nothing is cut off on paper.

    python scripts/build_pdf.py [--site _build/html] [--out FILE]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import os
import pathlib
import shutil
import sys
import threading

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
PDF_NAME = "masked-losses-in-pytorch.pdf"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


def chromium() -> str | None:
    """The browser to drive: $CHROMIUM, Debian's chromium, or None for Playwright's own."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and pathlib.Path(candidate).exists():
            return candidate
    return None


def toc_pages() -> list[tuple[str, str]]:
    """(site path, part caption) for every document of the book, in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [(f"{toc['root']}.html", "")]
    for part in toc.get("parts", []):
        pages += [(f"{c['file']}.html", part.get("caption", "")) for c in part.get("chapters", [])]
    return pages


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        pass


# Printed pages show every solution and hidden output (a reader cannot click paper),
# but not the Colab set-up cell.
PREPARE_JS = """() => {
  document.querySelectorAll('details').forEach(d => {
    if (!d.closest('.tag_setup')) d.open = true;
  });
  document.querySelectorAll('.tag_setup').forEach(c => c.style.display = 'none');
  document.querySelectorAll('.toggle-hidden')
    .forEach(e => e.classList.remove('toggle-hidden'));
}"""


def build(site: pathlib.Path, out: pathlib.Path) -> int:
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader, PdfWriter

    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    writer = PdfWriter()
    parts: dict[str, object] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            for path, caption in toc_pages():
                page.goto(base + path, wait_until="networkidle")
                if page.locator(".jupyter-widgets, .widget-subarea").count():
                    page.wait_for_selector(".mle-root", timeout=30_000)
                page.evaluate(PREPARE_JS)
                page.emulate_media(media="print")
                title = page.title().split(" \u2014 ")[0]
                data = page.pdf(
                    format="A4",
                    print_background=True,
                    margin={"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"},
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=(
                        '<div style="font-size:8px;width:100%;text-align:center;color:#555">'
                        f"{title} \u2014 <span class='pageNumber'></span></div>"
                    ),
                )
                page.emulate_media(media="screen")
                start = len(writer.pages)
                writer.append(PdfReader(io.BytesIO(data)))
                parent = None
                if caption:
                    if caption not in parts:
                        parts[caption] = writer.add_outline_item(title=caption, page_number=start)
                    parent = parts[caption]
                writer.add_outline_item(title=title, page_number=start, parent=parent)
            browser.close()
    finally:
        server.shutdown()
    writer.add_metadata(
        {"/Title": "Masked losses in PyTorch", "/Author": "The masked-loss authors"}
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        writer.write(handle)
    print(f"{out}: {len(writer.pages)} pages")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--site", type=pathlib.Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args()
    if not (args.site / "index.html").exists():
        raise SystemExit(f"{args.site} has no site: run `make html` first")
    return build(args.site, args.out or args.site / PDF_NAME)


if __name__ == "__main__":
    sys.exit(main())
