"""Build the student edition: every chapter notebook with the exercise solutions removed.

A solution is what the chapters fold away on the site: everything from the
``{solution-start}`` directive to the matching ``{solution-end}``, whichever
cells they sit in (prose before the start and after the end stays), plus any
cell tagged ``solution``. The exercise statement and the "your code here"
cell with its check stay. Outputs are cleared, so the student runs every cell
in order, and a first cell says what this edition is.

    python scripts/make_student.py [--out _build/student] [NOTEBOOK ...]

writes ``OUT/notebooks/*.ipynb`` and ``OUT/masked-losses-student-notebooks.zip``
(the notebooks and a README). Nothing is written into ``notebooks/``. Exits
non-zero, naming the notebook and cell, when the solution markers are
unbalanced or an exercise would lose its answer cell.
"""

from __future__ import annotations

import argparse
import copy
import json
import pathlib
import re
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "_build" / "student"
ZIP_NAME = "masked-losses-student-notebooks.zip"
SOLUTION_TAG = "solution"

# A MyST directive fence: ``` or ::: (three or more), then {name}, up to the closing fence.
DIRECTIVE = r"(?P<fence>`{3,}|:{3,})\{%s\}[^\n]*\n(?:.*?\n)??(?P=fence)[ \t]*(?:\n|$)"
SOLUTION_START = re.compile(DIRECTIVE % "solution-start", re.DOTALL)
SOLUTION_END = re.compile(DIRECTIVE % "solution-end", re.DOTALL)
EXERCISE = re.compile(r"(?:`{3,}|:{3,})\{exercise\}[^\n]*\n(?:.*?\n)??:label:\s*(\S+)", re.DOTALL)
START_LABEL = re.compile(r"\{solution-start\}\s*(\S+)")

HEADER = """\
**Student edition.** The exercise solutions are removed from this copy of the
chapter. Run the cells from the top; at each exercise, write your answer in the
cell below it (replace `None` or `...`) and run that cell again: its check says
*✓ Correct* or, with a hint, *✗ Not yet*. The first code cell installs the
`masked_loss` package where it is missing (on Colab, for example)."""

YOUR_TURN = "*Your turn: run the cell above until its check says ✓ Correct.*"

README = """\
Masked losses in PyTorch: student notebooks
===========================================

One notebook per chapter, with the exercise solutions removed.

Run them locally: install the package and Jupyter
(pip install "masked_loss[book]" jupyter), then open a notebook.
Run them on Colab: open https://colab.research.google.com, choose
File > Upload notebook, pick a notebook from this folder and run it from the
top; its first code cell installs the package.

At each exercise, write your answer in the cell below the exercise (replace
None or ...) and run it: the check says "Correct" or "Not yet", with a hint.

Code: MIT licence. Text and figures: CC BY 4.0.
"""


class SolutionError(ValueError):
    """The solution markers of a notebook cannot be removed safely."""


def source(cell: dict) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def exercise_labels(nb: dict) -> list[str]:
    return [
        m for c in nb["cells"] if c["cell_type"] == "markdown" for m in EXERCISE.findall(source(c))
    ]


def markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _split(text: str, pattern: re.Pattern, what: str, where: str) -> tuple[str, str]:
    found = list(pattern.finditer(text))
    if len(found) != 1:
        raise SolutionError(f"{where}: {len(found)} {what} directives in one cell, expected 1")
    return text[: found[0].start()], text[found[0].end() :]


