"""The classroom kit: the student edition, the instructor guide and the slide deck.

- ``scripts/make_student.py`` removes every solution and nothing else, every
  exercise check answers "not yet" on its empty template, and the student
  notebooks run top to bottom;
- ``book/instructor.md`` holds the lesson plans, the objectives (the class's and
  the homework's apart), misconceptions, a quiz whose answers agree with the
  chapters' stored outputs and the package, and a homework set with its rubric;
  the keys live in ``instructor/answer-key.md``, which no built page contains;
- the deck: speaker notes with timings on every slide, a visible slide number,
  a credits slide with both licences, the guide's quiz questions, and exercise
  numbers that are the site's and the plain-Jupyter editions';
- ``slides/masked-losses.ipynb`` is current, and the built deck loads in
  Chromium with no console error and no request to another origin, and moves
  with the arrow keys. The browser test needs the built deck
  (``_build/html/classroom/slides``) or reveal.js in ``node_modules`` (or at
  ``$REVEAL_JS``) to build one; it skips, saying so, without either.
"""

from __future__ import annotations

import ast
import functools
import html as htmllib
import http.server
import itertools
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
import yaml

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
ANSWER_KEY = ROOT / "instructor" / "answer-key.md"
# BOOK_SITE: another build to check (e.g. an older one, to see these tests fail on it).
SITE = pathlib.Path(os.environ.get("BOOK_SITE", ROOT / "_build" / "html"))
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


QUESTION = re.compile(r"^(\d+)\. (.+?)(?=^\d+\. |\Z|^```|^\(|^#)", re.MULTILINE | re.DOTALL)
KEY_ROW = re.compile(
    r"^(\d+)\. \*\*\(([a-d])\)\*\* (.+?) "
    r"Taught in \[chapter \d+\]\(\.\./notebooks/(\w+)\.ipynb\)\.$",
    re.MULTILINE,
)


@functools.cache
def answer_key() -> str:
    return ANSWER_KEY.read_text(encoding="utf-8")


def key_section(title: str) -> str:
    text = answer_key()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def quiz_questions() -> dict[int, str]:
    return {int(n): text for n, text in QUESTION.findall(section("Quiz"))}


def test_quiz_has_ten_questions_and_a_key_that_cites_the_chapters():
    quiz = section("Quiz")
    questions = quiz_questions()
    assert "Answer key" not in quiz and ":class: dropdown" not in quiz, "the key is on the page"
    assert sorted(questions) == list(range(1, 11))
    for number, text in questions.items():
        options = re.findall(r"\(([a-d])\) ", text)
        assert options == ["a", "b", "c", "d"], f"question {number}: options {options}"
    key = KEY_ROW.findall(key_section("Quiz"))
    assert [int(n) for n, *_ in key] == list(range(1, 11))
    for _, _, _, chapter in key:
        assert (ROOT / "notebooks" / f"{chapter}.ipynb").is_file(), chapter
        assert f"[chapter {int(chapter[:2])}](../notebooks/{chapter}.ipynb)" in key_section("Quiz")


def stored_text(chapter: str) -> str:
    return "\n".join(output_text(c) for c in load(ROOT / "notebooks" / f"{chapter}.ipynb")["cells"])


def test_quiz_answers_agree_with_the_chapters_and_the_package():
    key = {int(n): (letter, chapter) for n, letter, _, chapter in KEY_ROW.findall(answer_key())}
    # 1: the tutorial's example, naive 'mean' (the chapter prints it; the package agrees).
    inputs, targets, mask = ex.tutorial_example()
    assert abs(ml.naive_masked_mse_loss(inputs, targets, mask).item() - 4 / 6) < 1e-6
    assert "its code returns: [0.6667]" in stored_text("02_the_bug") and key[1][0] == "b"
    # 3: a (2, 4, 1) mask with 4 valid steps over (2, 4, 3) predictions.
    step = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0]], dtype=torch.bool).unsqueeze(-1)
    assert ml.count_valid(step, (2, 4, 3)).item() == 12 and key[3] == ("c", "06_shapes")
    assert "ones in the mask: 4, valid elements: 12" in stored_text("06_shapes")
    # 10: computed in test_quiz_question_10_is_computed_and_on_no_slide.
    assert key[10][1] == "10_sample_vs_token"
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


