"""A chapter notebook as plain Jupyter renders it: CommonMark, no MyST.

Colab, JupyterLab and GitHub render a Markdown cell as CommonMark (with
``$...$`` maths); the book's MyST roles and directives would show as raw
markup there. :func:`convert` rewrites a chapter for those readers:

- ``{glue:text}`name:fmt``` becomes the value the chapter glued, read from the
  notebook's stored outputs (``masked_loss.teaching.book.glue`` stores it as
  myst-nb glue data) and formatted as the role says, as myst-nb does;
- ``{doc}``, ``{func}``, ``{class}``, ``{mod}`` and other roles become Markdown
  links to the page on the published site (or plain code where the site has
  no page for them); relative links to other notebooks or pages do too;
- admonitions and other directives become blockquotes with their title;
  ``{figure}`` becomes an image with its caption;
- an ``{exercise}`` becomes an "**Exercise N**" heading, numbered as in the
  chapter order of the edition;
- exercise solutions are folded in ``<details>`` (the Colab edition) or removed
  (the student edition, which clears the outputs too);
- hidden cells (tagged ``remove-cell``) and the cells that assert the prose
  (``claim(...)``) are removed, and so are the glue records among the outputs;
- a first cell says which edition this is.

Both editions are built by this module: ``scripts/make_student.py`` (the
student zip) and ``make colab`` (``python scripts/plain_jupyter.py``, which
writes ``colab/`` and ``colab/zh/``, the notebooks the site's Colab links open).

    python scripts/plain_jupyter.py [--out colab]   # write the Colab edition
    python scripts/plain_jupyter.py --check         # exit 1 if colab/ is not current
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import pathlib
import re
import sys
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
COLAB_DIR = ROOT / "colab"
SOLUTION_TAG = "solution"
HIDDEN_TAGS = {"remove-cell"}
GLUE_MIME = "application/papermill.record/"

# A MyST directive fence: ``` or ::: (three or more), then {name}, up to the closing fence.
DIRECTIVE = r"(?P<fence>`{3,}|:{3,})\{%s\}[^\n]*\n(?:.*?\n)??(?P=fence)[ \t]*(?:\n|$)"
SOLUTION_START = re.compile(DIRECTIVE % "solution-start", re.DOTALL)
SOLUTION_END = re.compile(DIRECTIVE % "solution-end", re.DOTALL)
EXERCISE = re.compile(r"(?:`{3,}|:{3,})\{exercise\}[^\n]*\n(?:.*?\n)??:label:\s*(\S+)", re.DOTALL)
START_LABEL = re.compile(r"\{solution-start\}\s*(\S+)")
# What must not survive the conversion (tests/test_editions.py checks every chapter).
RAW_ROLE = re.compile(r"\{[A-Za-z][\w:.+-]*\}`")
RAW_FENCE = re.compile(r"(?m)^[ \t>]*(`{3,}|:{3,})[ \t]*\{[A-Za-z][\w:.+-]*\}")
CLAIM = re.compile(r"\bclaim\(")

YOUR_TURN = "*Your turn: run the cell above until its check says ✓ Correct.*"
YOUR_TURN_ZH = "*轮到你了:运行上面的单元,直到检查显示 ✓ 正确。*"

HEADERS = {
    "colab": (
        "**Colab edition** of a chapter of [*Masked losses in PyTorch*]({site}). This is the "
        "chapter as plain Jupyter shows it, with its outputs: the numbers in the text are the "
        "ones its code printed, and each exercise's solution is folded under *Solution*. Run "
        "the cells from the top; the first code cell installs the `masked_loss` package "
        "(release {ref})."
    ),
    "student": (
        "**Student edition.** The exercise solutions are removed from this copy of the "
        "chapter of [*Masked losses in PyTorch*]({site}). Run the cells from the top; at each "
        "exercise, write your answer in the cell below it (replace `None` or `...`) and run "
        "that cell again: its check says *✓ Correct* or, with a hint, *✗ Not yet*. The first "
        "code cell installs the `masked_loss` package where it is missing (on Colab, for "
        "example)."
    ),
}
HEADERS_ZH = {
    "colab": (
        "**Colab 版**:[《PyTorch 中的掩码损失》]({site})一章的纯 Jupyter 版本,保留了运行输出:"
        "正文中的数字就是代码打印的结果,每道练习的答案折叠在「练习 N 的答案」之下。请从头依次运行;"
        "第一个代码单元会安装 `masked_loss` 包(版本 {ref})。"
    ),
    "student": (
        "**学生版**:[《PyTorch 中的掩码损失》]({site})一章,练习答案已删去。请从头依次运行;"
        "每道练习下方的单元里写下你的答案(替换 `None` 或 `...`)后再运行:检查会显示"
        "「✓ 正确」,或给出提示「✗ 还不对」。第一个代码单元会在缺少 `masked_loss` 包时"
        "(例如在 Colab 上)安装它。"
    ),
}
LABELS = {
    # "solution" names a folded solution, {n} its exercise's number (as the site says).
    "en": {
        "exercise": "Exercise",
        "solution": "Solution to Exercise {n}",
        "figure": "Figure",
        "show_code": " (double-click to show the code)",
    },
    "zh": {
        "exercise": "练习",
        "solution": "练习 {n} 的答案",
        "figure": "图",
        "show_code": "(双击显示代码)",
    },
}
ADMONITION_TITLES = {
    "note": "Note",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
}


class SolutionError(ValueError):
    """The solution markers of a notebook cannot be removed safely."""


class ConversionError(ValueError):
    """A chapter holds MyST this converter cannot turn into plain Markdown."""


# --- The release: site, repository and tag, from _config.yml and the package ------------------


def repository_url() -> str:
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    match = re.search(r"^repository:\s*\n(?:\s+#.*\n)*\s+url:\s*(\S+)", config, re.MULTILINE)
    if not match:
        raise SystemExit("_config.yml has no repository.url")
    return match.group(1).rstrip("/")


def site_url() -> str:
    """Where GitHub Pages publishes the repository's site (as book/_ext computes it)."""
    owner, name = repository_url().split("/")[-2:]
    return f"https://{owner.lower()}.github.io/{name}/"


