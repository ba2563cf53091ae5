"""Small helpers the book's notebooks share (device choice, glue, toy data).

Nothing here computes a loss: formulas live in :mod:`masked_loss.losses` and
:mod:`masked_loss.reductions`.
"""

from __future__ import annotations

from typing import Any

import torch


def default_device() -> torch.device:
    """CUDA when present, else the CPU: every notebook runs unchanged on either."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def glue(name: str, value: Any) -> None:
    """Store ``value`` for the book's prose (myst-nb ``{glue}``); a no-op without myst-nb.

    On Colab myst-nb is not installed and the prose numbers are already on
    the site, so nothing is lost.
    """
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    if isinstance(value, torch.Tensor):
        value = value.item()
    myst_glue(name, value, display=False)


def padded_regression_data(
    n_sequences: int,
    max_length: int,
    features: int,
    *,
    min_length: int = 1,
    noise: float = 0.1,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Variable-length sequences padded to ``max_length``: a per-step linear target.

    Returns:
        ``(x, y, mask, true_weight)`` with ``x`` of shape ``(n, T, features)``,
        ``y`` of shape ``(n, T, 1)``, a bool ``mask`` of shape ``(n, T, 1)``
        and the weight vector that generated ``y``. Padding in ``x`` and ``y``
        holds zeros.
    """
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(min_length, max_length + 1, (n_sequences,), generator=generator)
    mask = (torch.arange(max_length) < lengths[:, None]).unsqueeze(-1)
    true_weight = torch.randn(features, 1, generator=generator)
    x = torch.randn(n_sequences, max_length, features, generator=generator) * mask
    y = (
        x @ true_weight + noise * torch.randn(n_sequences, max_length, 1, generator=generator)
    ) * mask
    return x, y, mask, true_weight
