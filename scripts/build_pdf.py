"""Print the built site into one PDF of the whole book, in table-of-contents order.

Serves ``_build/html`` on 127.0.0.1 and prints every page of ``_toc.yml`` with
headless Chromium (the system's Debian ``chromium``, or ``$CHROMIUM``; no
browser download), then joins them into ``_build/html/masked-losses-in-pytorch.pdf``:
a cover, a printed contents with each chapter's first page, the chapters with a
bookmark each, and one continuous page number (with the chapter's name) on every
page after the cover. The site's print stylesheet wraps code and output, so
nothing is cut off on paper. Chinese pages need a CJK font (Debian:
``fonts-noto-cjk``); without one the build stops instead of printing empty boxes.

    python scripts/build_pdf.py [--site _build/html] [--out FILE]
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import io
import os
import pathlib
import re
import shutil
import subprocess
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


def check_cjk_font(pages: list[tuple[str, str]]) -> None:
    """Stop, rather than print Chinese pages as empty boxes, where no CJK font is installed."""
    if not any("/zh/" in path for path, _ in pages) or shutil.which("fc-list") is None:
        return
    done = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True)
    if not done.stdout.strip():
        raise SystemExit(
            "No Chinese font: the PDF's Chinese pages would print as empty boxes. "
            "Run `sudo apt-get install -y fonts-noto-cjk` (Debian/Ubuntu), then make pdf again."
        )


PAGE_STYLE = """
@page { size: A4; margin: 0; }
body { margin: 0; font-family: "DejaVu Sans", "Liberation Sans", "Noto Sans CJK SC", sans-serif; }
"""

COVER = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><style>{style}
.cover {{ height: 297mm; box-sizing: border-box; padding: 70mm 25mm 0; color: #1a1a1a; }}
.cover img {{ width: 42mm; }}
.cover h1 {{ font-size: 34pt; margin: 10mm 0 4mm; }}
.cover p {{ font-size: 13pt; line-height: 1.5; max-width: 140mm; }}
.cover .meta {{ margin-top: 40mm; font-size: 11pt; color: #444; }}
</style></head><body><section class="cover">
<img src="{logo}" alt="">
<h1>Masked losses in PyTorch</h1>
<p>Why <code>F.mse_loss(pred * mask, target * mask)</code> is wrong, and masked means that
stay correct with broadcast masks, weights, NaN padding, empty batches and data
parallelism. With a Chinese edition of Part 1.</p>
<p class="meta">The masked-loss authors · version {version}<br>{url}<br>
Code: MIT licence. Text and figures: CC BY 4.0.</p>
</section></body></html>"""