def package_version() -> str:
    init = (ROOT / "masked_loss" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', init, re.MULTILINE).group(1)


def release_ref() -> str:
    return f"v{package_version()}"


# --- Cells ----------------------------------------------------------------------------------


def source(cell: dict) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def exercise_labels(nb: dict) -> list[str]:
    return [
        m for c in nb["cells"] if c["cell_type"] == "markdown" for m in EXERCISE.findall(source(c))
    ]


def is_hidden(cell: dict) -> bool:
    """A cell the site never shows (``remove-cell``) or one that asserts the prose."""
    tags = set(cell.get("metadata", {}).get("tags", []))
    return cell["cell_type"] == "code" and bool(tags & HIDDEN_TAGS or CLAIM.search(source(cell)))


# --- Solutions ------------------------------------------------------------------------------


def _split(text: str, pattern: re.Pattern, what: str, where: str) -> tuple[str, str]:
    found = list(pattern.finditer(text))
    if len(found) != 1:
        raise SolutionError(f"{where}: {len(found)} {what} directives in one cell, expected 1")
    return text[: found[0].start()], text[found[0].end() :]


def solution_pieces(nb: dict, name: str = "notebook") -> list[tuple[dict, str | None, bool]]:
    """The cells, split at the solution markers: ``(cell, label, ends)`` for each piece.

    ``label`` is the exercise whose solution the piece belongs to (None outside a
    solution); ``ends`` is true for the piece that closes a solution, whose
    cell is the Markdown after the ``{solution-end}`` (possibly empty).
    """
    pieces: list[tuple[dict, str | None, bool]] = []
    label: str | None = None  # the open solution's label, None outside one
    for index, cell in enumerate(nb["cells"]):
        where = f"{name} cell {index}"
        text = source(cell)
        starts = "{solution-start}" in text
        ends = "{solution-end}" in text
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []) and not (starts or ends):
            pieces.append((copy.deepcopy(cell), label or "?", False))
            continue
        if label is None and not starts:
            if ends:
                raise SolutionError(f"{where}: {{solution-end}} without a {{solution-start}}")
            pieces.append((copy.deepcopy(cell), None, False))
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
            if before.strip():
                pieces.append(
                    ({**copy.deepcopy(cell), "source": before.rstrip() + "\n"}, None, False)
                )
        if ends and cell["cell_type"] == "markdown":
            inside, rest = _split(after, SOLUTION_END, "{solution-end}", where)
            if inside.strip():
                pieces.append(
                    ({**copy.deepcopy(cell), "source": inside.strip() + "\n"}, label, False)
                )
            pieces.append(({**copy.deepcopy(cell), "source": rest.strip() + "\n"}, label, True))
            label = None
        elif starts:
            if after.strip():
                pieces.append(
                    ({**copy.deepcopy(cell), "source": after.strip() + "\n"}, label, False)
                )
        else:
            pieces.append((copy.deepcopy(cell), label, False))
    if label is not None:
        raise SolutionError(f"{name}: the solution of {label} has no {{solution-end}}")
    return pieces


