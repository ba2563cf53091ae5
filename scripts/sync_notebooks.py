"""Write every notebook's set-up cell from _config.yml and the package version.

The repository address lives in _config.yml only, the release in
``masked_loss.__version__`` only; the install line names the git tag
``v<version>``, the same ref the site's Colab links open (book/_ext), so a
notebook opened on Colab installs the package it was written against.

    python scripts/sync_notebooks.py          # rewrite the set-up cells
    python scripts/sync_notebooks.py --check  # exit 1 if any is out of date
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
SETUP_TAG = "setup"


def repository_url() -> str:
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    match = re.search(r"^repository:\s*\n(?:\s+#.*\n)*\s+url:\s*(\S+)", config, re.MULTILINE)
    if not match:
        raise SystemExit("_config.yml has no repository.url")
    return match.group(1)


def package_version() -> str:
    init = (ROOT / "masked_loss" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', init, re.MULTILINE).group(1)


def release_ref() -> str:
    """The git tag of this release (CONTRIBUTING.md says how to cut it)."""
    return f"v{package_version()}"


def install_spec() -> str:
    return f"masked_loss[book] @ git+{repository_url()}@{release_ref()}"


# The set-up cell's comment, in the chapter's language.
SETUP_COMMENT = {
    "en": (
        "# Set-up: where masked_loss or the book's extras are missing (e.g. on Colab),\n"
        "# install this book's release with them.\n"
    ),
    "zh": (
        "# 准备环境:缺少 masked_loss 或本书所需的其他包时(例如在 Colab 上),\n"
        "# 安装本书的这个版本及其所需的包。\n"
    ),
}


def language(path: pathlib.Path) -> str:
    """``zh`` for a chapter under ``notebooks/zh/``, else ``en``."""
    return "zh" if "zh" in path.resolve().relative_to(ROOT).parts else "en"


def setup_source(lang: str = "en") -> str:
    return (
        SETUP_COMMENT[lang] + "try:\n"
        "    import anywidget, masked_loss, matplotlib  # noqa: F401\n"
        "except ImportError:\n"
        f'    %pip install --quiet "{install_spec()}"\n'
        "    import masked_loss"
    )


def notebooks() -> list[pathlib.Path]:
    notebooks = (ROOT / "notebooks").rglob("*.ipynb")
    return sorted(path for path in notebooks if ".ipynb_checkpoints" not in path.parts)


def sync(path: pathlib.Path, check: bool) -> bool:
    """Return True when the notebook's set-up cell is (now) current."""
    nb = nbformat.read(path, as_version=4)
    source = setup_source(language(path))
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    first = code_cells[0] if code_cells else None
    if first is not None and SETUP_TAG in first.metadata.get("tags", []):
        if first.source == source:
            return True
        if check:
            return False
        first.source = source
    else:
        if check:
            return False
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": [SETUP_TAG, "hide-cell"]})
        index = nb.cells.index(first) if first is not None else len(nb.cells)
        nb.cells.insert(index, cell)
    nbformat.write(nb, path)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = [p.name for p in notebooks() if not sync(p, args.check)]
    if stale:
        print("set-up cell out of date in: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
