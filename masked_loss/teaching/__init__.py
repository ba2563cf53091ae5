"""The book's teaching helpers: notebook utilities, plots, the mask explorer,
self-checking exercises, the three-line recipe and the benchmark.

Kept apart from the library (:mod:`masked_loss.losses`,
:mod:`masked_loss.reductions`, :mod:`masked_loss.distributed`), which needs
nothing but torch. These modules need the book's extras.
"""

from __future__ import annotations

import importlib.util

BOOK_EXTRAS = ("matplotlib", "anywidget", "ipywidgets", "traitlets")
INSTALL_HINT = 'pip install "masked_loss[book]"'


def _require_book_extras() -> None:
    missing = [name for name in BOOK_EXTRAS if _find_spec(name) is None]
    if missing:
        raise ImportError(
            f"masked_loss.teaching needs the book's extras ({', '.join(missing)} "
            f"missing): {INSTALL_HINT}"
        )


def _find_spec(name: str) -> object | None:
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
        return None


_require_book_extras()