def strip_solutions(
    nb: dict, name: str = "notebook", your_turn: str = YOUR_TURN
) -> tuple[dict, list[str]]:
    """A copy of ``nb`` without solutions, and the labels whose solutions were removed."""
    out = copy.deepcopy(nb)
    cells: list[dict] = []
    removed: list[str] = []
    for cell, label, ends in solution_pieces(nb, name):
        if label is None:
            cells.append(cell)
        elif ends:
            removed.append(label)
            # "Your turn", then the prose after the solution.
            kept = [part for part in (your_turn, source(cell).strip()) if part]
            cells.append({**cell, "source": "\n\n".join(kept) + "\n"})
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


def fold_solutions(nb: dict, numbers: dict[str, int], words: dict[str, str], name: str) -> dict:
    """A copy of ``nb`` whose solutions are folded: Markdown in ``<details>``, code hidden."""
    out = copy.deepcopy(nb)
    cells: list[dict] = []
    for cell, label, ends in solution_pieces(nb, name):
        if label is None or (ends and not source(cell).strip()):
            if label is None or source(cell).strip():
                cells.append(cell)
            continue
        title = words["solution"].format(n=numbers.get(label, "?"))
        if ends:
            cells.append(cell)  # the prose after the solution
        elif cell["cell_type"] == "markdown":
            body = source(cell).strip()
            cells.append(
                {
                    **cell,
                    "source": f"<details>\n<summary>{title}</summary>\n\n{body}\n\n</details>\n",
                }
            )
        else:
            # Colab folds a code cell whose first line is a form title (cellView "form");
            # JupyterLab and Notebook 7 fold it by the source_hidden flag.
            code = source(cell)
            if not code.startswith("# @title"):
                code = f"# @title {title}{words['show_code']}\n{code}"
            metadata = dict(cell.get("metadata", {}))
            metadata["cellView"] = "form"
            metadata["jupyter"] = {**metadata.get("jupyter", {}), "source_hidden": True}
            cells.append({**cell, "source": code, "metadata": metadata})
    out["cells"] = cells
    return out


# --- Glue -----------------------------------------------------------------------------------


def glued_values(nb: dict) -> dict[str, str]:
    """Every value the notebook glued, as myst-nb stores it: the text/plain of the record."""
    values: dict[str, str] = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            scrapbook = output.get("metadata", {}).get("scrapbook", {})
            if "name" not in scrapbook:
                continue
            text = output.get("data", {}).get(GLUE_MIME + "text/plain")
            if text is not None:
                values[scrapbook["name"]] = "".join(text) if isinstance(text, list) else text
    return values


def figure_captions(nb: dict) -> dict[str, tuple[int, str]]:
    """Each figure cell's name (``mystnb.figure`` metadata): its number in the chapter, caption."""
    figures: dict[str, tuple[int, str]] = {}
    for cell in nb["cells"]:
        figure = cell.get("metadata", {}).get("mystnb", {}).get("figure")
        if cell["cell_type"] == "code" and figure and "name" in figure:
            figures[figure["name"]] = (len(figures) + 1, figure.get("caption", ""))
    return figures


