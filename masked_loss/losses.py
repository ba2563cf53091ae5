"""Masked regression losses (MSE, L1, Huber) and the naive pattern they replace.

Each loss is "a pointwise function of the masked difference, then a masked
reduction". The difference is selected with ``torch.where`` before any
arithmetic, so NaN/inf in padding never reaches the loss or the gradient.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from masked_loss._checks import (
    REDUCTIONS,
    Average,
    EmptyPolicy,
    Reduction,
    assert_valid_values,
    check_choice,
    check_input_target,
    check_mask,
    check_same_device,
    check_weight,
)
from masked_loss.reductions import (
    Dim,
    accumulation_dtype,
    as_bool_mask,
    as_dtype,
    check_reduction_options,
    finish_reduction,
    masked_weight,
    sum_as_if_expanded,
)


def _pointwise(kind: str, diff: torch.Tensor, delta: float) -> torch.Tensor:
    if kind == "squared":
        return diff * diff
    if kind == "absolute":
        return diff.abs()
    abs_diff = diff.abs()
    return torch.where(abs_diff < delta, 0.5 * diff * diff, delta * (abs_diff - 0.5 * delta))


def _pointwise_derivative(
    kind: str, diff: torch.Tensor, delta: float, scale: torch.Tensor
) -> torch.Tensor:
    """``f'(diff) * scale``; ``scale`` is small (the reduced shape), so fold it in first."""
    if kind == "squared":
        return diff * (2 * scale)
    if kind == "absolute":
        return diff.sign() * scale
    return diff.clamp(-delta, delta) * scale


def _masked_difference(
    input: torch.Tensor, target: torch.Tensor, bool_mask: torch.Tensor, acc: torch.dtype
) -> torch.Tensor:
    # torch.where *selects*: unlike multiplying by the mask, a NaN in the
    # padding is dropped in the forward pass and gets a 0 gradient.
    return torch.where(bool_mask, as_dtype(input, acc) - as_dtype(target, acc), 0)


_SAME_WIDTH_INT = {
    torch.float64: torch.int64,
    torch.float32: torch.int32,
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
}


def _zero_masked_in_place(values: torch.Tensor, bool_mask: torch.Tensor) -> torch.Tensor:
    """Set masked entries of ``values`` to +0.0; NaN-safe, outside autograd.

    Same result as ``torch.where(mask, values, 0)``. On the CPU, ``torch.where``
    with a bool condition is several times slower than one multiplication,
    while a bitwise AND with an all-ones/all-zeros word is just as fast, so
    there the masked bits are cleared instead. (Multiplying by the mask would
    be as fast but keeps NaN: ``nan * 0`` is ``nan``.) On a GPU both are
    memory-bound and ``torch.where`` is one kernel.
    """
    if values.device.type != "cpu":
        return torch.where(bool_mask, values, 0)
    int_dtype = _SAME_WIDTH_INT[values.dtype]
    keep_bits = bool_mask.to(int_dtype).neg_()  # -1 is all ones in two's complement
    values.view(int_dtype).bitwise_and_(keep_bits)
    return values


