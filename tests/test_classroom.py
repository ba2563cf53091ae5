"""The classroom kit: the student edition, the instructor guide and the slide deck.

- ``scripts/make_student.py`` removes every solution and nothing else, every
  exercise check answers "not yet" on its empty template, and the student
  notebooks run top to bottom;
- ``book/instructor.md`` holds the lesson plans, objectives, misconceptions and
  a quiz whose answers agree with the chapters' stored outputs and the package;
- ``slides/masked-losses.ipynb`` is current, and the built deck loads in
  Chromium with no console error and no request to another origin, and moves
  with the arrow keys. The browser test needs the built deck
  (``_build/html/classroom/slides``) or reveal.js in ``node_modules`` (or at
  ``$REVEAL_JS``) to build one; it skips, saying so, without either.
"""

from __future__ import annotations

import ast
import functools
import http.server
import json
import os
import pathlib
import re
import shutil
import sys
import threading
import urllib.parse
import zipfile

import pytest
import torch

import masked_loss as ml
from masked_loss.teaching import exercises as ex

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import execute_notebooks  # noqa: E402
import make_slides  # noqa: E402
import make_student  # noqa: E402
import plain_jupyter  # noqa: E402

CHAPTERS = make_student.chapters()
INSTRUCTOR = ROOT / "book" / "instructor.md"
STUDENT_PAGE = ROOT / "book" / "student.md"
DECK = make_slides.DECK
BUILT_DECK = ROOT / "_build" / "html" / "classroom" / "slides"
REVEAL = pathlib.Path(os.environ.get("REVEAL_JS", make_slides.REVEAL))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def load(path: pathlib.Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    return make_student.source(cell)


def solution_cells(nb: dict) -> list[dict]:
    """The cells between each {solution-start} and its {solution-end} in a chapter."""
    inside, found = False, []
    for cell in nb["cells"]:
        text = source(cell)
        if "{solution-start}" in text:
            inside = True
            continue
        if "{solution-end}" in text:
            inside = False
            continue
        if inside:
            found.append(cell)
    return found


def template_cells(nb: dict) -> dict[str, dict]:
    """The code cell right after each exercise statement, by exercise label.

    In a chapter the statement is an ``{exercise}`` directive with its label; in
    an edition converted to plain Jupyter it is an "**Exercise N**" heading, and
    the notebook's metadata maps each label to its number.
    """
    cells = nb["cells"]
    numbers = nb.get("metadata", {}).get("masked_loss", {}).get("exercises")
    found = {}
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        if numbers is None:
            labels = make_student.EXERCISE.findall(source(cell))
        else:
            labels = [
                label
                for label, number in numbers.items()
                if re.search(rf"(?m)^\*\*Exercise {number}\*\*", source(cell))
            ]
        for label in labels:
            found[label] = cells[i + 1]
    return found


EXERCISE_CHAPTERS = [p for p in CHAPTERS if make_student.exercise_labels(load(p))]


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """The student edition, built from the chapters into a scratch folder."""
    out = tmp_path_factory.mktemp("student")
    report = make_student.build(CHAPTERS, out)
    return out, report


def student_nb(student, path: pathlib.Path) -> dict:
    return load(student[0] / "notebooks" / path.name)


# --- The student edition ---------------------------------------------------------------------


def test_every_chapter_and_every_solution(student):
    out, report = student
    assert sorted(report) == sorted(p.name for p in CHAPTERS)
    for path in CHAPTERS:
        labels = make_student.exercise_labels(load(path))
        assert sorted(report[path.name]) == sorted(labels), path.name
    assert sum(len(v) for v in report.values()) >= 11


@pytest.mark.parametrize("path", EXERCISE_CHAPTERS, ids=lambda p: p.name)
def test_no_solution_code_remains(student, path):
    original, nb = load(path), student_nb(student, path)
    student_text = "\n".join(source(c) for c in nb["cells"])
    solutions = solution_cells(original)
    assert solutions, f"{path.name}: no solution cells found"
    outside = "\n".join(source(c) for c in original["cells"] if c not in solutions)
    for cell in solutions:
        if cell["cell_type"] != "code":
            continue
        lines = [line.strip() for line in source(cell).splitlines() if line.strip()]
        own = [line for line in lines if line not in outside]
        assert own, f"{path.name}: a solution cell with no line of its own:\n{source(cell)}"
        for line in own:
            assert line not in student_text, f"{path.name}: solution code left: {line!r}"
    assert not re.search(r"\{solution(-start|-end)?\}", student_text)


@pytest.mark.parametrize("path", EXERCISE_CHAPTERS, ids=lambda p: p.name)
def test_statements_and_templates_stay(student, path):
    original, nb = load(path), student_nb(student, path)
    before, after = template_cells(original), template_cells(nb)
    assert before.keys() == after.keys()
    for label, cell in before.items():
        assert cell["cell_type"] == "code"
        assert source(after[label]) == source(cell), f"{path.name}: template of {label} changed"
    # Every code cell outside the solutions stays, except the hidden claim cells.
    kept = [source(c) for c in nb["cells"]]
    for cell in original["cells"]:
        if cell not in solution_cells(original) and cell["cell_type"] == "code":
            if not plain_jupyter.is_hidden(cell):
                assert source(cell) in kept, f"{path.name}: a cell outside the solutions was lost"
    # The statements are there, numbered, as plain Markdown.
    numbers = nb["metadata"]["masked_loss"]["exercises"]
    assert sorted(numbers) == sorted(before)
    text = "\n".join(kept)
    for number in numbers.values():
        assert f"**Exercise {number}**" in text


def test_outputs_cleared_and_zip(student):
    out, _ = student
    for path in CHAPTERS:
        nb = student_nb(student, path)
        assert nb["metadata"]["masked_loss"]["edition"] == "student"
        assert "widgets" not in nb["metadata"]
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None
        # The set-up cell (which installs the package on Colab) is still first among the code.
        first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
        assert "setup" in first_code["metadata"].get("tags", [])
        assert "%pip install" in source(first_code)
    with zipfile.ZipFile(out / make_student.ZIP_NAME) as bundle:
        names = sorted(bundle.namelist())
        assert names == sorted(
            [f"masked-losses-student/{p.name}" for p in CHAPTERS]
            + ["masked-losses-student/README.txt"]
        )
        for path in CHAPTERS:
            inside = bundle.read(f"masked-losses-student/{path.name}").decode("utf-8")
            assert json.loads(inside) == student_nb(student, path)


def test_the_script_writes_nothing_into_notebooks(tmp_path):
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "notebooks").rglob("*.ipynb")}
    assert make_student.main(["--out", str(tmp_path)]) == 0
    first = (tmp_path / make_student.ZIP_NAME).read_bytes()
    assert make_student.main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / make_student.ZIP_NAME).read_bytes() == first, "the zip is not reproducible"
    assert {p: p.stat().st_mtime_ns for p in (ROOT / "notebooks").rglob("*.ipynb")} == before


