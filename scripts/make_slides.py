"""Render the class's slide deck, ``slides/masked-losses.ipynb``, as a self-hosted reveal.js page.

The deck is a notebook with the usual ``slideshow.slide_type`` cell metadata
(``slide``, ``subslide``, ``fragment``, ``notes``, ``skip``; unmarked cells
continue the current slide), so Jupyter's slideshow tools read it as well. Its
code cells are the book's code, stored with their outputs like the chapters'.
A markdown image whose address is a chapter notebook and a cell id,
``![](../notebooks/04_training.ipynb#46cc4b4b)``, shows that chapter's stored
figure, with the chapter's alt text unless the image gives its own.
An exercise is named by its label, as the chapters and the guide do,
``{ref}`ex-predict```: the slide shows "Exercise 1", the number the site and
the plain-Jupyter editions give it (``plain_jupyter.exercise_numbers``), as a
link to the exercise on the site. ``{{ site_url }}`` and ``{{ repository_url }}``
stand for the addresses ``_config.yml`` gives. Every slide needs speaker notes,
and each shows its number, "n / total", in its corner.

    python scripts/make_slides.py [--out _build/slides] [--execute]

writes ``OUT/index.html`` with the figures beside it, and copies reveal.js
(``node_modules/reveal.js``: ``npm ci`` installs it) into ``OUT/reveal/``. No
file the deck loads comes from another site. ``--execute`` first re-runs the
deck's code cells in a fresh kernel and stores their outputs in the notebook.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import pathlib
import re
import shutil
import sys

from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, get_lexer_by_name
from pygments.util import ClassNotFound

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import plain_jupyter  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
DECK = ROOT / "slides" / "masked-losses.ipynb"
DEFAULT_OUT = ROOT / "_build" / "slides"
REVEAL = ROOT / "node_modules" / "reveal.js"
# What the deck needs from the reveal.js package: the core, its style, a theme whose
# fonts are embedded (themes that @import web fonts would reach another site), and
# the speaker-notes plugin.
REVEAL_FILES = ("dist/reveal.js", "dist/reveal.css", "dist/theme/white.css", "dist/plugin/notes.js")
FAVICON = ROOT / "book" / "images" / "favicon.svg"
CODE_STYLE = "a11y-high-contrast-light"  # accessible-pygments: contrast above WCAG AA
TEX = re.compile(r"\$\$?[^$\n]+\$")
EXERCISE_REF = re.compile(r"\{ref\}`(?P<label>ex-[\w-]+)`")
SUBSTITUTION = re.compile(r"\{\{\s*(\w+)\s*\}\}")
CHAPTER_FIGURE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<path>[^)\s#]+\.ipynb)#(?P<cell>[\w-]+)\)")

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="reveal/dist/reveal.css">
<link rel="stylesheet" href="reveal/dist/theme/white.css">
<link rel="stylesheet" href="deck.css">
</head>
<body>
<main class="reveal" aria-label="{title}: slides">
<div class="slides">
{slides}
</div>
</main>
<script src="reveal/dist/reveal.js"></script>
<script src="reveal/dist/plugin/notes.js"></script>
<script>
  // A phone held upright gets a tall, narrow slide (text about 20 px on a 390 px
  // screen), not the 1280x800 one shrunk to a third; reveal.js's own scroll view,
  // which it would switch to below 435 px, stays off (it shrinks the text the same
  // way and ignores the slide in the address, #/5).
  const upright = () => window.innerWidth < 700 && window.innerHeight > window.innerWidth;
  const size = () => (upright() ? {{ width: 640, height: 1100 }} : {{ width: 1280, height: 800 }});
  Reveal.initialize({{
    hash: true,
    slideNumber: false,  // reveal.js draws it as a link to "#/", which names no anchor
    transition: "none",
    center: false,
    ...size(),
    scrollActivationWidth: null,
    plugins: [RevealNotes],
  }});
  window.addEventListener("resize", () => {{
    const wanted = size();
    if (Reveal.getConfig().width !== wanted.width) Reveal.configure(wanted);
  }});
  // Slides out of view are inert: no link on them takes keyboard focus.
  const showOnly = ({{ currentSlide }}) => {{
    for (const slide of document.querySelectorAll(".reveal .slides > section")) {{
      slide.inert = slide !== currentSlide;
    }}
  }};
  Reveal.on("ready", showOnly);
  Reveal.on("slidechanged", showOnly);
</script>
</body>
</html>
"""

