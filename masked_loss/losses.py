"""Masked regression losses (MSE, L1, Huber) and the naive pattern they replace.

Each loss is "select the valid differences, apply a pointwise function, then
reduce", on the core of :mod:`masked_loss.reductions`: the difference is
selected with ``torch.where`` (:func:`~masked_loss.select_valid`) before any
arithmetic, so NaN/inf in padding never reaches the loss or the gradient, and
the sum, count and division are the ones :func:`~masked_loss.masked_mean`
uses. Every step is an ordinary differentiable PyTorch operation, on every
device and under every transform, so the losses have exact second
derivatives and the same values under ``torch.func``, forward-mode AD,
``torch.jit.trace``, ``torch.export`` and ``torch.compile``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from masked_loss._checks import (
    Average,
    EmptyPolicy,
    Reduction,
    check_input_target,
    check_options,
    is_real_number,
)
from masked_loss.reductions import (
    Dim,
    accumulation_dtype,
    as_bool_mask,
    as_dtype,
    check_masked_arguments,
    compute_dtype,
    finish_reduction,
    reduce_selected,
)


def pointwise_loss(kind: str, diff: torch.Tensor, delta: float) -> torch.Tensor:
    """The loss of each difference, element by element; 0 at 0, so selected zeros stay 0.

    Each is one PyTorch loss kernel whose backward has its own derivatives
    (double backward and forward-mode AD over it). Huber is written as
    ``delta * smooth_l1_loss(diff, beta=delta)``: ``F.huber_loss``'s backward
    has no forward-mode derivative in PyTorch, ``smooth_l1_loss``'s has, and
    the two losses are equal up to that factor (one rounding apart).
    """
    if kind == "absolute":
        return diff.abs()
    zero = diff.new_zeros(()).expand_as(diff)
    if kind == "squared":
        return F.mse_loss(diff, zero, reduction="none")
    loss = F.smooth_l1_loss(diff, zero, reduction="none", beta=delta)
    return loss if delta == 1.0 else loss * delta


def pointwise_loss_sum(kind: str, diff: torch.Tensor, delta: float) -> torch.Tensor:
    """:math:`\\sum_i f(d_i)`, accumulated and returned in at least float32."""
    acc = accumulation_dtype(diff.dtype)
    if kind == "squared" and diff.dtype == acc:
        # One kernel forward and backward, summed with PyTorch's pairwise reduction.
        return F.mse_loss(diff, diff.new_zeros(()).expand_as(diff), reduction="sum")
    return pointwise_loss(kind, diff, delta).sum(dtype=acc)


def check_delta(delta: float) -> None:
    if not is_real_number(delta):
        raise TypeError(f"delta must be a number, got {type(delta).__name__}")
    if not 0 < delta < float("inf"):
        raise ValueError(f"delta must be positive and finite, got {delta}")


def check_loss_arguments(
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
) -> tuple[int, ...]:
    """Every argument check of a loss call; returns the dimensions it reduces."""
    check_input_target(input, target)
    return check_masked_arguments(input.shape, mask, reduction, weight=weight, dim=dim,
                                  keepdim=keepdim, count=count, empty=empty, average=average,
                                  check_values=check_values, input=input,
                                  target=target)  # fmt: skip


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
    dims = check_loss_arguments(input, target, mask, reduction, weight=weight, dim=dim,
                                keepdim=keepdim, count=count, empty=empty, average=average,
                                check_values=check_values)  # fmt: skip
    out_dtype = input.dtype
    for other in (target, weight):
        if other is not None and other.dtype != out_dtype:
            out_dtype = torch.promote_types(out_dtype, other.dtype)
    work = compute_dtype(out_dtype)
    bool_mask = as_bool_mask(mask)
    diff = torch.where(bool_mask, as_dtype(input, work) - as_dtype(target, work), 0)
    summed_whole = dims and len(dims) == input.dim() and reduction != "none"
    if summed_whole and weight is None and average == "element":
        # One total, then the count and the division: fewer operations.
        total = pointwise_loss_sum(kind, diff, delta)
        return finish_reduction(total, bool_mask, input.shape, dims=dims, reduction=reduction,
                                keepdim=keepdim, count=count, empty=empty, average=average,
                                out_dtype=out_dtype)  # fmt: skip
    return reduce_selected(pointwise_loss(kind, diff, delta), bool_mask, weight=weight,
                           dims=dims, reduction=reduction, keepdim=keepdim, count=count,
                           empty=empty, average=average, out_dtype=out_dtype)  # fmt: skip


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
            the mean becomes :math:`\sum w m \ell / \sum w m`. Weights at
            masked positions are never read (NaN there is harmless); a float64
            weight promotes the result, as in ``F.mse_loss(weight=)``.
        dim: dimension(s) to reduce; ``None`` reduces all. With ``dim`` the
            result holds one loss per remaining index (e.g. per sequence).
            ``'mean'`` and ``'sum'`` only.
        keepdim: keep reduced dimensions with size 1 (``'mean'``/``'sum'``,
            not with ``average='sample'``).
        count: ``'mean'`` only: divide the masked sum by this instead of the
            local count, e.g. the global number of valid elements across
            micro-batches or data-parallel ranks. A non-negative number, or a
            tensor that broadcasts to the result (one count per row with
            ``dim``, as :func:`~masked_loss.count_valid` returns it). Where
            it is 0, ``empty`` applies.
        empty: ``'mean'`` only: the result where nothing is valid, ``'zero'``
            (default; value and gradient exactly 0) or ``'nan'`` (PyTorch's
            empty-mean convention).
        average: ``'mean'`` only: ``'element'`` (default; every valid element
            weighs the same, a token mean) or ``'sample'`` (mean of
            per-sample means along dimension 0, over samples with any valid
            element; takes no ``dim``, ``keepdim`` or ``count``).
        check_values: also assert, without a host sync, that ``mask`` holds
            only 0/1, ``weight`` is finite and non-negative at valid
            positions, and a tensor ``count`` is non-negative. Off by default.

    Returns:
        The loss in the promoted dtype of ``input``, ``target`` and ``weight``
        (accumulated in at least float32): a scalar by default, the reduced
        shape with ``dim``, ``input``'s shape for ``'none'``.

    Raises:
        ValueError: for shapes that do not broadcast, an unknown option value,
            or an option that does not apply to the chosen ``reduction``
            (e.g. ``count`` with ``'sum'``), which would otherwise be ignored.
        TypeError: for non-float ``input``/``target``/``weight`` or a float
            ``mask``.

    Every derivative is exact: ``gradgradcheck``, ``torch.func`` (``grad``,
    ``vmap``, ``jacrev``, ``jvp``), forward-mode AD, ``torch.jit.trace``,
    ``torch.export`` and ``torch.compile(fullgraph=True)`` are tested.
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
    check_delta(delta)
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
    r"""The **wrong** masked MSE the book corrects: ``F.mse_loss(input * mask, target * mask)``.

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