def _md(text, **extra):
    return {"cell_type": "markdown", "metadata": {}, "source": text, **extra}


def _code(text, tags=()):
    return {
        "cell_type": "code",
        "metadata": {"tags": list(tags)},
        "source": text,
        "outputs": [],
        "execution_count": None,
    }


EXERCISE_MD = ":::{exercise} Title\n:label: ex-a\n\nDo it.\n:::\n"


def test_markers_in_any_cell_layout():
    """Fences of ``` or ::::, prose around the markers, both markers in one cell, a tag."""
    nb = {
        "metadata": {},
        "cells": [
            _md(EXERCISE_MD),
            _code("answer = None\ncheck(answer)"),
            _md("Before.\n\n```{solution-start} ex-a\n:class: dropdown\n```\nSecret prose."),
            _code("answer = 42  # secret"),
            _code("claim(answer == 42)  # secret", tags=["remove-cell"]),
            _md("More secret.\n```{solution-end}\n```\n\n## Next section\nKept."),
            _md(EXERCISE_MD.replace("ex-a", "ex-b")),
            _code("other = None"),
            _md(
                "::::{solution-start} ex-b\n::::\nOne-cell secret.\n"
                "::::{solution-end}\n::::\nAfter."
            ),
            _code("tagged = 'secret'", tags=["solution"]),
            _code("print('kept')"),
        ],
    }
    stripped, removed = make_student.strip_solutions(nb)
    text = "\n".join(source(c) for c in stripped["cells"])
    assert removed == ["ex-a", "ex-b"]
    assert "secret" not in text.lower()
    for kept in ("Before.", "## Next section\nKept.", "After.", "print('kept')", "answer = None"):
        assert kept in text
    make_student.check_exercises(nb, stripped, removed, "synthetic")


