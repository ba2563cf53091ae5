"""The editions outside the site: plain Jupyter, as Colab and a student's Jupyter render them.

- every chapter, English and Chinese, converts to CommonMark with no MyST role,
  no directive fence and no ``claim(`` left, in both the Colab and the student
  edition; the glued numbers are filled in as the roles format them;
- the site's Colab links open the Colab edition at the release tag, and each
  link's target is a file the converter produces;
- the committed Colab edition (``colab/``) is what ``make colab`` writes now.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import plain_jupyter  # noqa: E402

CHAPTERS = plain_jupyter.chapters("en") + plain_jupyter.chapters("zh")
EDITIONS = ("colab", "student")

# Written here, not taken from the converter: what plain Jupyter shows as raw markup.
ROLE = re.compile(r"\{[A-Za-z][\w:.+-]*\}`")
FENCE = re.compile(r"(?m)^[ \t>]*(?:`{3,}|:{3,})[ \t]*\{[A-Za-z][\w:.+-]*\}")
CLAIM = re.compile(r"\bclaim\(")


def load(path: pathlib.Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def text(cell: dict) -> str:
    return plain_jupyter.source(cell)


def ids(path: pathlib.Path) -> str:
    return path.relative_to(ROOT / "notebooks").as_posix()


@pytest.fixture(scope="module", params=EDITIONS)
def edition(request):
    converted = {}
    for lang in ("en", "zh"):
        numbers = plain_jupyter.exercise_numbers(plain_jupyter.chapters(lang))
        for path in plain_jupyter.chapters(lang):
            converted[path] = plain_jupyter.convert(path, request.param, numbers)[0]
    return request.param, converted


def test_both_languages_are_converted(edition):
    _, converted = edition
    assert len(plain_jupyter.chapters("zh")) >= 5
    assert sorted(converted) == sorted(CHAPTERS)


def test_no_myst_and_no_claim_is_left(edition):
    name, converted = edition
    left = []
    for path, nb in converted.items():
        for index, cell in enumerate(nb["cells"]):
            body = text(cell)
            if cell["cell_type"] == "markdown":
                left += [f"{ids(path)} {index}: {m.group(0)}" for m in ROLE.finditer(body)]
                left += [f"{ids(path)} {index}: {m.group(0)}" for m in FENCE.finditer(body)]
                assert ":label:" not in body and ":class:" not in body, (ids(path), body)
            if CLAIM.search(body):
                left.append(f"{ids(path)} {index}: claim(")
    assert left == [], f"{name}: {len(left)} raw MyST or claim left: {left[:10]}"


def test_the_originals_do_hold_myst():
    """The test above would pass on nothing: the chapters are full of what it looks for."""
    raw = [
        cell
        for path in CHAPTERS
        for cell in load(path)["cells"]
        if ROLE.search(text(cell)) or FENCE.search(text(cell)) or CLAIM.search(text(cell))
    ]
    assert len(raw) > 100


def test_the_first_cell_names_the_edition(edition):
    name, converted = edition
    for path, nb in converted.items():
        first = nb["cells"][0]
        assert first["cell_type"] == "markdown"
        zh = "zh" in path.relative_to(ROOT).parts
        word = {
            ("colab", False): "Colab edition",
            ("student", False): "Student edition",
            ("colab", True): "Colab 版",
            ("student", True): "学生版",
        }[name, zh]
        assert word in text(first), ids(path)
        assert nb["metadata"]["masked_loss"]["edition"] == name


def test_glued_numbers_are_filled_in_as_the_roles_format_them(edition):
    _, converted = edition
    role = re.compile(r"\{glue:text\}`([^`:]+)(?::([^`]*))?`")
    filled = 0
    for path in CHAPTERS:
        original = load(path)
        values = plain_jupyter.glued_values(original)
        body = "\n".join(text(c) for c in converted[path]["cells"] if c["cell_type"] == "markdown")
        for cell in original["cells"]:
            for key, spec in role.findall(text(cell)) if cell["cell_type"] == "markdown" else []:
                shown = plain_jupyter.format_plain_text(values[key], spec or "")
                assert shown in body, f"{ids(path)}: {key}:{spec} = {shown} missing"
                filled += 1
    assert filled > 100


def test_chapter_2_table_shows_its_numbers():
    nb, _ = plain_jupyter.convert(ROOT / "notebooks" / "02_the_bug.ipynb", "colab")
    body = "\n".join(text(c) for c in nb["cells"])
    assert "| `'mean'` | 0.5000 | 0.6667 | 1.0000 |" in body
    assert "divides by all 6 elements, not the 4" in " ".join(body.split())


def test_format_plain_text_matches_myst_nb():
    from myst_nb.core.variables import format_plain_text

    for value, spec in [
        ("0.6666666865348816", ".4f"),
        ("4", ""),
        ("4", "s"),
        ("'text'", ""),
        ("12345.678", ",.0f"),
        ("0.25", ".0%"),
        ("3", "d"),
    ]:
        assert plain_jupyter.format_plain_text(value, spec) == format_plain_text(value, spec)


def test_links_go_to_the_site():
    site = plain_jupyter.site_url()
    nb, _ = (
        plain_jupyter.convert(ROOT / "notebooks" / "zh" / "06_shapes.ipynb", "colab")
        if (ROOT / "notebooks" / "zh" / "06_shapes.ipynb").exists()
        else plain_jupyter.convert(ROOT / "notebooks" / "02_the_bug.ipynb", "colab")
    )
    body = "\n".join(text(c) for c in nb["cells"])
    links = re.findall(r"\]\((\S+?)\)", body)
    assert links
    for link in links:
        assert link.startswith(("http://", "https://", "#")), link
    assert any(link.startswith(site) for link in links)


def test_relative_links_resolve_to_existing_pages():
    site = plain_jupyter.site_url()
    for lang in ("en", "zh"):
        for path in plain_jupyter.chapters(lang):
            nb, _ = plain_jupyter.convert(path, "colab")
            body = "\n".join(text(c) for c in nb["cells"] if c["cell_type"] == "markdown")
            for link in re.findall(rf"\]\(({re.escape(site)}[^)#\s]*)", body):
                page = link.removeprefix(site)
                if page.endswith(".html"):
                    stem = page.removesuffix(".html")
                    assert (ROOT / f"{stem}.ipynb").exists() or (ROOT / f"{stem}.md").exists(), (
                        f"{ids(path)}: {link}"
                    )


def test_solutions_are_folded_in_colab_and_gone_for_students():
    path = ROOT / "notebooks" / "02_the_bug.ipynb"
    colab, _ = plain_jupyter.convert(path, "colab")
    student, removed = plain_jupyter.convert(path, "student")
    assert removed == ["ex-predict"]
    answer = "predicted_mean = 4 / 6"
    folded = [c for c in colab["cells"] if answer in text(c)]
    assert len(folded) == 1 and folded[0]["metadata"]["cellView"] == "form"
    assert folded[0]["metadata"]["jupyter"]["source_hidden"] is True
    details = [c for c in colab["cells"] if text(c).startswith("<details>")]
    assert details and "<summary>Solution to Exercise" in text(details[0])
    assert not any(answer in text(c) for c in student["cells"])
    assert all(c.get("outputs", []) == [] for c in student["cells"] if c["cell_type"] == "code")
    assert any(c.get("outputs") for c in colab["cells"] if c["cell_type"] == "code")


def test_chinese_solutions_are_titled_as_on_the_site():
    """ "练习 N 的答案", as the Chinese pages title a solution; N as the English "Exercise N"."""
    path = ROOT / "notebooks" / "zh" / "03_why_k_over_n.ipynb"
    colab, _ = plain_jupyter.convert(path, "colab")
    number = plain_jupyter.exercise_numbers(plain_jupyter.chapters("en"))["ex-k-over-n"]
    body = "\n".join(text(c) for c in colab["cells"])
    assert f"练习 {number} 的答案" in body
    assert "Solution" not in body and "练习答案" not in body and "double-click" not in body
    assert f"# @title 练习 {number} 的答案(双击显示代码)" in body


def test_admonitions_become_blockquotes_with_their_title():
    ctx = plain_jupyter.Context(ROOT / "notebooks" / "02_the_bug.ipynb", {"cells": []}, {}, "en")
    md = "Before.\n\n```{admonition} Summary\n:class: important\n\n- one\n- two\n```\n\nAfter."
    out = plain_jupyter.convert_markdown(md, ctx)
    assert out == "Before.\n\n> **Summary**\n>\n> - one\n> - two\n\nAfter."
    nested = "::::{note}\n```python\nx = 1\n```\n::::"
    assert (
        plain_jupyter.convert_markdown(nested, ctx) == "> **Note**\n>\n> ```python\n> x = 1\n> ```"
    )
    figure = "```{figure} ../book/images/logo.svg\n:alt: The logo\n\nThe caption.\n```"
    assert plain_jupyter.convert_markdown(figure, ctx) == (
        f"![The logo]({plain_jupyter.site_url()}book/images/logo.svg)\n\n*The caption.*"
    )


def test_an_unknown_directive_or_missing_glue_is_refused():
    ctx = plain_jupyter.Context(ROOT / "notebooks" / "02_the_bug.ipynb", {"cells": []}, {}, "en")
    with pytest.raises(plain_jupyter.ConversionError, match="nothing glued as 'nowhere'"):
        plain_jupyter.convert_markdown("{glue:text}`nowhere:.2f`", ctx)
    with pytest.raises(
        plain_jupyter.ConversionError, match=r"no plain form for the directive \{raw\}"
    ):
        plain_jupyter.convert_markdown("```{raw} html\n<b>x</b>\n```", ctx)
    with pytest.raises(plain_jupyter.ConversionError, match="no plain form for the role"):
        plain_jupyter.convert_markdown("{cite}`somebody`", ctx)


# --- The Colab links and the committed edition -----------------------------------------------


def test_every_colab_link_opens_a_file_of_the_edition():
    import book_settings

    repository = plain_jupyter.repository_url()
    produced = set(plain_jupyter.colab_edition())
    owner, name = repository.split("/")[-2:]
    prefix = f"{book_settings.COLAB}/github/{owner}/{name}/blob/v{plain_jupyter.package_version()}/"
    for path in CHAPTERS:
        page = path.relative_to(ROOT).with_suffix("").as_posix()
        link = book_settings.colab_link(repository, page)
        assert link and link.startswith(prefix), link
        target = pathlib.PurePosixPath(link.removeprefix(prefix))
        assert target in produced, f"{page}: the Colab link opens {target}, not produced"
    assert book_settings.colab_link(repository, "book/intro") is None


def test_the_committed_colab_edition_is_current():
    """``colab/`` holds exactly what ``make colab`` writes now (run it after editing a chapter)."""
    stale = plain_jupyter.stale_colab()
    assert stale == [], f"run `make colab`: {stale}"


def test_the_staleness_check_sees_a_change(tmp_path):
    out = tmp_path / "colab"
    assert plain_jupyter.write_colab(out) == len(CHAPTERS)
    assert plain_jupyter.stale_colab(out) == []
    one = next(out.rglob("*.ipynb"))
    one.write_text(
        one.read_text(encoding="utf-8").replace("masked", "masked!", 1), encoding="utf-8"
    )
    (out / "zh" / "99_extra.ipynb").write_text("{}", encoding="utf-8")
    stale = plain_jupyter.stale_colab(out)
    assert len(stale) == 2 and any("99_extra" in s for s in stale)
    assert plain_jupyter.main(["--check", "--out", str(out)]) == 1


def test_the_colab_check_installs_the_wheel_through_the_setup_cell(tmp_path):
    import colab_check

    wheel = tmp_path / "masked_loss-0-py3-none-any.whl"
    text = plain_jupyter.colab_edition()[pathlib.PurePosixPath("colab/zh/02_the_bug.ipynb")]
    nb = colab_check.with_wheel(json.loads(text), wheel)
    setup = [c for c in nb["cells"] if "setup" in c["metadata"].get("tags", [])]
    assert len(setup) == 1
    assert f'%pip install --quiet "masked_loss[book] @ {wheel.as_uri()}"' in text_of(setup[0])
    assert "git+" not in text_of(setup[0])


def text_of(cell: dict) -> str:
    return plain_jupyter.source(cell)


# --- The student zip: both languages ---------------------------------------------------------

STUDENT_TOP = "masked-losses-student/"
MD_LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)\)|^\[[^\]\n]+\]:\s*(\S+)", re.MULTILINE)
HTML_LINK = re.compile(r"""<a\s[^>]*href=["']([^"']+)["']""")


@pytest.fixture(scope="module")
def student_zip(tmp_path_factory):
    import zipfile

    import make_student

    out = tmp_path_factory.mktemp("student")
    report = make_student.build(make_student.all_chapters(), out)
    with zipfile.ZipFile(out / make_student.ZIP_NAME) as bundle:
        members = {
            name.removeprefix(STUDENT_TOP): bundle.read(name).decode("utf-8")
            for name in bundle.namelist()
        }
    return members, report


def links(nb: dict) -> list[str]:
    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        body = text(cell)
        found += [a or b for a, b in MD_LINK.findall(body)]
        found += HTML_LINK.findall(body)
    return found


def test_the_student_zip_holds_both_languages(student_zip):
    members, report = student_zip
    for path in plain_jupyter.chapters("en"):
        assert path.name in members, path.name
    zh = plain_jupyter.chapters("zh")
    assert len(zh) >= 5
    for path in zh:
        assert f"zh/{path.name}" in members, f"zh/{path.name} is not in the zip"
        assert sorted(report[f"zh/{path.name}"]) == sorted(
            plain_jupyter.exercise_labels(load(path))
        )
    readme = members["README.txt"]
    assert "zh/" in readme and "Not yet" in readme
    assert "✓ 正确" in readme and "✗ 还不对" in readme
    assert "✓ 正确" in members["zh/README.txt"] and "git+" in members["zh/README.txt"]


def test_chinese_student_notebooks_speak_chinese(student_zip):
    members, _ = student_zip
    english_numbers = plain_jupyter.exercise_numbers(plain_jupyter.chapters("en"))
    headings = 0
    for path in plain_jupyter.chapters("zh"):
        nb = json.loads(members[f"zh/{path.name}"])
        header = text(nb["cells"][0])
        assert "学生版" in header and "「✓ 正确」" in header and "「✗ 还不对」" in header, header
        assert "Correct" not in header and "Not yet" not in header
        body = "\n".join(text(c) for c in nb["cells"] if c["cell_type"] == "markdown")
        assert "Exercise" not in body and "Your turn" not in body, path.name
        for label, number in nb["metadata"]["masked_loss"]["exercises"].items():
            # "练习 N", numbered as the English counterpart ("Exercise N").
            assert f"**练习 {number}**" in body, (path.name, label)
            assert number == english_numbers[label.removesuffix("-zh")], label
            assert plain_jupyter.YOUR_TURN_ZH in body
            headings += 1
    assert headings >= 3


def test_every_link_in_the_student_zip_resolves(student_zip):
    members, _ = student_zip
    site = plain_jupyter.site_url()
    checked = {"relative": 0, "language": 0}
    for name, body in members.items():
        if not name.endswith(".ipynb"):
            continue
        nb = json.loads(body)
        folder = pathlib.PurePosixPath(name).parent
        for link in links(nb):
            target = link.split("#", 1)[0]
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target):
                # A chapter on the site: its notebook is in the zip too.
                page = re.fullmatch(re.escape(site) + r"notebooks/((?:zh/)?\d\d_\w+)\.html", target)
                if page:
                    assert f"{page.group(1)}.ipynb" in members, f"{name}: {link}"
                    checked["language"] += ("zh/" in page.group(1)) != name.startswith("zh/")
                continue
            resolved = (folder / target).as_posix()
            parts: list[str] = []
            for part in resolved.split("/"):
                if part == "..":
                    assert parts, f"{name}: {link} leaves the zip"
                    parts.pop()
                elif part not in {"", "."}:
                    parts.append(part)
            assert "/".join(parts) in members, f"{name}: {link} is not in the zip"
            checked["relative"] += 1
    # Every Part 1 chapter links to its other-language version, both ways.
    assert checked["language"] >= 2 * len(plain_jupyter.chapters("zh")), checked


def test_the_student_page_counts_what_the_zip_holds():
    words = {5: "five", 15: "fifteen"}
    page = (ROOT / "book" / "student.md").read_text(encoding="utf-8")
    english, chinese = plain_jupyter.chapters("en"), plain_jupyter.chapters("zh")
    assert f"the {words[len(english)]} chapter notebooks" in page
    assert f"the {words[len(chinese)]} Chinese chapters" in page
    assert "`zh/` 文件夹" in page or "<code>zh/</code> 文件夹" in page