PART1 = re.compile(r"notebooks/0[1-5]_\w+")
PART2 = re.compile(r"notebooks/(?:0[6-9]|1\d)_\w+")


def table_rows(text: str) -> list[str]:
    return [r for r in text.splitlines() if r.startswith("| ") and not r.startswith("| objective")]


def test_objectives_class_and_homework_apart():
    """The class's objectives are Part 1's; Part 2's stand apart, as homework."""
    objectives = section("Learning objectives")
    head_class = "### In the class (chapters 2 to 5)"
    head_home = "### After the class (homework: chapters 6 to 15)"
    assert head_class in objectives and head_home in objectives
    in_class = table_rows(objectives.split(head_class)[1].split(head_home)[0])
    homework = table_rows(objectives.split(head_home)[1])
    assert in_class and homework
    for row in in_class:
        assert PART1.search(row) and not PART2.search(row), row
    for row in homework:
        assert PART2.search(row), row
    part2 = {p.stem for p in CHAPTERS if int(p.stem[:2]) >= 6}
    assert part2 <= {m.split("/")[1] for m in PART2.findall("\n".join(homework))}
    # Every Part 2 exercise is practised after the class; none of Part 1's.
    labels = {
        label: int(path.stem[:2])
        for path in CHAPTERS
        for label in make_student.exercise_labels(load(path))
    }
    for label, chapter in labels.items():
        where = "\n".join(homework if chapter >= 6 else in_class)
        assert f"{{ref}}`{label}`" in where, f"{label} (chapter {chapter}) in the wrong table"


def test_homework_set_and_rubric():
    homework = section("Homework")
    assert "(homework)=\n## Homework" in page(), "the slides link to #homework"
    # Every Part 2 exercise, and quiz questions 6 to 10.
    for path in CHAPTERS:
        if int(path.stem[:2]) >= 6:
            for label in make_student.exercise_labels(load(path)):
                assert f"{{ref}}`{label}`" in homework, label
    assert "questions 6 to 10" in homework
    # What to hand in, and in what format.
    for thing in (
        "`<family name>-masked-losses.zip`",
        "`.ipynb`",
        "`answers.md`",
        "`6. (x) reason`",
    ):
        assert thing in homework, thing
    handed = re.findall(r"`(\d\d_\w+)\.ipynb`", homework)
    assert all((ROOT / "notebooks" / f"{name}.ipynb").is_file() for name in handed), handed
    # The rubric: criteria, levels 2/1/0, points that add up to the stated total.
    rubric = homework.split("### Rubric")[1]
    assert "| criterion | 2 points | 1 point | 0 points |" in rubric
    rows = [r for r in rubric.splitlines() if r.startswith("| ") and "criterion" not in r]
    assert len(rows) >= 5
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 4 and all(cells), row
    points = [int(p) for p in re.findall(r"\((\d+) points\)", "\n".join(rows))]
    total = int(re.search(r"the total is (\d+) points", rubric)[1])
    assert sum(points) == total, (points, total)
    exercises = sum(
        1 for p in CHAPTERS if int(p.stem[:2]) >= 6 for _ in make_student.exercise_labels(load(p))
    )
    assert f"each of the nine exercises ({2 * exercises} points)" in rubric and exercises == 9
    assert "each of quiz questions 6 to 10 (10 points)" in rubric
    said = re.search(r"carry (\d+) of the (\d+) points", rubric)
    assert said and int(said[2]) == total
    assert int(said[1]) == sum(points) - 2 * exercises - 2, "quiz and paragraph points"


def key_url() -> str:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repository = config["repository"]
    return f"{repository['url'].rstrip('/')}/blob/{repository['branch']}/instructor/answer-key.md"