@pytest.mark.parametrize(
    "cells, message",
    [
        ([_md("```{solution-start} ex-a\n```\n"), _code("x = 1")], "no {solution-end}"),
        ([_md("```{solution-end}\n```\n")], "without a {solution-start}"),
        (
            [_md("```{solution-start} ex-a\n```\n"), _md("```{solution-start} ex-a\n```\n")],
            "inside",
        ),
        ([_code("# {solution-start} ex-a")], "code cell"),
    ],
)
def test_unbalanced_markers_are_refused(cells, message):
    with pytest.raises(make_student.SolutionError, match=re.escape(message)):
        make_student.strip_solutions({"metadata": {}, "cells": cells})


def test_an_exercise_must_keep_a_cell_to_answer_in():
    nb = {
        "metadata": {},
        "cells": [
            _md(EXERCISE_MD),
            _md("```{solution-start} ex-a\n```\n"),
            _code("x = 1"),
            _md("```{solution-end}\n```\n"),
        ],
    }
    stripped, removed = make_student.strip_solutions(nb)
    with pytest.raises(make_student.SolutionError, match="followed by a code cell"):
        make_student.check_exercises(nb, stripped, removed, "synthetic")


# --- Each check on its empty template says "not yet" ------------------------------------------


def run_template(code: str):
    """Execute a template cell in a fresh namespace; return the value of its last expression."""
    namespace = {"torch": torch, "masked_loss": ml, "exercises": ex}
    tree = ast.parse(code)
    *body, last = tree.body
    exec(compile(ast.Module(body, []), "<template>", "exec"), namespace)  # noqa: S102
    assert isinstance(last, ast.Expr), "a template ends with its check call"
    return eval(compile(ast.Expression(last.value), "<template>", "eval"), namespace)  # noqa: S307


TEMPLATES = [
    (path, label, cell)
    for path in EXERCISE_CHAPTERS
    for label, cell in template_cells(load(path)).items()
]


@pytest.mark.parametrize(
    "path, label, cell", TEMPLATES, ids=[f"{p.stem}-{label}" for p, label, _ in TEMPLATES]
)
def test_empty_template_says_not_yet(path, label, cell):
    verdict = run_template(source(cell))
    assert isinstance(verdict, ex.Verdict), f"{label}: the template's last line is not a check"
    assert not verdict, f"{label}: the empty template passes"
    assert repr(verdict).startswith(ex.NOT_YET), repr(verdict)


UNFILLED = [None, ..., "45", "a number", [1, 2]]
CHECKS = {
    "check_tutorial_prediction": 3,
    "check_k_over_n": 1,
    "check_denominators": 2,
    "check_step_mask": 1,
    "check_count": 1,
    "check_weighted_mse": 1,
    "check_nan_safe_sum": 1,
    "check_sample_mean": 1,
    "check_sample_vs_token": 2,
    "check_accumulation_count": 1,
    "check_fp16_mse": 1,
    "check_completion_loss": 1,
}


@pytest.mark.parametrize("answer", UNFILLED, ids=repr)
@pytest.mark.parametrize("name", CHECKS)
def test_checks_never_raise_on_an_unfilled_answer(name, answer):
    """A template left as it is (None, ...) or filled with text: "not yet", never a traceback."""
    verdict = getattr(ex, name)(*[answer] * CHECKS[name])
    assert not verdict and repr(verdict).startswith(ex.NOT_YET), repr(verdict)


def test_every_check_is_covered():
    assert sorted(CHECKS) == sorted(n for n in dir(ex) if n.startswith("check_"))


def test_every_exercise_has_a_template():
    labels = [label for path in CHAPTERS for label in make_student.exercise_labels(load(path))]
    assert sorted(labels) == sorted(label for _, label, _ in TEMPLATES)
    assert len(labels) == 12


def _execute(path: pathlib.Path) -> dict:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return json.loads(nbformat.writes(execute_notebooks.run_top_to_bottom(nb, path.parent, 300)))


