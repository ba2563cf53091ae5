"""The correct masked MSE in three lines, for readers who prefer to write it themselves.

The book shows this function's source and checks it against
:func:`masked_loss.masked_mse_loss`; the benchmark times it as the plain
``torch.where`` formulation.
"""

from __future__ import annotations

import torch


def masked_mse_in_three_lines(
    input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Masked mean squared error; ``mask`` is bool and broadcastable to ``input``.

    Example:
        >>> x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> y = torch.tensor([[2.0, 3.0, 4.0], [3.0, 4.0, 5.0]])
        >>> masked_mse_in_three_lines(x, y, torch.tensor([[1, 0, 1], [0, 1, 1]]).bool())
        tensor(1.)
    """
    diff = torch.where(mask, input - target, 0.0)  # select, so NaN padding stays out
    count = mask.expand_as(diff).sum()  # count after broadcasting
    return (diff * diff).sum() / count.clamp(min=1)  # nothing valid -> 0, not NaN
