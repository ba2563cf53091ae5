"""A review set to look through in one sitting: every page, phone and desktop, light and dark.

Serves ``_build/html`` at the server's root (as ``make serve`` does) and saves,
with headless Chromium, a full-page screenshot of every page at 390 and 1280
CSS px wide, in the light and the dark theme, plus the slide deck; then
renders sampled pages of the whole-book PDF (the cover, the contents, the
first page of every chapter, Chinese pages included) to PNG with pdftoppm.
``test-artifacts/index.html`` shows them all, page by page.

    python scripts/screenshots.py [--site _build/html] [--out test-artifacts]
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import os
import pathlib
import shutil
import subprocess
import sys
import threading

ROOT = pathlib.Path(__file__).resolve().parent.parent
PDF_NAME = "masked-losses-in-pytorch.pdf"
WIDTHS = {"phone": (390, 844), "desktop": (1280, 800)}
MODES = ("light", "dark")
SKIP = ("_static", "_sources", "_images", "_modules", "jupyter_execute")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        pass


def site_pages(site: pathlib.Path) -> list[str]:
    pages = sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if p.relative_to(site).parts[0] not in SKIP
    )
    # The introduction first, then the book's order of folders.
    return sorted(pages, key=lambda p: (p != "book/intro.html", p))


def chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and pathlib.Path(candidate).exists():
            return candidate
    return None


def shoot_site(site: pathlib.Path, out: pathlib.Path) -> list[tuple[str, dict[str, str]]]:
    from playwright.sync_api import sync_playwright

    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    rows: list[tuple[str, dict[str, str]]] = []
    pages = site_pages(site)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            contexts = {
                (name, mode): browser.new_context(
                    viewport={"width": w, "height": h}, color_scheme=mode
                )
                for name, (w, h) in WIDTHS.items()
                for mode in MODES
            }
            for path in pages:
                shots = {}
                for (name, mode), context in contexts.items():
                    page = context.new_page()
                    page.goto(base + path, wait_until="networkidle")
                    if page.locator(".widget-mount").count():
                        page.wait_for_selector(".mle-root", timeout=30_000)
                    page.wait_for_timeout(150)
                    stem = path[:-5].replace("/", "__")
                    target = out / "site" / f"{stem}-{name}-{mode}.png"
                    full = not path.startswith("classroom/slides/")
                    page.screenshot(path=str(target), full_page=full)
                    shots[f"{name} {mode}"] = target.relative_to(out).as_posix()
                    page.close()
                rows.append((path, shots))
                print(f"  {path}", flush=True)
            browser.close()
    finally:
        server.shutdown()
    return rows


def pdf_samples(pdf: pathlib.Path) -> list[tuple[int, str]]:
    """(page number, why): the cover, the contents, each chapter's first page, the last."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    chosen: dict[int, str] = {1: "cover", 2: "contents", len(reader.pages): "last page"}

    def walk(items: list) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
                continue
            number = reader.get_destination_page_number(item) + 1
            chosen.setdefault(number, item.title)

    walk(reader.outline)
    return sorted(chosen.items())


def shoot_pdf(pdf: pathlib.Path, out: pathlib.Path) -> list[tuple[int, str, str]]:
    if not pdf.exists() or shutil.which("pdftoppm") is None:
        print(f"(no PDF pages: {pdf} or pdftoppm missing)")
        return []
    rows = []
    for number, why in pdf_samples(pdf):
        stem = out / "pdf" / f"page-{number:03d}"
        subprocess.run(
            ["pdftoppm", "-r", "70", "-png", "-singlefile", "-f", str(number), "-l", str(number)]
            + [str(pdf), str(stem)],
            check=True,
        )
        rows.append((number, why, stem.with_suffix(".png").relative_to(out).as_posix()))
    return rows


INDEX_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1rem; }
h2 { margin-top: 2rem; border-top: 1px solid #ccc; padding-top: 0.5rem; font-size: 1.1rem; }
.row { display: flex; gap: 1rem; align-items: flex-start; overflow-x: auto; }
figure { margin: 0; }
figcaption { font-size: 0.8rem; color: #444; }
img { border: 1px solid #999; max-height: 480px; }
.pdf img { max-height: 420px; }
"""


def write_index(out: pathlib.Path, rows: list, pdf_rows: list) -> pathlib.Path:
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Review set: every page, phone and desktop, light and dark; the PDF</title>",
        f"<style>{INDEX_STYLE}</style></head><body>",
        "<h1>Review set</h1>",
        f"<p>{len(rows)} pages at 390 and 1280 px, light and dark; "
        f"{len(pdf_rows)} pages of the PDF. Click a picture for full size.</p>",
        "<nav><a href='#pdf'>PDF pages</a></nav>",
    ]
    for path, shots in rows:
        parts.append(f"<h2 id='{html.escape(path)}'>{html.escape(path)}</h2><div class='row'>")
        for label, src in shots.items():
            parts.append(
                f"<figure><a href='{src}'><img src='{src}' alt='{html.escape(path)}, {label}' "
                f"loading='lazy'></a><figcaption>{label}</figcaption></figure>"
            )
        parts.append("</div>")
    parts.append("<h2 id='pdf'>PDF pages</h2><div class='row pdf'>")
    for number, why, src in pdf_rows:
        parts.append(
            f"<figure><a href='{src}'><img src='{src}' alt='PDF page {number}' loading='lazy'></a>"
            f"<figcaption>p. {number}: {html.escape(why)}</figcaption></figure>"
        )
    parts.append("</div></body></html>")
    index = out / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    return index


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--site", type=pathlib.Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "test-artifacts")
    args = parser.parse_args()
    if not (args.site / "index.html").exists():
        raise SystemExit(f"{args.site} has no site: run `make html` first")
    for folder in ("site", "pdf"):
        shutil.rmtree(args.out / folder, ignore_errors=True)
        (args.out / folder).mkdir(parents=True)
    rows = shoot_site(args.site, args.out)
    pdf_rows = shoot_pdf(args.site / PDF_NAME, args.out)
    index = write_index(args.out, rows, pdf_rows)
    print(f"{index}: {len(rows)} pages x 4, {len(pdf_rows)} PDF pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