def format_plain_text(text: str, spec: str) -> str:
    """The glued text formatted as myst-nb's ``{glue:text}`` does (myst_nb.core.variables)."""
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if spec == "":
        return str(value)
    kind = spec[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, spec)


# --- Markdown -------------------------------------------------------------------------------


class Context:
    """Where a chapter sits, and what its roles and links point at."""

    def __init__(self, path: pathlib.Path, nb: dict, numbers: dict[str, int], lang: str) -> None:
        self.path = path.resolve()
        if self.path.is_relative_to(ROOT):
            self.page = self.path.relative_to(ROOT).with_suffix("")  # e.g. notebooks/zh/02_the_bug
        else:
            self.page = pathlib.Path(self.path.stem)
        self.glue = glued_values(nb) if nb else {}
        self.figures = figure_captions(nb) if nb else {}
        self.numbers = numbers
        self.words = LABELS[lang]
        self.site = site_url()
        self.api = (ROOT / "book" / "api.md").read_text(encoding="utf-8")

    def page_url(self, target: pathlib.PurePosixPath, anchor: str = "") -> str:
        return self.site + target.as_posix() + ".html" + (f"#{anchor}" if anchor else "")

    def resolve(self, target: str) -> pathlib.PurePosixPath:
        """A document path (as ``{doc}`` or a relative link names it) from the site's root."""
        base = pathlib.PurePosixPath(self.page.as_posix()).parent
        parts: list[str] = []
        for part in (base / target).parts:
            if part == "..":
                parts.pop()
            elif part != ".":
                parts.append(part)
        return pathlib.PurePosixPath(*parts)

    def title(self, doc: pathlib.PurePosixPath) -> str:
        for suffix in (".ipynb", ".md"):
            path = ROOT / (doc.as_posix() + suffix)
            if not path.exists():
                continue
            if suffix == ".ipynb":
                cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
                text = "\n".join(source(c) for c in cells if c["cell_type"] == "markdown")
            else:
                text = path.read_text(encoding="utf-8")
            match = re.search(r"(?m)^#\s+(.+)$", text)
            if match:
                return match.group(1).strip()
        raise ConversionError(f"{self.path.name}: no page {doc} for a link")

    def role(self, name: str, content: str) -> str:
        explicit = re.fullmatch(r"(.*?)\s*<([^<>]+)>", content, re.DOTALL)
        text, target = (explicit.group(1), explicit.group(2)) if explicit else (None, content)
        if name == "glue:text" or name == "glue":
            key, _, spec = target.rpartition(":") if ":" in target else (target, "", "")
            if "::" in target:
                raise ConversionError(f"{self.path.name}: glue from another page: {target}")
            if key not in self.glue:
                raise ConversionError(f"{self.path.name}: nothing glued as {key!r}")
            return format_plain_text(self.glue[key], spec)
        if name == "numref":
            if target not in self.figures:
                raise ConversionError(f"{self.path.name}: no figure named {target!r}")
            return f"{self.words['figure']} {self.figures[target][0]}"
        if name == "doc":
            doc = self.resolve(target)
            return f"[{text or self.title(doc)}]({self.page_url(doc)})"
        if name in {"func", "class", "meth", "mod", "attr", "obj", "data", "exc"}:
            shown = target.lstrip("~")
            if target.startswith("~"):
                shown = shown.rsplit(".", 1)[-1]
            if name in {"func", "meth"}:
                shown += "()"
            full = target.lstrip("~")
            code = f"`{text or shown}`"
            documented = re.search(rf"^\.\. auto\w+:: {re.escape(full)}\s*$", self.api, re.M)
            if documented:
                return f"[{code}]({self.page_url(pathlib.PurePosixPath('book/api'), full)})"
            return code
        if name in {"math"}:
            return f"${target}$"
        if name in {"sub", "sup"}:
            return f"<{name}>{target}</{name}>"
        if name in {"kbd", "code", "samp", "file", "command", "abbr", "term", "guilabel"}:
            return f"`{text or target}`" if name != "term" else (text or target)
        raise ConversionError(f"{self.path.name}: no plain form for the role {{{name}}}")

    def link(self, match: re.Match[str]) -> str:
        """A relative link to another chapter or page becomes its address on the site."""
        label, target = match.group(1), match.group(2)
        parsed = urllib.parse.urlsplit(target)
        if parsed.scheme or parsed.netloc or target.startswith("#"):
            return match.group(0)
        path = parsed.path
        for suffix in (".ipynb", ".md"):
            if path.endswith(suffix):
                doc = self.resolve(path.removesuffix(suffix))
                return f"[{label}]({self.page_url(doc, parsed.fragment)})"
        return match.group(0)


