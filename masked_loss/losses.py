"""Masked regression losses (MSE, L1, Huber) and the naive pattern they replace.

Each loss is "select the valid differences, apply a pointwise function, then
reduce", on the core of :mod:`masked_loss.reductions`: the difference is
selected with :func:`~masked_loss.select_valid` before any
arithmetic, so NaN/inf in padding never reaches the loss or the gradient, and
the sum, count and division are the ones :func:`~masked_loss.masked_mean`
uses. Every step is a differentiable PyTorch operation, so the losses have
correct second derivatives and work under ``torch.func``, forward-mode AD,
``torch.jit.trace``, ``torch.export`` and ``torch.compile``. On plain CPU
tensors a loss reduced over every dimension with ``average='element'`` runs
:class:`_FusedMaskedLoss` instead: the same sum in place, with the same
derivatives up to rounding.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F
from torch import nn

from masked_loss._checks import (
    Average,
    EmptyPolicy,
    Reduction,
    assert_valid_values,
    check_input_target,
    check_mask,
    check_options,
    check_same_device,
    check_weight,
)
from masked_loss.reductions import (
    Dim,
    _bitwise_select_applies,
    _keep_bits,
    _reduced_dims,
    _select_with_bits,
    _tensor_or_none,
    _valid_weight,
    _zero_masked_bits,
    accumulation_dtype,
    as_bool_mask,
    as_dtype,
    check_count_shape,
    compute_dtype,
    count_all,
    finish_reduction,
    local_count_divisor,
    reduce_selected,
    reduced_shape,
    select_valid,
)


def _pointwise(kind: str, diff: torch.Tensor, delta: float, reduction: str) -> torch.Tensor:
    """The loss of each (selected) difference, or their sum (``reduction='sum'``).

    Every loss is 0 at 0, so masked positions stay exactly 0. ``F.mse_loss``
    and ``F.huber_loss`` against a zero target are single fused kernels
    forward and backward (a ``torch.where`` formula for Huber is several
    times slower on the CPU), and they sum with PyTorch's pairwise-accurate
    reduction.
    """
    if kind == "absolute":
        loss = diff.abs()
        return loss.sum() if reduction == "sum" else loss
    zero = diff.new_zeros(()).expand_as(diff)
    if kind == "squared":
        return F.mse_loss(diff, zero, reduction=reduction)
    return F.huber_loss(diff, zero, reduction=reduction, delta=delta)


def _selected_pointwise_sum(
    kind: str, diff: torch.Tensor, bool_mask: torch.Tensor, delta: float
) -> torch.Tensor:
    """:math:`\\sum_i m_i f(d_i)` of a temporary ``diff`` (the selection overwrites it)."""
    return _pointwise(kind, select_valid(diff, bool_mask, in_place=True), delta, "sum")


def _pointwise_losses(kind: str, diff: torch.Tensor, delta: float) -> torch.Tensor:
    """``f(diff)`` element by element, in a new tensor."""
    if kind == "squared":
        return diff * diff
    if kind == "absolute":
        return diff.abs()
    return _pointwise(kind, diff, delta, "none")


def _derivative(kind: str, selected: torch.Tensor, delta: float) -> torch.Tensor:
    """``f'(selected)`` in differentiable operations.

    Huber's is written with a strict ``|d| < delta``, so that its own
    derivative is that of ``F.huber_loss``'s gradient, kink included.
    """
    if kind == "squared":
        return 2 * selected
    if kind == "absolute":
        return selected.sign()
    return torch.where(selected.abs() < delta, selected, delta * selected.sign())


def _loss_gradient(
    kind: str,
    diff: torch.Tensor,
    bool_mask: torch.Tensor,
    weight: torch.Tensor | None,
    scale: torch.Tensor | float,
    delta: float,
) -> torch.Tensor:
    """The gradient of ``scale`` times :math:`\\sum_i m_i w_i f(d_i)` with respect to ``diff``.

    Written in differentiable operations, selected after every product, so
    that it has exact derivatives (forward and reverse) and exact zeros at
    masked positions whatever ``scale`` holds.
    """
    keep = _keep_bits(bool_mask, diff)
    local = _derivative(kind, _select_with_bits(diff, keep), delta)
    if weight is not None:
        local = local * _valid_weight(bool_mask, weight)
    return _select_with_bits(local * scale, keep)


class _FusedMaskedLoss(torch.autograd.Function):
    r""":math:`\sum_i m_i w_i f(d_i)`, divided by ``divisor``, in place on the CPU.

    The plain operations (:func:`~masked_loss.select_valid`, the pointwise
    loss, :func:`~masked_loss.reductions.reduce_selected`) are the
    definition; this Function gives the same values, and the same
    derivatives up to rounding (``tests/test_fused.py``).

    On the CPU, allocating input-sized tensors (and their page faults), not
    the arithmetic, sets the time. In plain operations the backward pass
    allocates two to five of them (the loss kernel's gradient, zero-filled
    first, the selection's gradient, the weight's products); this Function
    allocates one, the gradient, computed from the saved difference and
    selected in place (plus the weight times the scale when the weight is
    input-sized, and for float64 the mask as 64-bit words). Its forward pass
    allocates the pointwise losses, then weights, selects and sums them in
    place. It saves what the plain operations save: the difference
    (``input - target``, the caller's temporary), the mask, the weight, and
    the 0-d ``divisor``, a count that needs no gradient (or None for a sum).

    Exactness is kept by construction: masked entries are cleared bit by bit
    *after* every multiplication, so NaN or inf in the padding, in the weight
    or from above gives exactly 0 there. When the gradient must itself be
    differentiated (``create_graph=True``: double backward, gradient
    penalties, Hessians; or forward-mode AD over the backward pass), the
    backward pass is :func:`_loss_gradient`, in differentiable operations.
    The jvp is the same gradient against the tangent. ``torch.func``,
    compilers and tracers never reach this Function
    (:func:`~masked_loss.reductions._bitwise_select_applies`).
    """

    # ctx-style forward for a cheap apply(), as _SelectValid.

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        diff: torch.Tensor,
        bool_mask: torch.Tensor,
        weight: torch.Tensor | None,
        divisor: torch.Tensor | None,
        kind: str,
        delta: float,
    ) -> torch.Tensor:
        ctx.save_for_backward(diff, bool_mask, weight, divisor)
        ctx.save_for_forward(diff, bool_mask, weight, divisor)
        ctx.kind, ctx.delta = kind, delta
        loss = _pointwise_losses(kind, diff, delta)
        if weight is not None:
            loss.mul_(weight)
        total = _zero_masked_bits(loss, _keep_bits(bool_mask, loss), True).sum()
        return total if divisor is None else total / divisor

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:  # type: ignore[override]
        diff, bool_mask, weight, divisor = ctx.saved_tensors
        kind, delta = ctx.kind, ctx.delta
        scale = grad if divisor is None else grad / divisor
        if torch.is_grad_enabled() or _has_tangent(diff, scale):
            return _loss_gradient(kind, diff, bool_mask, weight, scale, delta), *(None,) * 5
        if kind == "squared":
            scale = scale * 2
        if weight is not None:
            scale = weight * scale
        if kind == "squared":
            diff_grad = diff * scale
        elif kind == "absolute":
            diff_grad = diff.sign().mul_(scale)
        else:
            diff_grad = diff.clamp(-delta, delta).mul_(scale)
        diff_grad = _zero_masked_bits(diff_grad, _keep_bits(bool_mask, diff_grad), True)
        return diff_grad, *(None,) * 5

    @staticmethod
    def jvp(ctx: Any, diff_tangent: torch.Tensor, *_: Any) -> torch.Tensor:  # type: ignore[override]
        diff, bool_mask, weight, divisor = ctx.saved_tensors
        gradient = _loss_gradient(ctx.kind, diff, bool_mask, weight, 1.0, ctx.delta)
        tangent = (gradient * select_valid(diff_tangent, bool_mask)).sum()
        return tangent if divisor is None else tangent / divisor


def _has_tangent(*tensors: torch.Tensor) -> bool:
    """Does any of ``tensors`` carry a forward-mode tangent?"""
    return any(fwAD.unpack_dual(tensor).tangent is not None for tensor in tensors)


def check_delta(delta: float) -> None:
    if isinstance(delta, bool) or not isinstance(delta, int | float):
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
    check_mask(mask, input.shape)
    if weight is not None:
        check_weight(weight, input.shape)
    check_same_device(
        input=input, target=target, mask=mask, weight=weight, count=_tensor_or_none(count)
    )
    check_options(reduction, dim=dim, keepdim=keepdim, count=count, empty=empty,
                  average=average, check_values=check_values)  # fmt: skip
    dims = _reduced_dims(input.shape, dim, average)
    check_count_shape(count, input.shape, dims, keepdim)
    if check_values:
        assert_valid_values(mask, weight, count)
    return dims


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
    input, target = as_dtype(input, work), as_dtype(target, work)
    if average == "element" and reduction != "none" and dims and len(dims) == input.dim():
        # Everything is summed: one total, then the count and the division.
        options = {"reduction": reduction, "keepdim": keepdim, "count": count, "empty": empty,
                   "out_dtype": out_dtype}  # fmt: skip
        if _fused_loss_applies(input, target, bool_mask, weight):
            return _fused_full_reduction(kind, input, target, bool_mask, weight, delta, **options)
        if weight is None:
            total = _selected_pointwise_sum(kind, input - target, bool_mask, delta)
            return finish_reduction(total, bool_mask, input.shape, dims=dims, average=average,
                                    **options)  # fmt: skip
    # input - target is a fresh temporary, so the selection may overwrite it.
    diff = select_valid(input - target, bool_mask, in_place=True)
    return reduce_selected(_pointwise(kind, diff, delta, "none"), bool_mask, weight=weight,
                           dims=dims, reduction=reduction, keepdim=keepdim, count=count,
                           empty=empty, average=average, out_dtype=out_dtype)  # fmt: skip


def _fused_loss_applies(
    input: torch.Tensor, target: torch.Tensor, bool_mask: torch.Tensor, weight: torch.Tensor | None
) -> bool:
    """Plain eager CPU tensors, and a weight that needs no derivative of its own.

    The Function differentiates with respect to the difference only: a
    weight that requires grad or carries a forward-mode tangent takes the
    plain operations, as do inference tensors, which cannot be saved.
    """
    # _bitwise_select_applies first: Dynamo must not trace is_inference().
    if weight is None:
        return _bitwise_select_applies(input, target, bool_mask) and not bool_mask.is_inference()
    if not _bitwise_select_applies(input, target, bool_mask, weight):
        return False
    if weight.requires_grad or weight.is_inference() or _has_tangent(weight):
        return False
    return not bool_mask.is_inference()


def _fused_full_reduction(
    kind: str,
    input: torch.Tensor,
    target: torch.Tensor,
    bool_mask: torch.Tensor,
    weight: torch.Tensor | None,
    delta: float,
    *,
    reduction: str,
    keepdim: bool,
    count: torch.Tensor | float | None,
    empty: EmptyPolicy,
    out_dtype: torch.dtype,
) -> torch.Tensor:
    """The loss reduced over every dimension by :class:`_FusedMaskedLoss`."""
    counted = bool_mask
    if weight is not None:
        weight = as_dtype(weight, input.dtype)
        if reduction == "mean":
            acc_weight = as_dtype(weight, accumulation_dtype(input.dtype))
            counted = _valid_weight(bool_mask, acc_weight, differentiable=False)
    # The usual mean divides inside the Function; the other options after it.
    divide_inside = reduction == "mean" and count is None and empty == "zero"
    divisor = local_count_divisor(count_all(counted, input.shape)) if divide_inside else None
    loss = _FusedMaskedLoss.apply(input - target, bool_mask, weight, divisor, kind, delta)
    dims = tuple(range(input.dim()))
    if divide_inside:
        if keepdim:
            loss = loss.reshape(reduced_shape(input.shape, dims, keepdim))
        return as_dtype(loss, out_dtype)
    return finish_reduction(loss, counted, input.shape, dims=dims, reduction=reduction,
                            keepdim=keepdim, count=count, empty=empty, average="element",
                            out_dtype=out_dtype)  # fmt: skip


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


class _MaskedLoss(nn.Module):
    """Stores the options, validated at construction; ``forward`` calls the functional form."""

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

    _DEFAULTS = {**_MaskedLoss._DEFAULTS, "delta": 1.0}

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
            input, target, mask, self.reduction, delta=self.delta, weight=weight, count=count,
            **self._options(),
        )  # fmt: skip
