"""The book's teaching helpers: notebook utilities, plots, the mask explorer,
self-checking exercises, the three-line recipe and the benchmark.

:func:`use_language` sets the language the helpers speak: ``"en"`` (the
default) or ``"zh"``, which a Chinese chapter sets once, in its import cell.
Under ``"zh"`` the exercise checks answer in Chinese,
``masked_loss.teaching.plotting.figure()`` draws its text with a CJK font and
the two explorers label themselves in Chinese.

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

#: The languages :func:`use_language` accepts.
LANGUAGES = ("en", "zh")
_language = "en"


def use_language(lang: str) -> None:
    """Make the teaching helpers speak ``lang``: ``"en"`` (the default) or ``"zh"``.

    Affects what is made afterwards: exercise verdicts, figures from
    ``masked_loss.teaching.plotting.figure()`` and new explorers. Returns
    None, so a notebook cell that ends with this call shows no output.

    Raises:
        ValueError: ``lang`` is not one of :data:`LANGUAGES`.
    """
    global _language
    if not isinstance(lang, str) or lang not in LANGUAGES:
        allowed = " or ".join(repr(name) for name in LANGUAGES)
        raise ValueError(f"language must be {allowed}, got {lang!r}")
    _language = lang


def current_language() -> str:
    """The language set by :func:`use_language`: ``"en"`` until it is called."""
    return _language


#: The languages an explorer accepts: "auto" follows the page it is shown on.
WIDGET_LANGUAGES = ("auto", "en", "zh")


def _widget_language(language: str | None) -> str:
    """An explorer's language: ``language`` if given, else "zh" under "zh", else "auto"."""
    if language is None:
        return "zh" if _language == "zh" else "auto"
    if language not in WIDGET_LANGUAGES:
        raise ValueError(f"language must be 'auto', 'en' or 'zh', got {language!r}")
    return language
