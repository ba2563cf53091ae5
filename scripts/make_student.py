"""Build the student edition: every chapter as plain Jupyter, with the exercise solutions removed.

The conversion is scripts/plain_jupyter.py's, the one the Colab edition uses:
glued numbers filled in, links to the site, admonitions as blockquotes,
exercises as numbered headings, hidden claim cells removed. A solution is what
the chapters fold away on the site: everything from the ``{solution-start}``
directive to the matching ``{solution-end}``, whichever cells they sit in
(prose before the start and after the end stays), plus any cell tagged
``solution``. The exercise statement and the "your code here" cell with its
check stay. Outputs are cleared, so the student runs every cell in order, and
a first cell says what this edition is.

    python scripts/make_student.py [--out _build/student] [NOTEBOOK ...]

writes ``OUT/notebooks/*.ipynb`` and ``OUT/masked-losses-student-notebooks.zip``
(the notebooks and a README). Nothing is written into ``notebooks/``. Exits
non-zero, naming the notebook and cell, when the solution markers are
unbalanced, an exercise would lose its answer cell, or MyST would be left.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import zipfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from plain_jupyter import (  # noqa: E402  (re-exported: tests and callers use these names)
    EXERCISE,
    ROOT,
    YOUR_TURN,
    ConversionError,
    SolutionError,
    check_exercises,
    convert,
    dumps,
    exercise_labels,
    exercise_numbers,
    markdown,
    package_version,
    release_ref,
    repository_url,
    source,
    strip_solutions,
)
from plain_jupyter import chapters as _chapters  # noqa: E402

__all__ = [
    "EXERCISE",
    "YOUR_TURN",
    "SolutionError",
    "build",
    "chapters",
    "check_exercises",
    "exercise_labels",
    "markdown",
    "source",
    "strip_solutions",
    "student_notebook",
]

DEFAULT_OUT = ROOT / "_build" / "student"
ZIP_NAME = "masked-losses-student-notebooks.zip"


def install_command() -> str:
    """How a reader installs this release without PyPI: pip from the git tag."""
    return f'pip install "masked_loss[book] @ git+{repository_url()}@{release_ref()}" jupyter'


def readme() -> str:
    return f"""\
Masked losses in PyTorch: student notebooks
===========================================

One notebook per chapter (release {package_version()}), with the exercise
solutions removed.

Run them locally: install the package (it is not on PyPI: pip installs it from
the book's git repository, at this release's tag) and Jupyter:

    {install_command()}

then open a notebook.
Run them on Colab: open https://colab.research.google.com, choose
File > Upload notebook, pick a notebook from this folder and run it from the
top; its first code cell installs the package.

At each exercise, write your answer in the cell below the exercise (replace
None or ...) and run it: the check says "Correct" or "Not yet", with a hint.

Code: MIT licence. Text and figures: CC BY 4.0.
"""


def student_notebook(
    path: pathlib.Path, numbers: dict[str, int] | None = None
) -> tuple[dict, list[str]]:
    return convert(path, "student", numbers)


def chapters() -> list[pathlib.Path]:
    return _chapters("en")


def build(paths: list[pathlib.Path], out: pathlib.Path) -> dict[str, list[str]]:
    """Write the student notebooks and the zip into ``out``; return the removed labels per file."""
    folder = out / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.ipynb"):
        stale.unlink()
    numbers = exercise_numbers(chapters())
    report = {}
    for path in paths:
        nb, removed = student_notebook(path, numbers)
        (folder / path.name).write_text(dumps(nb), encoding="utf-8")
        report[path.name] = removed
    archive = out / ZIP_NAME
    top = "masked-losses-student"
    members = [("README.txt", readme())]
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
    except (SolutionError, ConversionError) as error:
        print(f"make_student: {error}", file=sys.stderr)
        return 1
    total = sum(len(labels) for labels in report.values())
    print(f"{len(report)} student notebooks, {total} solutions removed -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
