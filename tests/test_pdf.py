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
    without_font, little = [], []
    total = 0
    for index in pages:
        page = reader.pages[index]
        chinese = len(CJK.findall(page.extract_text()))
        total += chinese
        fonts = page.get("/Resources", {}).get("/Font", {})
        if chinese and not any(cjk_code_points(font) for font in fonts.values()):
            without_font.append(index + 1)
        if chinese < 5:
            little.append(index + 1)
    assert len(pages) >= 20, len(pages)
    assert not without_font, f"Chinese text without a CJK font on pages {without_font}"
    # Prose pages are Chinese; a page of code may have little of it.
    assert len(little) <= len(pages) // 10, f"pages with almost no Chinese: {little}"
    assert total >= 100 * len(pages) // 2, total


def test_pdf_has_a_contents_page_and_continuous_page_numbers(pdf):
    reader, _ = pdf
    texts = [page.extract_text() for page in reader.pages]
    contents = next((i for i, t in enumerate(texts[:5]) if t.lstrip().startswith("Contents")), None)
    assert contents is not None, "no printed contents among the first pages"
    listed = squeeze("".join(texts[contents : contents + 3]))
    starts = dict(outline_starts(reader))
    position = 0
    for title in toc_titles(reader):
        # (Text extraction maps some Chinese characters to look-alike radicals: any non-ASCII
        # character stands for a Chinese one.)
        pattern = "".join(r"[^\x00-\x7f]" if CJK.match(c) else re.escape(c) for c in squeeze(title))
        entry = re.compile(pattern + r"\.*(\d+)").search(listed, position)
        assert entry, f"{title!r} missing from the contents (or out of order)"
        position = entry.end()
        # ... with the page it starts on.
        assert int(entry.group(1)) == starts[title] + 1, (title, entry.group(1))
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


def math_fonts(reader) -> dict[str, int]:
    """Fonts with "Math" in their name, and on how many pages: MathML typeset as text."""
    found: dict[str, int] = {}
    for page in reader.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for font in fonts.values():
            name = str(font.get_object().get("/BaseFont", "")).split("+")[-1]
            if "math" in name.lower():
                found[name] = found.get(name, 0) + 1
    return found


def test_formulas_print_once(pdf):
    """Formulas are drawn once, from their SVG: never also typeset from MathJax's copy.

    The SVG is drawn with paths; a math font in the PDF means the assistive MathML
    copy was printed next to it ("4/6" reading "4/64/6"). Nor may the copy's text
    appear in the PDF's text: paragraphs read as on screen.
    """
    from bs4 import BeautifulSoup

    reader, text = pdf
    typeset = math_fonts(reader)
    assert not typeset, f"formulas typeset twice, with {typeset} (font: pages)"
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