def test_the_key_is_in_the_instructor_material_not_on_the_guide():
    assert ANSWER_KEY.is_file()
    text = page()
    assert "Answer key" not in text and ":class: dropdown" not in text
    # The guide says where the key is: a normal link built from _config.yml's repository.
    assert f"[instructor/answer-key.md]({key_url()})" in text
    assert text.count(key_url()) >= 2  # at the top and in the quiz section
    # Nothing in the table of contents points at the instructor folder.
    assert "instructor/" not in (ROOT / "_toc.yml").read_text(encoding="utf-8")
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["only_build_toc_files"] is True


def test_homework_key_agrees_with_the_checks_and_the_numbers():
    homework = key_section("Homework")
    numbers = plain_jupyter.exercise_numbers(plain_jupyter.chapters("en"))
    named = re.findall(r"\*\*Exercise (\d+)\*\* \(`(ex-[\w-]+)`, chapter (\d+)\)", homework)
    part2 = {
        label: int(path.stem[:2])
        for path in CHAPTERS
        if int(path.stem[:2]) >= 6
        for label in make_student.exercise_labels(load(path))
    }
    assert sorted(label for _, label, _ in named) == sorted(part2)
    for number, label, chapter in named:
        assert int(number) == numbers[label], f"{label} is Exercise {numbers[label]}"
        assert int(chapter) == part2[label], label
    # The numbers the key gives pass the chapters' checks; near misses do not.
    two = re.search(r"`ex-two-means`.*?token mean ([\d.]*\d), per-sample mean ([\d.]*\d)", homework)
    assert ex.check_sample_vs_token(float(two[1]), float(two[2]))
    assert not ex.check_sample_vs_token(float(two[2]), float(two[1]))
    count = int(re.search(r"`ex-accumulation`, chapter 11\): (\d+),", homework)[1])
    assert ex.check_accumulation_count(count) and not ex.check_accumulation_count(count // 3)


def question_10() -> dict:
    text = " ".join(quiz_questions()[10].split())
    found = re.search(
        r"padded to length (\d+), have (\d+) and (\d+) valid tokens, and their squared errors "
        r"over the valid tokens sum to (\d+) and (\d+)\.",
        text,
    )
    assert found, text
    length, n1, n2, s1, s2 = map(int, found.groups())
    options = {
        letter: (float(a), float(b))
        for letter, a, b in re.findall(r"\(([a-d])\) ([\d.]+) and ([\d.]+)", text)
    }
    return {"length": length, "lengths": (n1, n2), "sums": (s1, s2), "options": options}


def test_quiz_question_10_is_computed_and_on_no_slide():
    q = question_10()
    (n1, n2), (s1, s2), length = q["lengths"], q["sums"], q["length"]
    prediction = torch.zeros(2, length, dtype=torch.float64)
    target = torch.zeros(2, length, dtype=torch.float64)
    mask = torch.zeros(2, length, dtype=torch.bool)
    for row, (n, total) in enumerate(((n1, s1), (n2, s2))):
        mask[row, :n] = True
        target[row, :n] = (total / n) ** 0.5  # n tokens whose squared errors sum to total
    token = ml.masked_mse_loss(prediction, target, mask).item()
    sample = ml.masked_mse_loss(prediction, target, mask, average="sample").item()
    naive = ml.naive_masked_mse_loss(prediction, target, mask).item()
    assert abs(token - (s1 + s2) / (n1 + n2)) < 1e-12
    assert abs(sample - (s1 / n1 + s2 / n2) / 2) < 1e-12
    letter = {int(n): k for n, k, *_ in KEY_ROW.findall(answer_key())}[10]
    options = q["options"]
    assert sorted(options) == ["a", "b", "c", "d"]
    assert options[letter] == pytest.approx((token, sample), abs=1e-9)
    for other, values in options.items():
        if other != letter:
            assert values != pytest.approx((token, sample), abs=1e-3), other
    # The distractors the key names: swapped, total over the sequences, the naive recipe.
    assert pytest.approx((sample, token)) in options.values()
    assert any(v[0] == pytest.approx((s1 + s2) / 2) for v in options.values())
    assert any(v[0] == pytest.approx(naive) for v in options.values())
    key10 = re.search(r"^10\. .*$", key_section("Quiz"), re.MULTILINE)[0]
    assert f"{token:g}" in key10 and f"{sample:.1f}" in key10
    # Not a slide's example: the deck shows neither of its numbers nor its lengths.
    deck_text = "\n".join(output_text(c) + source(c) for c in load(DECK)["cells"])
    for value in (token, sample):
        assert f"{value:.4f}" not in deck_text, value
    slide_lengths = {(1, 9)}
    assert re.search(r"# 1 token, squared error 2", deck_text) and re.search(
        r"# 9 tokens", deck_text
    )
    assert (n1, n2) not in slide_lengths and (n2, n1) not in slide_lengths
    # Nor the chapter 10 exercise's (2 and 8 valid elements).
    chapter10 = "".join(
        source(c) for c in load(ROOT / "notebooks" / "10_sample_vs_token.ipynb")["cells"]
    )
    exercise = re.search(r"have (\d+) and (\d+) valid elements", chapter10)
    assert (n1, n2) != tuple(map(int, exercise.groups()))


# --- The slide deck ---------------------------------------------------------------------------


def deck_slides(nb: dict) -> int:
    return sum(make_slides.slide_type(c) == "slide" for c in nb["cells"])


def test_deck_size_matches_the_guide():
    count = deck_slides(load(DECK))
    assert 15 <= count <= 30
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
    from conftest import sync_playwright

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


# --- The deck as a class: notes, numbers, credits, quiz, exercise numbers --------------------


@functools.cache
def rendered_slides() -> list[dict]:
    return make_slides.slides(load(DECK), make_slides.Renderer(DECK))


def plain(html_text: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html_text)).split())


