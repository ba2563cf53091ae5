"""An independent float64 reference: explicit expansion and boolean indexing.

Deliberately written the slow, obvious way (the way the package must *not*
be written) so that it shares no code with ``masked_loss``.
"""

from __future__ import annotations

import math

import torch


def pointwise(kind: str, diff: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    if kind == "values":  # masked_mean / masked_sum of input - target
        return diff
    if kind == "mse":
        return diff**2
    if kind == "l1":
        return diff.abs()
    return torch.nn.functional.huber_loss(
        diff, torch.zeros_like(diff), reduction="none", delta=delta
    )


def reference_loss(
    kind: str,
    input: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    reduction: str = "mean",
    *,
    weight: torch.Tensor | None = None,
    dim: tuple[int, ...] | None = None,
    empty: str = "zero",
    average: str = "element",
    delta: float = 1.0,
) -> torch.Tensor:
    x, y = input.double(), target.double()
    m = mask.bool().expand(x.shape)
    w = torch.ones_like(x) if weight is None else weight.double().expand(x.shape)
    elementwise = torch.zeros_like(x).masked_scatter(m, pointwise(kind, x[m] - y[m], delta) * w[m])
    if reduction == "none":
        return elementwise
    empty_value = 0.0 if empty == "zero" else math.nan

    def reduce(values: torch.Tensor, valid: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        total = values[valid].sum()
        if reduction == "sum":
            return total
        count = weights[valid].sum()
        # An empty sum stays connected to the graph, so the gradient is defined (0).
        return total / count if count.item() != 0 else total * 0 + empty_value

    if average == "sample":
        means = [reduce(elementwise[i], m[i], w[i]) for i in range(x.shape[0])]
        if reduction == "sum":
            return torch.stack(means).sum()
        nonempty = [mean for i, mean in enumerate(means) if w[i][m[i]].sum().item() > 0]
        if not nonempty:
            return elementwise.sum() * 0 + empty_value
        return torch.stack(nonempty).mean()
    if dim is None:
        return reduce(elementwise, m, w)
    kept = [d for d in range(x.dim()) if d not in dim]
    order = kept + list(dim)
    kept_shape = [x.shape[d] for d in kept]
    rows = elementwise.permute(order).reshape(math.prod(kept_shape), -1)
    valid = m.permute(order).reshape(len(rows), -1)
    weights = w.permute(order).reshape(len(rows), -1)
    out = [reduce(r, v, ww) for r, v, ww in zip(rows, valid, weights, strict=True)]
    return torch.stack(out).reshape(kept_shape)