def strip_solutions(nb: dict, name: str = "notebook") -> tuple[dict, list[str]]:
    """A copy of ``nb`` without solutions, and the labels whose solutions were removed."""
    out = copy.deepcopy(nb)
    cells: list[dict] = []
    removed: list[str] = []
    label: str | None = None  # the open solution's label, None outside one
    for index, cell in enumerate(nb["cells"]):
        where = f"{name} cell {index}"
        text = source(cell)
        starts = "{solution-start}" in text
        ends = "{solution-end}" in text
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []) and not (starts or ends):
            continue
        if label is None and not starts:
            if ends:
                raise SolutionError(f"{where}: {{solution-end}} without a {{solution-start}}")
            cells.append(copy.deepcopy(cell))
            continue
        before, after = "", text
        if starts:
            if label is not None:
                raise SolutionError(f"{where}: a {{solution-start}} inside the solution of {label}")
            if cell["cell_type"] != "markdown":
                raise SolutionError(f"{where}: {{solution-start}} in a {cell['cell_type']} cell")
            match = START_LABEL.search(text)
            label = match.group(1) if match else "?"
            before, after = _split(text, SOLUTION_START, "{solution-start}", where)
        if ends and cell["cell_type"] == "markdown":
            _, rest = _split(after, SOLUTION_END, "{solution-end}", where)
            kept = [part for part in (before.strip(), YOUR_TURN, rest.strip()) if part]
            removed.append(label)
            label = None
            cells.append({**copy.deepcopy(cell), "source": "\n\n".join(kept) + "\n"})
        elif before.strip():
            cells.append({**copy.deepcopy(cell), "source": before.rstrip() + "\n"})
    if label is not None:
        raise SolutionError(f"{name}: the solution of {label} has no {{solution-end}}")
    out["cells"] = cells
    return out, removed


def check_exercises(original: dict, student: dict, removed: list[str], name: str) -> None:
    """Every solution belongs to an exercise, and every exercise keeps a code cell to answer in."""
    labels = exercise_labels(original)
    unknown = [label for label in removed if label not in labels]
    if unknown:
        raise SolutionError(f"{name}: solutions for unknown exercises {unknown}")
    cells = student["cells"]
    for label in labels:
        at = next(
            i
            for i, c in enumerate(cells)
            if c["cell_type"] == "markdown"
            and re.search(rf":label:\s*{re.escape(label)}\b", source(c))
        )
        following = cells[at + 1] if at + 1 < len(cells) else None
        if following is None or following["cell_type"] != "code":
            raise SolutionError(
                f"{name}: exercise {label} is not followed by a code cell to answer in"
            )
    leftover = [
        i for i, c in enumerate(cells) if re.search(r"\{solution(-start|-end)?\}", source(c))
    ]
    if leftover:
        raise SolutionError(f"{name}: solution markers left in cells {leftover}")


def clear_outputs(nb: dict) -> None:
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    nb["metadata"].pop("widgets", None)


def student_notebook(path: pathlib.Path) -> tuple[dict, list[str]]:
    original = json.loads(path.read_text(encoding="utf-8"))
    student, removed = strip_solutions(original, path.name)
    check_exercises(original, student, removed, path.name)
    clear_outputs(student)
    header = markdown(HEADER + "\n")
    header["id"] = "student-edition"
    first = 1 if student["cells"] and student["cells"][0]["cell_type"] == "markdown" else 0
    student["cells"].insert(first, header)
    student["metadata"]["masked_loss"] = {"edition": "student", "solutions_removed": removed}
    return student, removed


def chapters() -> list[pathlib.Path]:
    return sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if re.match(r"\d\d_", p.name))


def build(paths: list[pathlib.Path], out: pathlib.Path) -> dict[str, list[str]]:
    """Write the student notebooks and the zip into ``out``; return the removed labels per file."""
    folder = out / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.ipynb"):
        stale.unlink()
    report = {}
    for path in paths:
        nb, removed = student_notebook(path)
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        (folder / path.name).write_text(text, encoding="utf-8")
        report[path.name] = removed
    archive = out / ZIP_NAME
    top = "masked-losses-student"
    members = [("README.txt", README)]
    members += [(p.name, (folder / p.name).read_text(encoding="utf-8")) for p in paths]
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, text in members:
            # A fixed date: the same notebooks give the same zip, byte for byte.
            info = zipfile.ZipInfo(f"{top}/{name}", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, text)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path, help="default: every chapter")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    try:
        report = build(args.notebooks or chapters(), args.out)
    except SolutionError as error:
        print(f"make_student: {error}", file=sys.stderr)
        return 1
    total = sum(len(labels) for labels in report.values())
    print(f"{len(report)} student notebooks, {total} solutions removed -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