def output_text(cell: dict) -> str:
    texts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            texts.append("".join(out["text"]))
        elif "text/plain" in out.get("data", {}):
            texts.append("".join(out["data"]["text/plain"]))
    return "".join(texts)


@pytest.mark.parametrize("path", EXERCISE_CHAPTERS, ids=lambda p: p.name)
def test_student_notebook_runs_top_to_bottom(student, path):
    """Nothing raises, and every exercise cell shows the check's "not yet" for the empty answer.

    The chapters without exercises are the originals with their outputs cleared;
    nbval runs those.
    """
    executed = _execute(student[0] / "notebooks" / path.name)
    for cell in executed["cells"]:
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    for label, cell in template_cells(executed).items():
        assert output_text(cell).startswith(ex.NOT_YET), f"{path.name} {label}: {output_text(cell)}"


# --- The instructor guide ---------------------------------------------------------------------


@functools.cache
def page() -> str:
    return INSTRUCTOR.read_text(encoding="utf-8")


def section(title: str) -> str:
    text = page()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def minutes(stamp: str) -> int:
    hours, mins = stamp.split(":")
    return int(hours) * 60 + int(mins)


@pytest.mark.parametrize(
    "title, total", [("Lesson plan: 90 minutes", 90), ("Lesson plan: 45 minutes", 45)]
)
def test_lesson_plans_add_up(title, total):
    rows = re.findall(r"^\| \*\*(\d:\d\d)–(\d:\d\d): ([^*]+)\*\*", section(title), re.MULTILINE)
    assert rows, title
    clock = 0
    for start, end, name in rows:
        assert minutes(start) == clock, f"{title}: {name} starts at {start}, not at {clock} min"
        assert minutes(end) > minutes(start), f"{title}: {name} ends before it starts"
        clock = minutes(end)
    assert clock == total, f"{title}: the segments add up to {clock} minutes"
    names = " ".join(name.lower() for _, _, name in rows)
    for part in ("predict", "k/n", "training", "fix", "wrap-up"):
        assert part in names, f"{title}: no {part} segment"
    if total == 90:
        assert "exercises" in names
    # The slides each segment uses exist; the 90-minute plan goes through the whole deck in order.
    shown = []
    for first, last in re.findall(r"slides? (\d+)(?:–(\d+))?", section(title)):
        shown += list(range(int(first), int(last or first) + 1))
    count = deck_slides(load(DECK))
    assert shown and max(shown) <= count and shown == sorted(shown), shown
    if total == 90:
        assert shown == list(range(1, count + 1)), shown


def test_objectives_cover_every_chapter_and_exercise():
    objectives = section("Learning objectives")
    for path in CHAPTERS:
        assert f"notebooks/{path.stem}" in objectives, f"{path.stem} has no objective"
        for label in make_student.exercise_labels(load(path)):
            assert f"{{ref}}`{label}`" in objectives, f"{label} is mapped to no objective"


def test_misconceptions_named_in_the_issue():
    text = section("Misconceptions to expect")
    for phrase, chapter in [
        ("smaller learning rate", "04_training"),
        ("Adam", "04_training"),
        ("per-batch mean is the token mean", "11_accumulation_ddp"),
        ("*inputs*", "08_nan_padding"),
        ("`'sum'` survives", "02_the_bug"),
    ]:
        assert phrase in text and f"notebooks/{chapter}" in text, phrase


QUESTION = re.compile(r"^(\d+)\. (.+?)(?=^\d+\. |\Z|^```)", re.MULTILINE | re.DOTALL)
KEY_ROW = re.compile(
    r"^(\d+)\. \*\*\(([a-d])\)\*\* (.+?) Taught in \{doc\}`\.\./notebooks/(\w+)`\.$", re.MULTILINE
)


def test_quiz_has_ten_questions_and_a_key_that_cites_the_chapters():
    quiz = section("Quiz")
    questions = QUESTION.findall(quiz.split("```{admonition} Answer key")[0])
    assert "```{admonition} Answer key\n:class: dropdown" in quiz, "the key is folded away"
    assert [int(n) for n, _ in questions] == list(range(1, 11))
    for number, text in questions:
        options = re.findall(r"\(([a-d])\) ", text)
        assert options == ["a", "b", "c", "d"], f"question {number}: options {options}"
    key = KEY_ROW.findall(quiz)
    assert [int(n) for n, *_ in key] == list(range(1, 11))
    for _, _, _, chapter in key:
        assert (ROOT / "notebooks" / f"{chapter}.ipynb").is_file(), chapter


