"""The whole-book PDF (``make pdf``): every chapter, and nothing cut off.

``make test`` builds it with the site (``make book``); run alone, these tests
skip if it has not been built.
"""

from __future__ import annotations

import os
import pathlib
import re
import unicodedata

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
# BOOK_SITE: another build to check (e.g. an older one, to see these tests fail on it).
SITE = pathlib.Path(os.environ.get("BOOK_SITE", ROOT / "_build" / "html"))
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


CJK = re.compile(r"[\u4e00-\u9fff]")


def outline_starts(reader) -> list[tuple[str, int]]:
    """(bookmark title, first page index) for every bookmark, in order."""
    found = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                found.append((item.title, reader.get_destination_page_number(item)))

    walk(reader.outline)
    return found


def chinese_page_range(reader) -> range:
    """The pages of the Chinese part: from its first bookmark to the end of the book."""
    starts = [index for title, index in outline_starts(reader) if CJK.search(title)]
    assert starts, "no Chinese chapter in the PDF's bookmarks"
    return range(min(starts), len(reader.pages))


def cjk_code_points(font) -> int:
    """How many CJK characters a font's ToUnicode map gives (0: it cannot show Chinese)."""
    font = font.get_object()
    fonts = [font] + [f.get_object() for f in font.get("/DescendantFonts", [])]
    count = 0
    for f in fonts:
        if "/ToUnicode" in f:
            data = f["/ToUnicode"].get_object().get_data().decode("latin-1")
            count += sum(
                0x4E00 <= int(h, 16) <= 0x9FFF for h in re.findall(r"<([0-9A-Fa-f]{4})>", data)
            )
    return count


def test_chinese_pages_print_chinese(pdf):
    """The Chinese pages use an embedded CJK font, and their text extracts as Chinese."""
    reader, _ = pdf
    pages = chinese_page_range(reader)
    weak = []
    for index in pages:
        page = reader.pages[index]
        text = page.extract_text()
        fonts = page.get("/Resources", {}).get("/Font", {})
        cjk_fonts = sum(cjk_code_points(font) > 0 for font in fonts.values())
        chinese = len(CJK.findall(text))
        # A page of Chinese prose, or code with Chinese comments: some Chinese on each.
        if chinese < 5 or cjk_fonts == 0:
            weak.append(f"p. {index + 1}: {chinese} Chinese characters, {cjk_fonts} CJK fonts")
    assert len(pages) >= 20, len(pages)
    assert not weak, f"{len(weak)} of {len(pages)} Chinese pages without Chinese:\n" + "\n".join(
        weak[:10]
    )


def test_pdf_has_a_contents_page_and_continuous_page_numbers(pdf):
    reader, _ = pdf
    texts = [page.extract_text() for page in reader.pages]
    contents = next((i for i, t in enumerate(texts[:5]) if t.lstrip().startswith("Contents")), None)
    assert contents is not None, "no printed contents among the first pages"
    listed = squeeze("".join(texts[contents : contents + 3]))
    starts = dict(outline_starts(reader))
    for title in toc_titles(reader):
        assert squeeze(title) in listed, f"{title!r} missing from the contents"
        # ... with the page it starts on.
        entry = re.search(re.escape(squeeze(title)) + r"\.*(\d+)", listed)
        assert entry and int(entry.group(1)) == starts[title] + 1, (title, entry and entry.group(1))
    # Every page after the cover carries its own number: 2, 3, ... to the last.
    unnumbered = [
        i + 1
        for i, text in enumerate(texts)
        if i > 0 and not re.search(rf"\u2014\s*{i + 1}\s*$", text.strip())
    ]
    assert not unnumbered, f"{len(unnumbered)} pages without their number, e.g. {unnumbered[:10]}"


def toc_titles(reader) -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    captions = {part.get("caption") for part in toc.get("parts", [])} | {"Contents"}
    return [title for title, _ in outline_starts(reader) if title not in captions]


def test_formulas_print_once(pdf):
    """Paragraphs with formulas read in the PDF as on screen: no text copy of a formula.

    On paper a formula is drawn (SVG); any text for it is MathJax's assistive copy
    shown by mistake ("4/6" reading "4/64/6").
    """
    from bs4 import BeautifulSoup

    _, text = pdf
    flat = squeeze(text)
    with_copy = without_copy = total = 0
    for document in toc_documents():
        page = SITE / f"{document}.html"
        if not page.exists() or "/zh/" in document:
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for paragraph in soup.select("article p"):
            formulas = paragraph.select("mjx-container")
            copies = [f.select_one("mjx-assistive-mml") for f in formulas]
            if not formulas or None in copies or not (40 <= len(paragraph.get_text()) <= 400):
                continue
            plain = BeautifulSoup(str(paragraph), "html.parser")
            for formula in plain.select("mjx-container"):
                formula.decompose()
            as_drawn = squeeze(plain.get_text())
            as_copied = squeeze(paragraph.get_text())
            if len(as_drawn) < 30 or as_drawn == as_copied:
                continue
            total += 1
            without_copy += as_drawn in flat
            with_copy += as_copied in flat
    assert total >= 30, total
    assert with_copy == 0, f"{with_copy} of {total} paragraphs print their formulas' text copy"
    # (Some paragraphs straddle a page break; most must be found whole.)
    assert without_copy >= 0.7 * total, f"only {without_copy} of {total} paragraphs found"


def test_explorer_is_printed_on_one_page(pdf):
    reader, _ = pdf
    pages = [squeeze(page.extract_text()) for page in reader.pages]
    start = squeeze("Click a cell (or focus it")
    end = squeeze("valid of N = 6 elements")
    on = [i for i, t in enumerate(pages) if start in t]
    assert on, "the explorer is not in the PDF"
    assert all(end in pages[i] for i in on), "the explorer is split across pages"
