"""Re-execute every notebook in place, top to bottom, in a fresh kernel each.

Outputs and widget state are stored in the notebooks: the site shows them
and nbval compares against them. Deterministic: every notebook seeds itself.

    python scripts/execute_notebooks.py [NOTEBOOK ...]
"""

from __future__ import annotations

import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import sync_notebooks  # noqa: E402


def run_top_to_bottom(
    nb: nbformat.NotebookNode, directory: pathlib.Path, timeout: int = 120
) -> nbformat.NotebookNode:
    """Execute ``nb`` in a fresh kernel whose working directory is ``directory``."""
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        store_widget_state=True,
        record_timing=False,  # keeps re-runs free of timestamp-only diffs
        resources={"metadata": {"path": str(directory)}},
    ).execute()
    return nb


def execute(path: pathlib.Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    run_top_to_bottom(nb, path.parent)
    elapsed = time.perf_counter() - start
    nbformat.write(nb, path)
    return elapsed


def main() -> int:
    paths = [pathlib.Path(p) for p in sys.argv[1:]] or sync_notebooks.notebooks()
    for path in paths:
        sync_notebooks.sync(path, check=False)
        print(f"{path.name}: {execute(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