def plan_segments() -> list[tuple[int, int, int, int]]:
    """The 90-minute plan's segments: (start, end) in minutes and (first, last) slide."""
    segments = []
    for row in section("Lesson plan: 90 minutes").splitlines():
        times = re.match(r"^\| \*\*(\d:\d\d)–(\d:\d\d):", row)
        if not times:
            continue
        first, last = re.findall(r"slides? (\d+)(?:–(\d+))?", row)[-1]
        segments.append((minutes(times[1]), minutes(times[2]), int(first), int(last or first)))
    return segments


def test_every_slide_has_speaker_notes_with_its_timing():
    deck = rendered_slides()
    windows = []
    for number, slide in enumerate(deck, start=1):
        notes = plain("".join(slide["notes"]))
        assert len(notes) > 60, f"slide {number} has no speaker notes worth the name: {notes!r}"
        timing = re.search(r"Timing: (\d:\d\d)–(\d:\d\d) \((\d+) min\)", notes)
        assert timing, f"slide {number}: no timing in its notes"
        start, end = minutes(timing[1]), minutes(timing[2])
        assert end - start == int(timing[3]) > 0, f"slide {number}: {timing[0]}"
        windows.append((number, start, end))
    # One after another, from 0:00 to 1:30, each inside its lesson-plan segment.
    assert windows[0][1] == 0 and windows[-1][2] == 90
    for (_, _, end), (number, start, _) in itertools.pairwise(windows):
        assert start == end, f"slide {number} starts at {start} min, the one before ends at {end}"
    for number, start, end in windows:
        segment = [s for s in plan_segments() if s[2] <= number <= s[3]]
        assert len(segment) == 1, f"slide {number} is in no segment of the 90-minute plan"
        assert segment[0][0] <= start and end <= segment[0][1], f"slide {number}: {start}–{end}"