def stored_text(chapter: str) -> str:
    return "\n".join(output_text(c) for c in load(ROOT / "notebooks" / f"{chapter}.ipynb")["cells"])


def test_quiz_answers_agree_with_the_chapters_and_the_package():
    key = {int(n): (letter, chapter) for n, letter, _, chapter in KEY_ROW.findall(section("Quiz"))}
    # 1: the tutorial's example, naive 'mean' (the chapter prints it; the package agrees).
    inputs, targets, mask = ex.tutorial_example()
    assert abs(ml.naive_masked_mse_loss(inputs, targets, mask).item() - 4 / 6) < 1e-6
    assert "its code returns: [0.6667]" in stored_text("02_the_bug") and key[1][0] == "b"
    # 3: a (2, 4, 1) mask with 4 valid steps over (2, 4, 3) predictions.
    step = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0]], dtype=torch.bool).unsqueeze(-1)
    assert ml.count_valid(step, (2, 4, 3)).item() == 12 and key[3] == ("c", "06_shapes")
    assert "ones in the mask: 4, valid elements: 12" in stored_text("06_shapes")
    # 10: lengths 1 and 9, sums 2 and 90.
    assert "= 9.2000" in stored_text("10_sample_vs_token") and "= 6.0000" in stored_text(
        "10_sample_vs_token"
    )
    assert key[10] == ("a", "10_sample_vs_token")
    # 7 and 8: NaN in the targets' padding against NaN in the inputs.
    nan08 = stored_text("08_nan_padding")
    assert (
        "fixed denominator  loss      nan" in nan08
        and "{'weight': [nan, nan, nan, nan], 'bias': [nan]}" in nan08
    )
    assert "weight gradient: [[nan, nan, nan, nan]]" in nan08 and "-> loss 0.1659" in nan08
    assert key[7] == ("c", "08_nan_padding") and key[8] == ("b", "08_nan_padding")
    # 9: the mean of micro-batch means differs from the full batch; the global count matches.
    assert re.search(
        r"mean of micro-batch means: max \|grad - full batch\| = 1\.\d+e\+00",
        stored_text("11_accumulation_ddp"),
    )
    assert key[9] == ("b", "11_accumulation_ddp")


def test_glued_numbers_exist_in_the_chapters():
    chapters_text = {p.stem: "".join(source(c) for c in load(p)["cells"]) for p in CHAPTERS}
    for name in re.findall(r"\{glue:text\}`([\w]+)", page()):
        assert any(f'glue("{name}"' in text for text in chapters_text.values()), name


def test_kit_links():
    text = page()
    assert 'href="../classroom/slides/index.html"' in text
    assert 'href="../classroom/masked-losses-student-notebooks.zip"' in text
    assert "{doc}`student`" in text
    assert 'href="../classroom/masked-losses-student-notebooks.zip"' in STUDENT_PAGE.read_text(
        "utf-8"
    )
    assert make_student.ZIP_NAME == "masked-losses-student-notebooks.zip"


# --- The slide deck ---------------------------------------------------------------------------


def deck_slides(nb: dict) -> int:
    return sum(make_slides.slide_type(c) == "slide" for c in nb["cells"])


def test_deck_size_matches_the_guide():
    count = deck_slides(load(DECK))
    assert 15 <= count <= 25
    assert re.search(rf"\b{count}\s+slides\b", page()), f"the guide does not say {count} slides"


def test_deck_outputs_are_current():
    """Re-executed in a fresh kernel, every code cell of the deck prints what is stored."""
    stored = load(DECK)
    assert all(c["execution_count"] for c in stored["cells"] if c["cell_type"] == "code"), (
        "run: python scripts/make_slides.py --execute"
    )
    fresh = _execute(DECK)
    for old, new in zip(stored["cells"], fresh["cells"], strict=True):
        if old["cell_type"] == "code":
            assert output_text(new) == output_text(old), source(old)[:200]