class MaskedLossModule(nn.Module):
    """The modules' base: stores the options, validated at construction; ``forward`` calls
    the functional form with them (:meth:`_options`). Shared by every loss module.
    """

    _DEFAULTS: dict[str, Any] = {
        "reduction": "mean",
        "dim": None,
        "keepdim": False,
        "empty": "zero",
        "average": "element",
        "check_values": False,
    }

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
        check_options(reduction, dim=dim, keepdim=keepdim, count=None, empty=empty,
                      average=average, check_values=check_values)  # fmt: skip
        self.reduction = reduction
        self.empty = empty
        self.average = average
        self.dim = dim
        self.keepdim = keepdim
        self.check_values = check_values

    def _options(self) -> dict[str, Any]:
        return {
            "reduction": self.reduction,
            "dim": self.dim,
            "keepdim": self.keepdim,
            "empty": self.empty,
            "average": self.average,
            "check_values": self.check_values,
        }

    def extra_repr(self) -> str:
        """The options that differ from their defaults, as ``nn.MSELoss`` shows none."""
        return ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name, default in self._DEFAULTS.items()
            if getattr(self, name) != default
        )


class MaskedMSELoss(MaskedLossModule):
    """Module form of :func:`masked_mse_loss`; options are fixed at construction.

    ``forward(input, target, mask, *, weight=None, count=None)`` equals
    ``masked_mse_loss(input, target, mask, reduction, weight=weight,
    count=count, **options)``.

    Example:
        >>> loss_fn = MaskedMSELoss()
        >>> prediction, target = torch.tensor([1.0, 5.0]), torch.tensor([0.0, 0.0])
        >>> loss_fn(prediction, target, torch.tensor([1, 0]))
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
        return masked_mse_loss(input, target, mask, weight=weight, count=count, **self._options())


class MaskedL1Loss(MaskedLossModule):
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
        return masked_l1_loss(input, target, mask, weight=weight, count=count, **self._options())


class MaskedHuberLoss(MaskedLossModule):
    """Module form of :func:`masked_huber_loss`; ``delta`` is set at construction."""

    _DEFAULTS = {**MaskedLossModule._DEFAULTS, "delta": 1.0}

    def __init__(
        self, reduction: Reduction = "mean", *, delta: float = 1.0, **options: Any
    ) -> None:
        super().__init__(reduction, **options)
        check_delta(delta)
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
            input, target, mask, delta=self.delta, weight=weight, count=count,
            **self._options(),
        )  # fmt: skip
