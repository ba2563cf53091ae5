"""One small plotting helper, so every figure in the book looks alike.

Figures get an opaque white background: they stay legible when the site is
shown in its dark theme. Under ``use_language("zh")``
(:func:`masked_loss.teaching.use_language`) their text is drawn with a CJK
font found among those installed, so that Chinese titles, labels and legends
show. Needs matplotlib (``pip install masked_loss[book]``).
"""

from __future__ import annotations

import warnings
from typing import Any

import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.cbook import is_math_text
from matplotlib.figure import Figure
from matplotlib.text import Text

from masked_loss.teaching import current_language

#: One colour per formulation, used in every chapter.
COLORS = {
    "naive": "#c0392b",
    "correct": "#1f5fa8",
    "reference": "#555555",
    "other": "#2e8b57",
}

_BACKGROUND = "white"
_GRID = "#dddddd"

#: Fonts with Chinese glyphs, the first one installed is used under "zh":
#: Simplified Chinese faces first, then other CJK faces that cover it.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "PingFang SC",
    "Microsoft YaHei",
    "Hiragino Sans GB",
    "Heiti SC",
    "Arial Unicode MS",
)
INSTALL_CJK_FONT = (
    "no CJK font found for Chinese figure text (tried "
    + ", ".join(CJK_FONTS[:3])
    + ", ...): Chinese characters will show as boxes. Install one, e.g. "
    "`apt-get install fonts-noto-cjk` (Debian, Ubuntu, Colab) "
    "and restart the kernel"
)
_warned = False


def find_cjk_font() -> str | None:
    """The family name of the first installed font of :data:`CJK_FONTS`, or None."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _cjk_font_or_warn() -> str | None:
    global _warned
    font = find_cjk_font()
    if font is None and not _warned:
        _warned = True
        warnings.warn(INSTALL_CJK_FONT, UserWarning, stacklevel=3)
    return font


class _BookFigure(Figure):
    """A figure that gives every text it draws a CJK font to fall back on.

    Titles, labels and legends are usually added after :func:`figure`
    returns, so the font is set on the figure's own text objects each time
    it is drawn (before its layout is computed), never in ``rcParams``:
    Latin text keeps the default font, Chinese characters come from the CJK
    font.
    """

    cjk_font: str | None = None

    def __repr__(self) -> str:
        # Shown as matplotlib's own figure: the class is a detail of the font fallback.
        return super().__repr__().replace(type(self).__name__, "Figure", 1)

    def draw(self, renderer: RendererBase) -> None:
        if self.cjk_font is not None:
            _add_fallback_font(self, self.cjk_font)
        super().draw(renderer)


def _add_fallback_font(fig: Figure, font: str) -> None:
    for text in fig.findobj(Text):
        families = list(text.get_fontfamily())
        if font not in families:
            # Text with $math$ draws its plain parts in one font, the first
            # found: there the CJK font comes first (it has Latin letters too).
            math = is_math_text(text.get_text())
            text.set_fontfamily([font, *families] if math else [*families, font])
    for ax in fig.axes:
        if getattr(ax, "_cjk_font", None) != font:
            # Tick labels are made while drawing: give the ones to come the font.
            ax.tick_params(which="both", labelfontfamily=[*_default_families(), font])
            ax._cjk_font = font  # type: ignore[attr-defined]


def _default_families() -> list[str]:
    return list(Text().get_fontfamily())


def figure(
    ncols: int = 1,
    *,
    nrows: int = 1,
    width: float = 6.4,
    height: float = 3.4,
    **kwargs: Any,
) -> tuple[Figure, Any]:
    """A figure with ``nrows`` x ``ncols`` axes in the book's style.

    For pages read on a phone, stack panels (``nrows``) rather than placing
    them side by side: a narrow figure is scaled down less.

    The style is applied to the figure's own objects rather than through
    ``rcParams``, so it never leaks into (or out of) a reader's session.
    Under ``use_language("zh")`` the figure's text falls back to a CJK font
    (:func:`find_cjk_font`); where none is installed, a :class:`UserWarning`
    (once per session) says how to install one, and the figure is drawn anyway.

    Returns:
        ``(fig, axes)``; ``axes`` is one :class:`~matplotlib.axes.Axes` when
        there is one panel, else an array of them.
    """
    cjk_font = _cjk_font_or_warn() if current_language() == "zh" else None
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(width, height),
        layout="constrained",
        FigureClass=_BookFigure,
        **kwargs,
    )
    fig.cjk_font = cjk_font
    fig.set_facecolor(_BACKGROUND)
    fig.patch.set_alpha(1.0)
    for ax in fig.axes:
        ax.set_facecolor(_BACKGROUND)
        ax.grid(True, color=_GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
    return fig, axes


def label(ax: Axes, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title, loc="left", fontsize=10, fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