DECK_CSS = """\
.reveal {{ font-size: 34px; }}
/* Each slide fills the slide area, so that its number sits in the bottom-left corner
   (the bottom-right one holds the arrows). */
.reveal .slides > section {{ min-height: 100%; box-sizing: border-box; padding-bottom: 1.6em; }}
.reveal .slides > section > .deck-number {{
  position: absolute; left: 0; bottom: 0; margin: 0;
  font-size: 0.8em; line-height: 1.2; color: #4a4a4a; font-variant-numeric: tabular-nums;
}}
.reveal h1 {{ font-size: 2.1em; text-transform: none; }}
.reveal h2 {{ font-size: 1.4em; text-transform: none; margin-bottom: 0.5em; }}
.reveal section.title-slide h2 {{ font-size: 1.1em; }}
.reveal section {{ text-align: left; }}
.reveal section.title-slide {{ text-align: center; }}
.reveal ul, .reveal ol {{ display: block; margin-left: 1.2em; }}
.reveal li {{ margin: 0.25em 0; }}
.reveal pre {{ width: 100%; box-shadow: none; font-size: 0.68em; margin: 0.4em 0; }}
.reveal pre code {{ max-height: none; padding: 0.5em 0.7em; line-height: 1.3; }}
.reveal .source pre code {{ background: #f6f8fa; }}
.reveal .output pre code {{ background: #ffffff; border-left: 4px solid #1f6feb; }}
.reveal img {{ height: 520px; width: auto; max-width: 100%; object-fit: contain;
               margin: 0.3em auto; display: block; }}
.reveal table {{ font-size: 0.8em; }}
.reveal p.formula {{ text-align: center; font-size: 1.1em; }}
@media (max-width: 699px) and (orientation: portrait) {{
  /* The upright phone slide is 640 px wide: code wraps instead of scrolling. */
  .reveal pre code {{ white-space: pre-wrap; overflow-wrap: anywhere; }}
  .reveal img {{ height: auto; max-height: 520px; }}
}}
.reveal a {{ color: #0b5cad; text-decoration: underline; }}
.reveal .progress {{ color: #0b5cad; }}
.reveal .controls {{ color: #0b5cad; }}
{pygments}
"""


def source(cell: dict) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def slide_type(cell: dict) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


class Renderer:
    """Turns cells into reveal.js HTML and collects the figures to write beside it."""

    def __init__(self, deck: pathlib.Path) -> None:
        self.deck = deck
        self.figures: dict[str, bytes] = {}
        self.formatter = HtmlFormatter(style=CODE_STYLE, nowrap=True)
        self.markdown = MarkdownIt("commonmark", {"html": True, "highlight": self._fence})
        self.markdown.enable("table")
        # Exercise numbers as the site and the plain-Jupyter editions give them.
        paths = plain_jupyter.chapters("en")
        self.numbers = plain_jupyter.exercise_numbers(paths)
        self.exercise_pages = {
            label: path.stem
            for path in paths
            for label in plain_jupyter.exercise_labels(json.loads(path.read_text("utf-8")))
        }
        self.substitutions = {
            "site_url": plain_jupyter.site_url(),
            "repository_url": plain_jupyter.repository_url(),
        }

    def _exercise(self, match: re.Match) -> str:
        label = match["label"]
        if label not in self.numbers:
            raise ValueError(f"{self.deck.name}: no exercise labelled {label!r} in the chapters")
        page = f"../../notebooks/{self.exercise_pages[label]}.html#{label}"
        return f"[Exercise {self.numbers[label]}]({page})"

    def _substitute(self, match: re.Match) -> str:
        if match[1] not in self.substitutions:
            raise ValueError(f"{self.deck.name}: no value for {{{{ {match[1]} }}}}")
        return self.substitutions[match[1]]

    def _code(self, text: str, language: str = "python") -> str:
        try:
            lexer = get_lexer_by_name(language) if language else PythonLexer()
        except ClassNotFound:
            lexer = PythonLexer()
        body = highlight(text.rstrip("\n"), lexer, self.formatter)
        return f'<pre><code class="highlight">{body}</code></pre>'

    def _fence(self, text: str, language: str, _attributes: str) -> str:
        return self._code(text, language or "text")

    def _figure(self, data: bytes, alt: str) -> str:
        if len(alt.strip()) < 20:
            raise ValueError(f"a figure in {self.deck.name} needs alt text (20 characters or more)")
        name = f"figures/figure-{len(self.figures) + 1}.png"
        self.figures[name] = data
        return f'<img src="{name}" alt="{html.escape(alt, quote=True)}">'

    def _chapter_figure(self, match: re.Match) -> str:
        path = (self.deck.parent / match["path"]).resolve()
        nb = json.loads(path.read_text(encoding="utf-8"))
        cell = next((c for c in nb["cells"] if c.get("id") == match["cell"]), None)
        if cell is None:
            raise ValueError(f"{self.deck.name}: no cell {match['cell']} in {path.name}")
        images = [
            o["data"]["image/png"]
            for o in cell.get("outputs", [])
            if "image/png" in o.get("data", {})
        ]
        if not images:
            raise ValueError(f"{self.deck.name}: cell {match['cell']} of {path.name} has no figure")
        alt = match["alt"] or cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
        return self._figure(base64.b64decode("".join(images[0])), alt)

    def markdown_cell(self, cell: dict) -> str:
        text = source(cell)
        if TEX.search(text):
            # The deck loads no math renderer: formulas are written in HTML (<sub>, <i>).
            raise ValueError(
                f"{self.deck.name}: TeX math ($...$) in a slide: {TEX.search(text)[0]}"
            )
        text = SUBSTITUTION.sub(self._substitute, EXERCISE_REF.sub(self._exercise, text))
        # Any other MyST (roles, admonitions) as plain Markdown, as the Colab edition shows it.
        context = plain_jupyter.Context(self.deck, {}, self.numbers, "en")
        text = plain_jupyter.convert_markdown(text, context)
        return self.markdown.render(CHAPTER_FIGURE.sub(self._chapter_figure, text))

    def code_cell(self, cell: dict) -> str:
        parts = []
        if not {"remove-input", "hide-input"} & set(tags(cell)):
            parts.append(f'<div class="source">{self._code(source(cell))}</div>')
        if "remove-output" not in tags(cell):
            alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
            for output in cell.get("outputs", []):
                parts.append(self._output(output, alt))
        return "\n".join(p for p in parts if p)

    def _output(self, output: dict, alt: str) -> str:
        kind = output["output_type"]
        if kind == "stream":
            text = "".join(output["text"])
        elif kind == "error":
            raise ValueError(f"{self.deck.name}: a stored error ({output['ename']}); run --execute")
        else:
            data = output.get("data", {})
            if "image/png" in data:
                return self._figure(base64.b64decode("".join(data["image/png"])), alt)
            if "text/plain" not in data:
                return ""
            text = "".join(data["text/plain"])
        if not text.strip():
            return ""
        return f'<div class="output"><pre><code>{html.escape(text.rstrip())}</code></pre></div>'