ROLE = re.compile(r"\{(?P<name>[A-Za-z][\w:.+-]*)\}(?P<ticks>`+)(?P<content>.+?)(?P=ticks)", re.S)
INLINE_LINK = re.compile(r"(?<!!)\[([^\]\n]+)\]\(([^)\s]+)\)")
OPEN_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}(?P<arg>.*)$"
)


def _inline(text: str, ctx: Context) -> str:
    """Roles and relative links in a stretch of Markdown outside code fences."""
    # Keep inline code as it is; like CommonMark, a code span (and so a role's
    # target) may run over one line break.
    parts = re.split(r"(`+[^`\n]*(?:\n[^`\n]*)?`+)", text)
    out = []
    # Re-join role + code span: a role is "{name}" right before a code span.
    i = 0
    while i < len(parts):
        part = parts[i]
        role = re.search(r"\{([A-Za-z][\w:.+-]*)\}$", part)
        if role and i + 1 < len(parts) and parts[i + 1].startswith("`"):
            code = parts[i + 1]
            ticks = len(code) - len(code.lstrip("`"))
            content = code[ticks:-ticks].replace("\n", " ")
            before = part[: role.start()]
            out.append(INLINE_LINK.sub(ctx.link, before))
            out.append(ctx.role(role.group(1), content))
            i += 2
            continue
        out.append(part if part.startswith("`") else INLINE_LINK.sub(ctx.link, part))
        i += 1
    return "".join(out)


def _parse_options(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    at = 0
    if lines and lines[0].strip() == "---":
        end = lines.index("---", 1) if "---" in lines[1:] else 0
        for line in lines[1:end]:
            key, _, value = line.partition(":")
            options[key.strip()] = value.strip()
        at = end + 1
    while at < len(lines):
        match = re.match(r"^:([\w-]+):\s*(.*)$", lines[at].strip())
        if not match:
            break
        options[match.group(1)] = match.group(2)
        at += 1
    return options, lines[at:]


def _quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.strip("\n").splitlines())


def _directive(name: str, arg: str, body: str, ctx: Context) -> str:
    options, lines = _parse_options(body.splitlines())
    content = convert_markdown("\n".join(lines), ctx).strip("\n")
    arg = _inline(arg.strip(), ctx)
    if name == "exercise":
        label = options.get("label", "")
        number = ctx.numbers.get(label, "?")
        heading = f"**{ctx.words['exercise']} {number}**" + (f" · **{arg}**" if arg else "")
        return f"{heading}\n\n{content}\n"
    if name in {"figure", "image"}:
        alt = options.get("alt", "")
        target = arg
        if not urllib.parse.urlsplit(target).scheme:
            target = ctx.site + ctx.resolve(target).as_posix()
        image = f"![{alt}]({target})"
        return f"{image}\n\n*{content}*\n" if content else image + "\n"
    if name in {"math"}:
        return f"$$\n{content}\n$$\n"
    if name in {"code", "code-block", "code-cell", "sourcecode"}:
        return f"```{arg}\n{chr(10).join(lines).strip(chr(10))}\n```\n"
    if name in {"raw", "only", "toctree", "tableofcontents", "glossary", "bibliography"}:
        raise ConversionError(f"{ctx.path.name}: no plain form for the directive {{{name}}}")
    if name in {"list-table", "csv-table", "table"}:
        raise ConversionError(f"{ctx.path.name}: no plain form for the directive {{{name}}}")
    title = arg if name == "admonition" else ADMONITION_TITLES.get(name, name.capitalize())
    if name != "admonition" and arg:
        title = f"{title}: {arg}"
    quoted = f"**{title}**\n\n{content}" if title else content
    return _quote(quoted) + "\n"