def test_the_builder_refuses_a_slide_without_notes():
    nb = load(DECK)
    nb["cells"] = [c for c in nb["cells"] if make_slides.slide_type(c) != "notes"]
    with pytest.raises(ValueError, match=r"slide 1 \(# Masked losses in PyTorch\) has no speaker"):
        make_slides.render(nb, make_slides.Renderer(DECK))


@pytest.fixture(scope="module")
def fresh_deck(tmp_path_factory):
    """The deck built now from the notebook (the one in _build may be older)."""
    if not all((REVEAL / f).is_file() for f in make_slides.REVEAL_FILES):
        pytest.skip(f"reveal.js not installed at {REVEAL} (npm ci)")
    out = tmp_path_factory.mktemp("fresh") / "slides"
    make_slides.build(DECK, out, REVEAL)
    return out


def deck_sections(deck: pathlib.Path) -> list[str]:
    page_ = (deck / "index.html").read_text(encoding="utf-8")
    return re.findall(r"<section[^>]*>(.*?)</section>", page_, re.DOTALL)


def test_rendered_deck_numbers_every_slide(fresh_deck):
    sections = deck_sections(fresh_deck)
    total = deck_slides(load(DECK))
    assert len(sections) == total
    for number, body in enumerate(sections, start=1):
        shown = re.findall(r'<p class="deck-number">(\d+) / (\d+)</p>', body)
        assert shown == [(str(number), str(total))], f"slide {number}: {shown}"
        notes = re.search(r'<aside class="notes">(.*?)</aside>', body, re.DOTALL)
        assert notes and plain(notes[1]), f"slide {number} has no notes in the page"
    page_ = (fresh_deck / "index.html").read_text(encoding="utf-8")
    assert "slideNumber: false" in page_, "reveal.js's own number is a link to #/"


