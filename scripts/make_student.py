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

writes ``OUT/notebooks/*.ipynb``, the Chinese chapters as
``OUT/notebooks/zh/*.ipynb`` (Chinese headers, "练习 N" numbered as the
English exercises), and ``OUT/masked-losses-student-notebooks.zip``: the
notebooks, ``zh/`` and a README in English and Chinese (``zh/README.txt`` in
Chinese). Links between chapters, and between a chapter and its other-language
version, open the page on the site: they work on Colab too, where a notebook is
uploaded alone. Nothing is written into ``notebooks/``. Exits
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
    language,
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
    "all_chapters",
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
solutions removed. The Chinese chapters (Part 1) are in the zh/ folder.

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


{README_ZH_TITLE}
{"=" * 24}

{readme_zh_body()}"""


README_ZH_TITLE = "《PyTorch 中的掩码损失》学生版笔记本"


def readme_zh_body() -> str:
    return f"""\
中文章节(第一部分)在 zh/ 文件夹里,每章一个笔记本(版本 {package_version()}),
练习答案已删去。

在自己的电脑上运行:先安装 masked_loss 包(它不在 PyPI 上,pip 从本书的
git 仓库按这个版本的标签安装)和 Jupyter:

    {install_command()}

然后打开一个笔记本。
在 Colab 上运行:打开 https://colab.research.google.com,选择
“文件 > 上传笔记本”,选中 zh/ 文件夹里的一个笔记本,从头依次运行;
它的第一个代码单元会安装 masked_loss 包。

每道练习下方的单元里写下你的答案(替换 None 或 ...)后运行:检查会显示
“✓ 正确”,或给出提示“✗ 还不对”。

代码采用 MIT 许可证;文字和图采用 CC BY 4.0 许可。
"""


def readme_zh() -> str:
    """zh/README.txt: the Chinese half of the README, for a reader who opens zh/ first."""
    return f"{README_ZH_TITLE}\n{'=' * 24}\n\n{readme_zh_body()}"


def student_notebook(
    path: pathlib.Path, numbers: dict[str, int] | None = None
) -> tuple[dict, list[str]]:
    return convert(path, "student", numbers)


def chapters() -> list[pathlib.Path]:
    return _chapters("en")


def all_chapters() -> list[pathlib.Path]:
    """The English chapters, then the Chinese ones (``notebooks/zh``)."""
    return _chapters("en") + _chapters("zh")


def zip_path(path: pathlib.Path) -> str:
    """A chapter's place in the edition: ``NN_x.ipynb``, or ``zh/NN_x.ipynb`` if Chinese."""
    return f"zh/{path.name}" if language(path) == "zh" else path.name


def build(paths: list[pathlib.Path], out: pathlib.Path) -> dict[str, list[str]]:
    """Write the student notebooks and the zip into ``out``; return the removed labels per file.

    The keys are the notebooks' places in the edition (``zip_path``). Each
    language's exercises are numbered over its own chapters, in order, as in
    its Colab edition and on the site ("Exercise 2" and "练习 2" are the same).
    """
    folder = out / "notebooks"
    for stale in [*folder.glob("*.ipynb"), *folder.glob("zh/*.ipynb")]:
        stale.unlink()
    numbers = {lang: exercise_numbers(_chapters(lang)) for lang in ("en", "zh")}
    report = {}
    written: list[str] = []
    for path in paths:
        nb, removed = student_notebook(path, numbers[language(path)])
        target = folder / zip_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dumps(nb), encoding="utf-8")
        report[zip_path(path)] = removed
        written.append(zip_path(path))
    archive = out / ZIP_NAME
    top = "masked-losses-student"
    members = [("README.txt", readme())]
    if any(name.startswith("zh/") for name in written):
        members.append(("zh/README.txt", readme_zh()))
    members += [(name, (folder / name).read_text(encoding="utf-8")) for name in written]
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
        report = build(args.notebooks or all_chapters(), args.out)
    except (SolutionError, ConversionError) as error:
        print(f"make_student: {error}", file=sys.stderr)
        return 1
    total = sum(len(labels) for labels in report.values())
    print(f"{len(report)} student notebooks, {total} solutions removed -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