def convert_markdown(text: str, ctx: Context) -> str:
    """A Markdown cell's MyST as CommonMark: directives, roles, relative links."""
    lines = text.split("\n")
    out: list[str] = []
    plain: list[str] = []

    def flush() -> None:
        if plain:
            out.append(_inline("\n".join(plain), ctx))
            plain.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        opening = OPEN_FENCE.match(line)
        code_fence = re.match(r"^[ \t]*(`{3,}|~{3,})(?!\{)", line)
        if opening:
            flush()
            fence = opening.group("fence")
            closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
            j = i + 1
            while j < len(lines) and not closing.match(lines[j]):
                j += 1
            if j == len(lines):
                raise ConversionError(f"{ctx.path.name}: an unclosed {{{opening.group('name')}}}")
            body = "\n".join(lines[i + 1 : j])
            out.append(
                _directive(opening.group("name"), opening.group("arg"), body, ctx).rstrip("\n")
            )
            i = j + 1
            continue
        if code_fence:
            flush()
            fence = code_fence.group(1)
            closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
            j = i + 1
            while j < len(lines) and not closing.match(lines[j]):
                j += 1
            out.append("\n".join(lines[i : j + 1]))
            i = j + 1
            continue
        if re.match(r"^\([\w-]+\)=\s*$", line):  # a MyST target: nothing to show
            i += 1
            continue
        plain.append(line)
        i += 1
    flush()
    return "\n".join(out)


# --- Whole notebooks ------------------------------------------------------------------------


def language(path: pathlib.Path) -> str:
    return "zh" if "zh" in path.resolve().relative_to(ROOT).parts else "en"


def chapters(lang: str = "en") -> list[pathlib.Path]:
    folder = ROOT / "notebooks" / ("zh" if lang == "zh" else "")
    return sorted(p for p in folder.glob("*.ipynb") if re.match(r"\d\d_", p.name))


def exercise_numbers(paths: list[pathlib.Path]) -> dict[str, int]:
    """Every exercise label of the edition, numbered in chapter order from 1."""
    numbers: dict[str, int] = {}
    for path in paths:
        for label in exercise_labels(json.loads(path.read_text(encoding="utf-8"))):
            numbers.setdefault(label, len(numbers) + 1)
    return numbers


def _clear_outputs(nb: dict) -> None:
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    nb["metadata"].pop("widgets", None)


