"""An interactive mask explorer: click cells to mask them, compare naive and correct.

The numbers are computed by the widget's JavaScript (``static/explorer.js``),
so the explorer also works on the static site, where no Python kernel runs.
:meth:`MaskExplorer.results` computes the same numbers with this package; a
test checks the two agree. Its labels are English or Chinese: the
``language`` trait, part of the widget's state, so that the static page shows
the language the notebook ran in.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from typing import Any

import anywidget
import torch
import traitlets

from masked_loss.losses import masked_mse_loss, naive_masked_mse_loss
from masked_loss.teaching import _widget_language

_STATIC = pathlib.Path(__file__).parent / "static"

#: The tutorial's example: predictions, targets and mask.
TUTORIAL_EXAMPLE = (
    [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
    [[2.0, 3.0, 4.0], [3.0, 4.0, 5.0]],
    [[1, 0, 1], [0, 1, 1]],
)


def random_example(
    shape: tuple[int, int], seed: int
) -> tuple[list[list[float]], list[list[float]], list[list[int]]]:
    """Seeded predictions and targets with one decimal, and a random 0/1 mask."""
    generator = torch.Generator().manual_seed(seed)
    predictions = torch.randint(-30, 31, shape, generator=generator) / 10
    targets = torch.randint(-30, 31, shape, generator=generator) / 10
    mask = torch.randint(0, 2, shape, generator=generator)
    return predictions.tolist(), targets.tolist(), mask.tolist()


#: The explorer's example on the site: the tutorial's predictions and mask, with
#: targets that make every squared error different, so the correct mean moves
#: with *which* cells are valid, not only with how many.
UNEQUAL_EXAMPLE = (
    [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
    [[2.0, 2.5, 5.0], [3.0, 4.0, 3.0]],
    [[1, 0, 1], [0, 1, 1]],
)


class MaskExplorer(anywidget.AnyWidget):
    """A grid of predictions and targets whose mask the reader toggles by clicking.

    Args:
        predictions, targets: 2-D nested lists of numbers (default: the
            tutorial's 2x3 example).
        mask: 2-D nested list of 0/1 (default: the tutorial's mask).
        shape, seed: instead of explicit data, a seeded random example.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        language: ``"en"`` or ``"zh"``, the labels' language; ``"auto"``
            follows the page the explorer is shown on. Default: ``"zh"``
            under ``use_language("zh")``, else ``"auto"``.
    """

    _esm = _STATIC / "explorer.js"
    _css = _STATIC / "explorer.css"

    predictions = traitlets.List().tag(sync=True)
    targets = traitlets.List().tag(sync=True)
    mask = traitlets.List().tag(sync=True)
    reduction = traitlets.Unicode("mean").tag(sync=True)
    language = traitlets.Unicode("auto").tag(sync=True)

    def __init__(
        self,
        predictions: Sequence[Sequence[float]] | None = None,
        targets: Sequence[Sequence[float]] | None = None,
        mask: Sequence[Sequence[int]] | None = None,
        *,
        shape: tuple[int, int] | None = None,
        seed: int = 0,
        reduction: str = "mean",
        language: str | None = None,
        **kwargs: Any,
    ) -> None:
        language = _widget_language(language)
        if shape is not None:
            predictions, targets, mask = random_example(shape, seed)
        default_p, default_t, default_m = TUTORIAL_EXAMPLE
        super().__init__(
            predictions=[list(r) for r in (predictions or default_p)],
            targets=[list(r) for r in (targets or default_t)],
            mask=[[int(v) for v in r] for r in (mask or default_m)],
            reduction=reduction,
            language=language,
            **kwargs,
        )

    def __repr__(self) -> str:
        rows, cols = len(self.predictions), len(self.predictions[0])
        shown = f", language={self.language!r}" if self.language == "zh" else ""
        return f"MaskExplorer({rows}x{cols}, reduction={self.reduction!r}{shown})"

    def results(self) -> dict[str, Any]:
        """The numbers the widget shows, computed with :mod:`masked_loss`."""
        p = torch.tensor(self.predictions, dtype=torch.float32)
        t = torch.tensor(self.targets, dtype=torch.float32)
        m = torch.tensor(self.mask, dtype=torch.bool)
        naive = naive_masked_mse_loss(p, t, m, self.reduction)
        correct = masked_mse_loss(p, t, m, self.reduction)
        return {
            "naive": naive.tolist(),
            "correct": correct.tolist(),
            "k": int(m.sum()),
            "n": m.numel(),
        }
