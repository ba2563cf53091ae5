"""The whole-book PDF (``make pdf``): every chapter, and nothing cut off.

``make test`` builds it with the site (``make book``); run alone, these tests
skip if it has not been built.
"""

from __future__ import annotations

import pathlib
import re
import unicodedata

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
PDF = SITE / "masked-losses-in-pytorch.pdf"


@pytest.fixture(scope="module")
def pdf():
    if not PDF.exists():
        pytest.skip("no PDF: run `make pdf`")
    from pypdf import PdfReader

    reader = PdfReader(str(PDF))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, text


def squeeze(text: str) -> str:
    """Without white space (lines wrap differently on paper) and ligatures (ﬁ -> fi)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def toc_documents() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"]]
    for part in toc.get("parts", []):
        docs += [chapter["file"] for chapter in part.get("chapters", [])]
    return docs


def longest_output_lines(page: str, count: int = 3) -> list[str]:
    """The longest lines of cell output (printed error messages) on a built page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((SITE / page).read_text(encoding="utf-8"), "html.parser")
    blocks = [pre.get_text() for pre in soup.select("div.cell_output pre")]
    lines = [line for block in blocks for line in block.splitlines()]
    return sorted(lines, key=len, reverse=True)[:count]


def test_pdf_has_every_chapter_in_order(pdf):
    reader, text = pdf
    documents = toc_documents()
    # Each document starts on a page of its own; chapters run to several pages.
    assert len(documents) + 10 <= len(reader.pages) <= 400, len(reader.pages)
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    nested = [i.title for item in reader.outline if isinstance(item, list) for i in item]
    bookmarks = titles + nested
    assert len(bookmarks) >= len(documents), bookmarks
    flat = squeeze(text)
    position = -1
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    captions = {part.get("caption") for part in toc.get("parts", [])}
    for title in [b for b in bookmarks if b not in captions]:
        if not title.isascii():
            continue  # (text extraction from the PDF does not map every script's glyphs back)
        found = flat.find(squeeze(title), position + 1)
        assert found > position, f"chapter {title!r} missing or out of order in the PDF"
        position = found


def test_long_error_messages_survive_in_the_pdf(pdf):
    _, text = pdf
    flat = squeeze(text)
    checked = 0
    for document in toc_documents():
        if not (SITE / f"{document}.html").exists():
            continue  # (a listed page that was not built fails the build, not this test)
        lines = [line for line in longest_output_lines(f"{document}.html") if len(line) > 120]
        for line in lines:
            assert squeeze(line) in flat, f"cut off or missing in the PDF ({document}): {line}"
        checked += len(lines)
    # The long messages (shapes, speed) are the point: there must be some to check.
    assert checked >= 3, checked
