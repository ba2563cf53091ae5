"""The book's teaching helpers: notebook utilities, plots, the mask explorer,
self-checking exercises, the three-line recipe and the benchmark.

Kept apart from the library (:mod:`masked_loss.losses`,
:mod:`masked_loss.reductions`, :mod:`masked_loss.distributed`), which needs
nothing but torch. These modules need the book's extras.
"""

from __future__ import annotations

import importlib.util

BOOK_EXTRAS = ("matplotlib", "anywidget", "ipywidgets", "traitlets")
# masked_loss is not on PyPI: pip installs a release from the book's repository
# (_config.yml's repository.url; tests/test_release.py checks they agree) at its tag.
REPOSITORY = "https://github.com/masked-loss/masked-loss-book"


def _install_hint() -> str:
    from masked_loss import __version__

    return f'pip install "masked_loss[book] @ git+{REPOSITORY}@v{__version__}"'


INSTALL_HINT = _install_hint()


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
