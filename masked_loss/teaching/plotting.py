"""One small plotting helper, so every figure in the book looks alike.

Figures get an opaque white background: they stay legible when the site is
shown in its dark theme. Needs matplotlib (``pip install masked_loss[book]``).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: One colour per formulation, used in every chapter.
COLORS = {
    "naive": "#c0392b",
    "correct": "#1f5fa8",
    "reference": "#555555",
    "other": "#2e8b57",
}

_BACKGROUND = "white"
_GRID = "#dddddd"


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

    Returns:
        ``(fig, axes)``; ``axes`` is one :class:`~matplotlib.axes.Axes` when
        there is one panel, else an array of them.
    """
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), layout="constrained", **kwargs)
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