def test_deck_refers_only_to_existing_chapter_figures(tmp_path):
    if not all((REVEAL / f).is_file() for f in make_slides.REVEAL_FILES):
        pytest.skip(f"reveal.js not installed at {REVEAL} (npm ci)")
    count = make_slides.build(DECK, tmp_path / "deck", REVEAL)
    assert count == deck_slides(load(DECK))
    html = (tmp_path / "deck" / "index.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<img ", html)) >= 4
    for attr, url in re.findall(r'(src|href)="([^"]+)"', html):
        if attr == "src" or "stylesheet" in html.split(url)[0][-80:]:
            assert not urllib.parse.urlsplit(url).scheme, f"deck loads {url}"


@pytest.fixture(scope="module")
def deck_dir(tmp_path_factory):
    if (BUILT_DECK / "index.html").is_file():
        return BUILT_DECK
    if all((REVEAL / f).is_file() for f in make_slides.REVEAL_FILES):
        out = tmp_path_factory.mktemp("deck") / "slides"
        make_slides.build(DECK, out, REVEAL)
        return out
    pytest.skip(
        f"no built deck ({BUILT_DECK} is missing: `make slides` after `npm ci` with reveal.js "
        f"in package.json) and no reveal.js at {REVEAL} to build one"
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


def test_deck_in_the_browser(deck_dir):
    from playwright.sync_api import sync_playwright

    if not (shutil.which(CHROMIUM) or pathlib.Path(CHROMIUM).exists()):
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium")
    handler = functools.partial(_Quiet, directory=str(deck_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"127.0.0.1:{server.server_address[1]}"
    problems: list[str] = []

    def route(r):
        url = urllib.parse.urlsplit(r.request.url)
        if url.scheme in ("data", "blob") or url.netloc == origin:
            r.continue_()
        else:
            problems.append(f"request to another origin: {r.request.url}")
            r.abort()

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            # On the context, so that the speaker view's window is watched too.
            context.route("**/*", route)
            page_ = context.new_page()
            page_.on(
                "console", lambda m: m.type == "error" and problems.append(f"console: {m.text}")
            )
            page_.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page_.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
            page_.on(
                "response",
                lambda r: r.status >= 400 and problems.append(f"HTTP {r.status} {r.url}"),
            )
            page_.goto(f"http://{origin}/index.html", wait_until="networkidle")
            page_.wait_for_function("() => window.Reveal && Reveal.isReady()")
            total = page_.evaluate("Reveal.getTotalSlides()")
            assert total == deck_slides(load(DECK))
            for expected in range(1, total):
                # A slide with fragments takes one press per fragment before it moves on.
                for _ in range(10):
                    before = page_.evaluate("JSON.stringify(Reveal.getIndices())")
                    page_.keyboard.press("ArrowRight")
                    page_.wait_for_function(
                        f"() => JSON.stringify(Reveal.getIndices()) !== {json.dumps(before)}"
                    )
                    if page_.evaluate("Reveal.getIndices().h") == expected:
                        break
                assert page_.evaluate("Reveal.getIndices().h") == expected, "arrow keys stuck"
                current = page_.locator(".reveal .slides > section.present")
                images = current.locator("img")
                for i in range(images.count()):
                    assert (images.nth(i).get_attribute("alt") or "").strip()
                    assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
            page_.keyboard.press("ArrowLeft")
            page_.wait_for_function(f"() => Reveal.getIndices().h === {total - 2}")
            page_.keyboard.press("Home")
            page_.wait_for_function("() => Reveal.getIndices().h === 0")
            axe = ROOT / "node_modules" / "axe-core" / "axe.min.js"
            if axe.is_file():
                page_.add_script_tag(path=str(axe))
                violations = page_.evaluate(
                    """async () => (await axe.run(document, {resultTypes: ["violations"]}))
                        .violations.filter(v => v.impact === "serious" || v.impact === "critical")
                        .map(v => `${v.impact} ${v.id}`)"""
                )
                assert not violations, violations
            # S opens the speaker view (notes, timer, next slide) in a window of its own.
            with context.expect_page() as opened:
                page_.keyboard.press("s")
            speaker = opened.value
            speaker.on(
                "console", lambda m: m.type == "error" and problems.append(f"notes: {m.text}")
            )
            speaker.wait_for_selector(".speaker-controls-time")
            browser.close()
    finally:
        server.shutdown()
    assert not problems, "\n".join(problems)