def convert(
    path: pathlib.Path, edition: str, numbers: dict[str, int] | None = None
) -> tuple[dict, list[str]]:
    """The chapter at ``path`` as plain Jupyter; and the labels whose solutions were removed.

    ``edition`` is ``"colab"`` (solutions folded, outputs kept) or ``"student"``
    (solutions removed, outputs cleared).
    """
    if edition not in HEADERS:
        raise ValueError(f"unknown edition {edition!r}")
    original = json.loads(path.read_text(encoding="utf-8"))
    lang = language(path)
    numbers = numbers if numbers is not None else exercise_numbers(chapters(lang))
    ctx = Context(path, original, numbers, lang)
    removed: list[str] = []
    if edition == "student":
        your_turn = YOUR_TURN_ZH if lang == "zh" else YOUR_TURN
        nb, removed = strip_solutions(original, path.name, your_turn)
        check_exercises(original, nb, removed, path.name)
    else:
        nb = fold_solutions(original, numbers, ctx.words, path.name)
    cells = []
    for cell in nb["cells"]:
        if is_hidden(cell):
            continue
        cell = copy.deepcopy(cell)
        if cell["cell_type"] == "markdown":
            text = convert_markdown(source(cell), ctx).strip("\n")
            if not text:
                continue
            cell["source"] = text + "\n"
        elif cell["cell_type"] == "code":
            cell["outputs"] = [
                o for o in cell.get("outputs", []) if "scrapbook" not in o.get("metadata", {})
            ]
        cells.append(cell)
        figure = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
        if cell["cell_type"] == "code" and figure.get("name") in ctx.figures:
            # The site numbers and captions the figure; plain Jupyter shows a line below it.
            number, caption = ctx.figures[figure["name"]]
            text = convert_markdown(caption, ctx).strip()
            caption_cell = markdown(f"**{ctx.words['figure']} {number}.** {text}\n")
            caption_cell["id"] = f"{cell.get('id', 'figure')}-caption"  # nbformat 4.5 ids
            cells.append(caption_cell)
    nb["cells"] = cells
    if edition == "student":
        _clear_outputs(nb)
    headers = HEADERS_ZH if lang == "zh" else HEADERS
    header = markdown(
        headers[edition].format(site=ctx.page_url(ctx.page), ref=release_ref()) + "\n"
    )
    header["id"] = f"{edition}-edition"
    nb["cells"].insert(0, header)
    nb["metadata"]["masked_loss"] = {
        "edition": edition,
        "source": ctx.page.as_posix() + ".ipynb",
        "exercises": {label: numbers[label] for label in exercise_labels(original)},
        **({"solutions_removed": removed} if edition == "student" else {}),
    }
    leftover = raw_myst(nb)
    if leftover:
        raise ConversionError(f"{path.name}: MyST left after conversion: {leftover[:3]}")
    return nb, removed


def raw_myst(nb: dict) -> list[str]:
    """What plain Jupyter would show as raw markup: roles, directive fences, claim calls."""
    found = []
    for index, cell in enumerate(nb["cells"]):
        text = source(cell)
        if cell["cell_type"] == "markdown":
            for pattern in (RAW_ROLE, RAW_FENCE):
                found += [f"cell {index}: {m.group(0)}" for m in pattern.finditer(text)]
        if CLAIM.search(text):
            found.append(f"cell {index}: claim(")
    return found


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def colab_target(path: pathlib.Path) -> pathlib.PurePosixPath:
    """Where the Colab edition of ``notebooks/<...>.ipynb`` lives in the repository."""
    relative = path.resolve().relative_to(ROOT / "notebooks")
    return pathlib.PurePosixPath("colab", *relative.parts)


def colab_edition() -> dict[pathlib.PurePosixPath, str]:
    """The whole Colab edition: repository path -> notebook text."""
    files = {}
    for lang in ("en", "zh"):
        paths = chapters(lang)
        numbers = exercise_numbers(paths)
        for path in paths:
            nb, _ = convert(path, "colab", numbers)
            files[colab_target(path)] = dumps(nb)
    return files


def write_colab(out: pathlib.Path = COLAB_DIR) -> int:
    files = colab_edition()
    for stale in out.rglob("*.ipynb") if out.exists() else []:
        stale.unlink()
    for target, text in files.items():
        path = out / pathlib.PurePosixPath(*target.parts[1:])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return len(files)


def stale_colab(out: pathlib.Path = COLAB_DIR) -> list[str]:
    """The Colab edition's files that are missing, different or left over in ``out``."""
    files = colab_edition()
    expected = {out / pathlib.PurePosixPath(*t.parts[1:]): text for t, text in files.items()}
    stale = [
        str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        for path, text in expected.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    present = set(out.rglob("*.ipynb")) if out.exists() else set()
    stale += [str(p) for p in sorted(present - set(expected))]
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=COLAB_DIR)
    parser.add_argument("--check", action="store_true", help="exit 1 if the edition is stale")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_colab(args.out)
            if stale:
                print(
                    "the Colab edition is not current (run `make colab`): " + ", ".join(stale),
                    file=sys.stderr,
                )
                return 1
            return 0
        count = write_colab(args.out)
    except (SolutionError, ConversionError) as error:
        print(f"plain_jupyter: {error}", file=sys.stderr)
        return 1
    print(f"{count} notebooks in the Colab edition -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