class _MaskedPointwiseSum(torch.autograd.Function):
    """Forward and backward of ``sum(w * f(masked input - target))`` in one pass each.

    Saving only the masked difference (instead of letting autograd record
    ``sub``, ``where``, ``mul`` and ``sum``) makes the correct loss as cheap as
    the naive one. Gradients flow to ``input`` and ``target``; a weight that
    requires grad takes the plain autograd path instead.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        input: torch.Tensor,
        target: torch.Tensor,
        bool_mask: torch.Tensor,
        weight: torch.Tensor | None,
        dims: tuple[int, ...],
        kind: str,
        delta: float,
    ) -> torch.Tensor:
        acc = accumulation_dtype(input.dtype)
        diff = _zero_masked_in_place(as_dtype(input, acc) - as_dtype(target, acc), bool_mask)
        ctx.save_for_backward(diff, weight)
        ctx.kind, ctx.delta = kind, delta
        ctx.input_dtype, ctx.target_dtype = input.dtype, target.dtype
        if kind == "squared" and len(dims) == diff.dim() > 0:
            # A dot product reads diff once and needs no temporary.
            flat = diff.reshape(-1)
            weighted = flat if weight is None else (diff * weight).reshape(-1)
            return torch.dot(weighted, flat).reshape((1,) * diff.dim())
        loss = _pointwise(kind, diff, delta)
        if weight is not None:
            loss = loss * weight
        return loss.sum(dims, keepdim=True) if dims else loss

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_total: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # type: ignore[override]
        diff, weight = ctx.saved_tensors
        grad = _pointwise_derivative(ctx.kind, diff, ctx.delta, grad_total)
        if weight is not None:
            grad = grad * weight
        grad_input = as_dtype(grad, ctx.input_dtype) if ctx.needs_input_grad[0] else None
        grad_target = as_dtype(-grad, ctx.target_dtype) if ctx.needs_input_grad[1] else None
        return grad_input, grad_target, None, None, None, None, None


def _masked_pointwise_loss(
    kind: str,
    input: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    reduction: Reduction,
    *,
    weight: torch.Tensor | None,
    dim: Dim,
    keepdim: bool,
    count: torch.Tensor | float | None,
    empty: EmptyPolicy,
    average: Average,
    check_values: bool,
    delta: float = 1.0,
) -> torch.Tensor:
    check_input_target(input, target)
    check_choice("reduction", reduction, REDUCTIONS)
    check_mask(mask, input.shape)
    if weight is not None:
        check_weight(weight, input.shape)
    check_same_device(input=input, target=target, mask=mask, weight=weight)
    dims = check_reduction_options(input.shape, dim, count=count, empty=empty, average=average)
    if check_values:
        assert_valid_values(mask, weight)

    out_dtype = torch.promote_types(input.dtype, target.dtype)
    acc = accumulation_dtype(out_dtype)
    input, target = as_dtype(input, out_dtype), as_dtype(target, out_dtype)
    bool_mask = as_bool_mask(mask)
    w = masked_weight(bool_mask, weight, acc)

    if reduction == "none":
        loss = _pointwise(kind, _masked_difference(input, target, bool_mask, acc), delta)
        return as_dtype(loss if w is None else loss * w, out_dtype)

    if w is not None and w.requires_grad:
        diff = _masked_difference(input, target, bool_mask, acc)
        loss = _pointwise(kind, diff, delta) * w
        total = loss.sum(dims, keepdim=True) if dims else loss
    else:
        total = _MaskedPointwiseSum.apply(input, target, bool_mask, w, dims, kind, delta)
    valid = sum_as_if_expanded(bool_mask if w is None else w, input.shape, dims)
    return finish_reduction(
        total,
        valid,
        input.shape,
        dims,
        reduction=reduction,
        keepdim=keepdim,
        count=count,
        empty=empty,
        average=average,
        out_dtype=out_dtype,
    )


_COMMON_ARGS = r"""
    Args:
        input: predictions, a floating-point tensor of any shape.
        target: targets, the same shape as ``input`` (no broadcasting; a
            mismatch is an error, where ``F.mse_loss`` only warns).
        mask: bool or 0/1 integer tensor broadcastable to ``input`` without
            enlarging it; ``True``/1 marks an element that counts. A
            ``(B, T, 1)`` mask over ``(B, T, D)`` counts ``D`` per valid step.
        reduction: ``'mean'`` (sum over valid elements / their number),
            ``'sum'`` (sum over valid elements) or ``'none'`` (element-wise,
            exactly 0 where masked).
        weight: optional non-negative float tensor broadcastable to ``input``;
            the mean becomes :math:`\sum w m \ell / \sum w m`.
        dim: dimension(s) to reduce; ``None`` reduces all. With ``dim`` the
            result holds one loss per remaining index (e.g. per sequence).
        keepdim: keep reduced dimensions with size 1.
        count: for ``'mean'``, divide the masked sum by this instead of the
            local count: the global number of valid elements across
            micro-batches or data-parallel ranks.
        empty: result where nothing is valid: ``'zero'`` (default; value and
            gradient exactly 0) or ``'nan'`` (PyTorch's empty-mean convention).
        average: ``'element'`` (default; every valid element weighs the same,
            a token mean) or ``'sample'`` (mean of per-sample means along
            dimension 0, over samples with any valid element).
        check_values: also assert, without a host sync, that ``mask`` holds
            only 0/1 and ``weight`` is non-negative. Off by default.

    Returns:
        The loss in the dtype of ``input`` and ``target`` (accumulated in at
        least float32): a scalar by default, the reduced shape with ``dim``,
        ``input``'s shape for ``'none'``.
"""


def masked_mse_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    reduction: Reduction = "mean",
    *,
    weight: torch.Tensor | None = None,
    dim: Dim = None,
    keepdim: bool = False,
    count: torch.Tensor | float | None = None,
    empty: EmptyPolicy = "zero",
    average: Average = "element",
    check_values: bool = False,
) -> torch.Tensor:
    return _masked_pointwise_loss(
        "squared", input, target, mask, reduction, weight=weight, dim=dim, keepdim=keepdim,
        count=count, empty=empty, average=average, check_values=check_values,
    )  # fmt: skip


masked_mse_loss.__doc__ = (
    r"""Mean squared error over the valid elements only.

    .. math::
        \ell = \frac{\sum_i m_i \, w_i \, (x_i - y_i)^2}{\sum_i m_i \, w_i}

    where :math:`m` is the mask (and :math:`w` the optional weight) broadcast
    to the input. Masked-out elements leave both the numerator and the
    denominator, unlike the naive ``F.mse_loss(x * m, y * m)``.
"""
    + _COMMON_ARGS
    + r"""
    Example:
        >>> x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> y = torch.tensor([[2.0, 3.0, 4.0], [3.0, 4.0, 5.0]])
        >>> m = torch.tensor([[1, 0, 1], [0, 1, 1]])
        >>> masked_mse_loss(x, y, m)
        tensor(1.)
        >>> naive_masked_mse_loss(x, y, m)  # counts the 2 masked zeros: 4/6
        tensor(0.6667)
    """
)


def masked_l1_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    reduction: Reduction = "mean",
    *,
    weight: torch.Tensor | None = None,
    dim: Dim = None,
    keepdim: bool = False,
    count: torch.Tensor | float | None = None,
    empty: EmptyPolicy = "zero",
    average: Average = "element",
    check_values: bool = False,
) -> torch.Tensor:
    return _masked_pointwise_loss(
        "absolute", input, target, mask, reduction, weight=weight, dim=dim, keepdim=keepdim,
        count=count, empty=empty, average=average, check_values=check_values,
    )  # fmt: skip


masked_l1_loss.__doc__ = (
    r"""Mean absolute error over the valid elements only.

    .. math::
        \ell = \frac{\sum_i m_i \, w_i \, |x_i - y_i|}{\sum_i m_i \, w_i}
"""
    + _COMMON_ARGS
    + r"""
    Example:
        >>> x = torch.tensor([0.0, 2.0, 5.0])
        >>> masked_l1_loss(x, torch.zeros(3), torch.tensor([True, True, False]))
        tensor(1.)
    """
)


def masked_huber_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    reduction: Reduction = "mean",
    *,
    delta: float = 1.0,
    weight: torch.Tensor | None = None,
    dim: Dim = None,
    keepdim: bool = False,
    count: torch.Tensor | float | None = None,
    empty: EmptyPolicy = "zero",
    average: Average = "element",
    check_values: bool = False,
) -> torch.Tensor:
    if not delta > 0:
        raise ValueError(f"delta must be positive, got {delta}")
    return _masked_pointwise_loss(
        "huber", input, target, mask, reduction, weight=weight, dim=dim, keepdim=keepdim,
        count=count, empty=empty, average=average, check_values=check_values, delta=delta,
    )  # fmt: skip


masked_huber_loss.__doc__ = (
    r"""Huber loss over the valid elements only (as ``F.huber_loss``, masked).

    .. math::
        h(d) = \begin{cases} \tfrac12 d^2 & |d| < \delta \\
               \delta\,(|d| - \tfrac12\delta) & \text{otherwise} \end{cases}
        \qquad
        \ell = \frac{\sum_i m_i \, w_i \, h(x_i - y_i)}{\sum_i m_i \, w_i}

    ``delta`` (keyword-only, default 1.0, must be positive) is where the
    loss turns from quadratic to linear.
"""
    + _COMMON_ARGS
    + r"""
    Example:
        >>> x = torch.tensor([0.5, 3.0, 9.0])
        >>> masked_huber_loss(x, torch.zeros(3), torch.tensor([1, 1, 0]))
        tensor(1.3125)
    """
)


def naive_masked_mse_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""The widely copied, **wrong** masked MSE: ``F.mse_loss(input * mask, target * mask)``.

    Kept for teaching and benchmarking; do not train with it. Zeroing both
    sides makes the masked elements contribute 0 to the sum, but ``'mean'``
    still divides by all :math:`N` elements rather than the :math:`k` valid
    ones, so

    .. math::
        \ell_\text{naive} = \frac{k}{N}\,\ell_\text{correct},

    and the gradient shrinks by the same factor :math:`k/N`, which changes
    from batch to batch with the amount of padding. ``'none'`` still returns
    exact zeros where masked and ``'sum'`` is right, but a NaN or inf in the
    padding poisons every reduction (``nan * 0 = nan``), gradients included.

    Args:
        input: predictions.
        target: targets.
        mask: 0/1 or bool tensor broadcastable to ``input``.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``, passed to ``F.mse_loss``.

    Returns:
        Whatever ``F.mse_loss`` returns for the zeroed tensors.

    Example:
        >>> x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> y = torch.tensor([[2.0, 3.0, 4.0], [3.0, 4.0, 5.0]])
        >>> naive_masked_mse_loss(x, y, torch.tensor([[1, 0, 1], [0, 1, 1]]))
        tensor(0.6667)
    """
    return F.mse_loss(input * mask, target * mask, reduction=reduction)


class _MaskedLoss(nn.Module):
    """Stores the options; ``forward`` calls the functional form."""

    def __init__(
        self,
        reduction: Reduction = "mean",
        *,
        empty: EmptyPolicy = "zero",
        average: Average = "element",
        dim: Dim = None,
        keepdim: bool = False,
        check_values: bool = False,
    ) -> None:
        super().__init__()
        check_choice("reduction", reduction, REDUCTIONS)
        self.reduction = reduction
        self.empty = empty
        self.average = average
        self.dim = dim
        self.keepdim = keepdim
        self.check_values = check_values

    def _options(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "keepdim": self.keepdim,
            "empty": self.empty,
            "average": self.average,
            "check_values": self.check_values,
        }

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, empty={self.empty!r}, average={self.average!r}"


class MaskedMSELoss(_MaskedLoss):
    """Module form of :func:`masked_mse_loss`; options are fixed at construction.

    ``forward(input, target, mask, *, weight=None, count=None)`` equals
    ``masked_mse_loss(input, target, mask, reduction, weight=weight,
    count=count, **options)``.

    Example:
        >>> loss_fn = MaskedMSELoss()
        >>> loss_fn(torch.tensor([1.0, 5.0]), torch.tensor([0.0, 0.0]), torch.tensor([1, 0]))
        tensor(1.)
    """

    def forward(
        self,
        input: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        *,
        weight: torch.Tensor | None = None,
        count: torch.Tensor | float | None = None,
    ) -> torch.Tensor:
        return masked_mse_loss(
            input, target, mask, self.reduction, weight=weight, count=count, **self._options()
        )


class MaskedL1Loss(_MaskedLoss):
    """Module form of :func:`masked_l1_loss` (same arguments as :class:`MaskedMSELoss`)."""

    def forward(
        self,
        input: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        *,
        weight: torch.Tensor | None = None,
        count: torch.Tensor | float | None = None,
    ) -> torch.Tensor:
        return masked_l1_loss(
            input, target, mask, self.reduction, weight=weight, count=count, **self._options()
        )


class MaskedHuberLoss(_MaskedLoss):
    """Module form of :func:`masked_huber_loss`; ``delta`` is set at construction."""

    def __init__(
        self, reduction: Reduction = "mean", *, delta: float = 1.0, **options: Any
    ) -> None:
        super().__init__(reduction, **options)
        self.delta = delta

    def forward(
        self,
        input: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        *,
        weight: torch.Tensor | None = None,
        count: torch.Tensor | float | None = None,
    ) -> torch.Tensor:
        return masked_huber_loss(
            input, target, mask, self.reduction, delta=self.delta, weight=weight, count=count,
            **self._options(),
        )  # fmt: skip