def slides(nb: dict, renderer: Renderer) -> list[dict]:
    """The deck's slides: each a list of HTML blocks and the speaker notes."""
    deck: list[dict] = []
    for index, cell in enumerate(nb["cells"]):
        kind = slide_type(cell)
        if kind == "skip" or "remove-cell" in tags(cell):
            continue
        if kind in ("slide", "subslide") or not deck:
            deck.append({"blocks": [], "notes": [], "first": index})
        body = renderer.markdown_cell(cell) if cell["cell_type"] == "markdown" else ""
        if cell["cell_type"] == "code":
            body = renderer.code_cell(cell)
        if kind == "notes":
            deck[-1]["notes"].append(body)
        elif kind == "fragment":
            deck[-1]["blocks"].append(f'<div class="fragment">{body}</div>')
        else:
            deck[-1]["blocks"].append(body)
    return deck


def render(nb: dict, renderer: Renderer) -> str:
    sections = []
    deck = slides(nb, renderer)
    for number, slide in enumerate(deck, start=1):
        notes = "".join(slide["notes"])
        if not re.sub(r"<[^>]+>", "", notes).strip():
            first = source(nb["cells"][slide["first"]]).strip().splitlines()[0]
            raise ValueError(f"{renderer.deck.name}: slide {number} ({first}) has no speaker notes")
        aside = f'<aside class="notes">{notes}</aside>'
        # reveal.js's own slideNumber is a link to "#/", which names no anchor: the
        # number is drawn on each slide instead, and so also shows in the overview.
        shown = f'<p class="deck-number">{number} / {len(deck)}</p>'
        css = ' class="title-slide"' if number == 1 else ""
        sections.append(
            f"<section{css}>\n" + "\n".join(slide["blocks"]) + shown + aside + "\n</section>"
        )
    title = nb["metadata"].get("title", "Masked losses in PyTorch")
    return PAGE.format(title=html.escape(title), slides="\n".join(sections))


def execute(path: pathlib.Path) -> None:
    import nbformat
    from execute_notebooks import run_top_to_bottom

    nb = nbformat.read(path, as_version=4)
    nbformat.write(run_top_to_bottom(nb, path.parent), path)


def build(deck: pathlib.Path, out: pathlib.Path, reveal: pathlib.Path = REVEAL) -> int:
    """Write the deck into ``out``; return the number of slides."""
    missing = [f for f in REVEAL_FILES if not (reveal / f).is_file()]
    if missing:
        raise FileNotFoundError(f"reveal.js is not installed (npm ci): missing {missing}")
    nb = json.loads(deck.read_text(encoding="utf-8"))
    renderer = Renderer(deck)
    page = render(nb, renderer)
    if out.exists():
        shutil.rmtree(out)
    (out / "figures").mkdir(parents=True)
    (out / "index.html").write_text(page, encoding="utf-8")
    pygments_css = renderer.formatter.get_style_defs(".reveal .highlight")
    (out / "deck.css").write_text(DECK_CSS.format(pygments=pygments_css), encoding="utf-8")
    for name, data in renderer.figures.items():
        (out / name).write_bytes(data)
    for name in (*REVEAL_FILES, "LICENSE"):
        target = out / "reveal" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(reveal / name, target)
    shutil.copyfile(FAVICON, out / "favicon.svg")
    return page.count("<section")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deck", type=pathlib.Path, default=DECK)
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    parser.add_argument("--reveal", type=pathlib.Path, default=REVEAL, help="the reveal.js package")
    parser.add_argument("--execute", action="store_true", help="re-run the deck's cells first")
    args = parser.parse_args(argv)
    if args.execute:
        execute(args.deck)
    try:
        count = build(args.deck, args.out, args.reveal)
    except (FileNotFoundError, ValueError) as error:
        print(f"make_slides: {error}", file=sys.stderr)
        return 1
    print(f"{count} slides -> {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