def footer_links() -> dict[str, str]:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    footer = config["html"]["extra_footer"]
    return {text: url for url, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', footer)}


def test_a_credits_slide_names_both_licences_the_book_and_the_tutorial(fresh_deck):
    credits = [s for s in deck_sections(fresh_deck) if "Credits and licence" in s]
    assert len(credits) == 1
    slide = credits[0]
    licences = footer_links()
    assert set(licences) == {"MIT licence", "CC BY 4.0"}
    for text, url in licences.items():
        assert f'<a href="{url}">{text}</a>' in slide, text
    assert "Code:" in plain(slide) and "Text and figures:" in plain(slide)
    assert plain_jupyter.site_url() in slide and plain_jupyter.repository_url() in slide
    assert "CITATION.cff" in slide and (ROOT / "CITATION.cff").is_file()
    # The tutorial, as the references page cites it: its title and its address.
    references = (ROOT / "book" / "references.md").read_text(encoding="utf-8")
    cited = references.split("## The tutorial this book examines")[1].split("\n## ")[0]
    title = re.search(r"\*(Pytorch [^*]+)\*", cited)[1]
    address = re.search(r"<(https://geek-docs\.com/[^>]+)>", cited)[1]
    assert title in plain(slide) and f'href="{address}"' in slide
    assert "reveal.js (MIT licence" in plain(slide)
    assert (fresh_deck / "reveal" / "LICENSE").is_file()


def normalise(text: str) -> str:
    """A question as words: no Markdown emphasis, code marks or TeX dollars."""
    text = re.sub(r"[*`$]", "", text)
    return " ".join(text.replace("- (", "(").split())


def test_quiz_slides_are_the_guides_questions_1_to_5(fresh_deck):
    wrap_up = [r for r in section("Lesson plan: 90 minutes").splitlines() if "Wrap-up" in r][0]
    first, last = map(int, re.search(r"quiz questions (\d+) to (\d+)", wrap_up).groups())
    guide = quiz_questions()
    cells = load(DECK)["cells"]
    quiz = {}
    for cell in cells:
        found = re.match(r"## Quiz, question (\d+) of (\d+)\n\n(.*)", source(cell), re.DOTALL)
        if found:
            assert make_slides.slide_type(cell) == "slide"
            assert int(found[2]) == last - first + 1
            quiz[int(found[1])] = found[3]
    assert sorted(quiz) == list(range(first, last + 1))
    for number, text in quiz.items():
        assert normalise(text) == normalise(guide[number]), f"question {number} differs"
    # The slides the guide names for them, and notes that keep the answer for the key.
    numbers = [i for i, s in enumerate(deck_sections(fresh_deck), start=1) if "Quiz, question" in s]
    assert f"slides {numbers[0]} to {numbers[-1]}" in section("Quiz")
    assert numbers == list(range(numbers[0], numbers[0] + len(quiz)))
    for index in numbers:
        notes = plain("".join(rendered_slides()[index - 1]["notes"]))
        assert "instructor/answer-key.md" in notes
        assert not re.search(r"\*\*\([a-d]\)\*\*|answer is|correct answer", notes), notes


def test_exercise_numbers_agree_across_deck_editions_and_guide(fresh_deck):
    numbers = plain_jupyter.exercise_numbers(plain_jupyter.chapters("en"))
    assert sorted(numbers.values()) == list(range(1, len(numbers) + 1))
    chapter_of = {
        label: path for path in CHAPTERS for label in make_student.exercise_labels(load(path))
    }
    # The deck names exercises by label in its source and by the site's number on screen.
    deck_source = "\n".join(source(c) for c in load(DECK)["cells"])
    mentioned = set(re.findall(r"\{ref\}`(ex-[\w-]+)`", deck_source))
    assert len(mentioned) >= 10
    html_text = (fresh_deck / "index.html").read_text(encoding="utf-8")
    shown = dict(
        (label, int(n))
        for label, n in re.findall(r'href="[^"]*\.html#(ex-[\w-]+)">Exercise (\d+)</a>', html_text)
    )
    assert set(shown) == mentioned
    for label in mentioned:
        assert shown[label] == numbers[label], label
        href = f'href="../../notebooks/{chapter_of[label].stem}.html#{label}"'
        assert href in html_text, label
    assert not re.search(r"\bex-[a-z]", plain(html_text)), "a raw label on a slide"
    # The plain-Jupyter (Colab and student) editions give every exercise the same number.
    for path in EXERCISE_CHAPTERS:
        nb, _ = plain_jupyter.convert(path, "colab", numbers)
        given = nb["metadata"]["masked_loss"]["exercises"]
        for label, number in given.items():
            assert number == numbers[label]
            assert any(
                re.search(rf"(?m)^\*\*Exercise {number}\*\*", source(c)) for c in nb["cells"]
            ), f"{path.name}: no Exercise {number} ({label})"


@pytest.mark.parametrize("width, height", [(390, 844), (1280, 800)])
def test_slide_number_is_visible_on_every_slide(fresh_deck, width, height):
    """In Chromium, each slide's "n / total" is on screen, legible, and covered by nothing."""
    from conftest import sync_playwright

    if not (shutil.which(CHROMIUM) or pathlib.Path(CHROMIUM).exists()):
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium")
    handler = functools.partial(_Quiet, directory=str(fresh_deck))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page_ = browser.new_page(viewport={"width": width, "height": height})
            page_.goto(
                f"http://127.0.0.1:{server.server_address[1]}/index.html", wait_until="networkidle"
            )
            page_.wait_for_function("() => window.Reveal && Reveal.isReady()")
            total = page_.evaluate("Reveal.getTotalSlides()")
            assert total == deck_slides(load(DECK))
            # reveal.js's own number (a link to "#/") stays off.
            assert page_.locator(".reveal .slide-number").is_hidden()
            for index in range(total):
                page_.evaluate(f"Reveal.slide({index})")
                page_.wait_for_function(f"() => Reveal.getIndices().h === {index}")
                seen = page_.evaluate(
                    """() => {
                        const el = document.querySelector(
                            '.reveal .slides > section.present > .deck-number');
                        if (!el) return null;
                        const r = el.getBoundingClientRect();
                        const style = getComputedStyle(el);
                        const px = r.height / el.offsetHeight * parseFloat(style.fontSize);
                        const top = document.elementFromPoint(
                            r.left + r.width / 2, r.top + r.height / 2);
                        return {text: el.innerText, left: r.left, top: r.top, right: r.right,
                                bottom: r.bottom, px, visible: style.visibility === 'visible'
                                && parseFloat(style.opacity) === 1, onTop: top === el,
                                width: innerWidth, height: innerHeight};
                    }"""
                )
                where = f"slide {index + 1} at {width} px"
                assert seen, f"{where}: no number"
                assert seen["text"] == f"{index + 1} / {total}", where
                assert seen["visible"] and seen["onTop"], f"{where}: hidden or covered"
                assert 0 <= seen["left"] and seen["right"] <= seen["width"], where
                assert 0 <= seen["top"] and seen["bottom"] <= seen["height"], where
                assert seen["px"] >= 14, f"{where}: {seen['px']:.1f} px"
            browser.close()
    finally:
        server.shutdown()


# --- The built site: its exercise numbers, and no key on any page -----------------------------


@pytest.fixture(scope="module")
def built_site():
    if not (SITE / "book" / "instructor.html").is_file():
        pytest.skip(f"no built site at {SITE}: make html")
    return SITE


def test_site_numbers_exercises_as_the_deck_and_the_guide(built_site):
    numbers = plain_jupyter.exercise_numbers(plain_jupyter.chapters("en"))
    for path in EXERCISE_CHAPTERS:
        page_ = (built_site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
        for label in make_student.exercise_labels(load(path)):
            found = re.search(
                rf'id="{label}">\s*<p class="admonition-title"><span class="caption-number">'
                rf"Exercise (\d+) </span>",
                page_,
            )
            assert found and int(found[1]) == numbers[label], f"{path.stem} {label}"
    # The guide's {ref}s show the same numbers.
    guide = (built_site / "book" / "instructor.html").read_text(encoding="utf-8")
    links = re.findall(r'href="[^"]*#(ex-[\w-]+)"[^>]*>(.*?)</a>', guide, re.DOTALL)
    assert {label for label, _ in links} == set(numbers)
    for label, text in links:
        assert plain(text) == f"Exercise {numbers[label]}", (label, plain(text))
    # The slides' link to the homework lands on its heading.
    assert 'id="homework"' in guide


def key_sentences() -> list[str]:
    """The key's explanations, sentence by sentence, as words."""
    text = key_section("Quiz") + key_section("Homework")
    sentences = []
    for line in text.splitlines():
        line = re.sub(r"^\d+\. \*\*\([a-d]\)\*\* |^- \*\*Exercise \d+\*\* \([^)]*\): ", "", line)
        line = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line)
        for sentence in re.split(r"(?<=\.)\s+", line):
            words = " ".join(re.sub(r"[*`$\\]|\\text\{NaN\}", "", sentence).split())
            if len(words) >= 40 and not words.startswith("Taught in"):
                sentences.append(words.rstrip("."))
    return sentences


def site_text(path: pathlib.Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        text = htmllib.unescape(re.sub(r"<[^>]+>", " ", text))
    text = re.sub(r"\\\(|\\\)|\\text\{NaN\}|[*`$\\]", "", text)
    return " ".join(text.split())


def test_no_answer_key_on_any_site_page(built_site):
    sentences = key_sentences()
    assert len(sentences) >= 25, sentences
    files = [
        p
        for p in built_site.rglob("*")
        if p.is_file()
        and p.suffix in {".html", ".md", ".txt", ".ipynb", ".js", ".json"}
        and "_static" not in p.parts
    ]
    assert any(p.name == "instructor.html" for p in files)
    found = []
    for path in files:
        text = site_text(path)
        found += [f"{path.relative_to(built_site)}: {s}" for s in sentences if s in text]
    assert not found, "\n".join(found[:10])
    assert not list(built_site.rglob("answer-key*")) and not (built_site / "instructor").exists()