CONTENTS = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><style>{style}
@page {{ margin: 16mm 22mm 18mm; }}
h1 {{ font-size: 20pt; margin: 0 0 4mm; }}
h2 {{ font-size: 11pt; margin: 4mm 0 1mm; color: #333; }}
ol {{ list-style: none; margin: 0; padding: 0; }}
li {{ display: flex; align-items: baseline; font-size: 10.5pt; line-height: 1.5; }}
li .title {{ flex: none; }}
li .dots {{ flex: 1 1 auto; border-bottom: 1px dotted #999; margin: 0 2mm; }}
li .page {{ flex: none; }}
</style></head><body><section class="contents"><h1>Contents</h1>{parts}</section></body></html>"""

NUMBERS = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>{style}
.sheet {{ height: 297mm; position: relative; break-after: page; }}
.sheet p {{ position: absolute; bottom: 7mm; left: 0; right: 0; margin: 0;
  text-align: center; font-size: 8pt; color: #555; }}
</style></head><body>{sheets}</body></html>"""


def contents_html(entries: list[tuple[str, str, int]]) -> str:
    """The printed contents: each part's chapters with the page each starts on."""
    parts: list[str] = []
    current = None
    for title, caption, number in entries:
        if caption != current:
            if current is not None:
                parts.append("</ol>")
            parts.append(f"<h2>{html.escape(caption)}</h2><ol>" if caption else "<ol>")
            current = caption
        parts.append(
            f'<li><span class="title">{html.escape(title)}</span><span class="dots"></span>'
            f'<span class="page">{number}</span></li>'
        )
    parts.append("</ol>")
    return CONTENTS.format(style=PAGE_STYLE, parts="".join(parts))


MOUNTED_JS = """() => [...document.querySelectorAll('.widget-mount')]
    .every(mount => mount.children.length > 0)"""


def build(site: pathlib.Path, out: pathlib.Path) -> int:
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader, PdfWriter

    pages = toc_pages()
    check_cjk_font(pages)
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    margins = {"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"}
    chapters: list[tuple[str, str, PdfReader]] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            for path, caption in pages:
                page.goto(base + path, wait_until="networkidle")
                # Every widget (chapter 3's mask explorer, chapter 4's training
                # explorer) drawn from its stored state before the page is printed.
                page.wait_for_function(MOUNTED_JS, timeout=30_000)
                page.evaluate(PREPARE_JS)
                page.emulate_media(media="print")
                title = page.title().split(" \u2014 ")[0]
                data = page.pdf(format="A4", print_background=True, margin=margins)
                page.emulate_media(media="screen")
                chapters.append((title, caption, PdfReader(io.BytesIO(data))))

            def printed(document: str) -> PdfReader:
                page.set_content(document, wait_until="load")
                return PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))

            version = (site / "_static" / "documentation_options.js").read_text(encoding="utf-8")
            match = re.search(r"VERSION: '([^']+)'", version)
            cover = printed(
                COVER.format(
                    style=PAGE_STYLE,
                    logo=base + "_static/logo.svg",
                    version=html.escape(match.group(1) if match else ""),
                    url=html.escape(site_address()),
                )
            )
            # The contents' own length decides where the chapters start: print it once
            # to count its pages, then with the right numbers.
            contents_pages = 1
            for _ in range(3):
                number = len(cover.pages) + contents_pages + 1
                entries = []
                for title, caption, reader in chapters:
                    entries.append((title, caption, number))
                    number += len(reader.pages)
                contents = printed(contents_html(entries))
                if len(contents.pages) == contents_pages:
                    break
                contents_pages = len(contents.pages)

            # One page number per sheet, continuous from the cover, with the chapter's name.
            labels = [""] * len(cover.pages) + ["Contents"] * len(contents.pages)
            for title, _, reader in chapters:
                labels += [title] * len(reader.pages)
            sheets = "".join(
                f'<div class="sheet"><p>{html.escape(label)} \u2014 {number}</p></div>'
                if label
                else '<div class="sheet"></div>'
                for number, label in enumerate(labels, start=1)
            )
            numbers = printed(NUMBERS.format(style=PAGE_STYLE, sheets=sheets))
            browser.close()
    finally:
        server.shutdown()

    writer = PdfWriter()
    writer.append(cover)
    writer.append(contents)
    writer.add_outline_item(title="Contents", page_number=len(cover.pages))
    parts: dict[str, object] = {}
    for title, caption, reader in chapters:
        start = len(writer.pages)
        writer.append(reader)
        parent = None
        if caption:
            if caption not in parts:
                parts[caption] = writer.add_outline_item(title=caption, page_number=start)
            parent = parts[caption]
        writer.add_outline_item(title=title, page_number=start, parent=parent)
    if len(numbers.pages) != len(writer.pages):
        raise SystemExit(f"page numbers: {len(numbers.pages)} sheets for {len(writer.pages)} pages")
    for sheet, target in zip(numbers.pages, writer.pages, strict=True):
        target.merge_page(sheet)
    writer.add_metadata(
        {"/Title": "Masked losses in PyTorch", "/Author": "The masked-loss authors"}
    )
    writer.page_mode = "/UseOutlines"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        writer.write(handle)
    print(f"{out}: {len(writer.pages)} pages")
    return 0


def site_address() -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    owner, name = config["repository"]["url"].rstrip("/").split("/")[-2:]
    return f"https://{owner.lower()}.github.io/{name}/"


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
