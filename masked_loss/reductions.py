"""Masked reductions: the one core that every function in this package is built on.

A masked mean is four steps, kept apart so that each can be reused:

1. **select** the valid elements (:func:`~masked_loss.select_valid`): masked positions
   become exactly 0 *before* any arithmetic, so NaN or inf in the padding
   reaches neither the result nor the gradient;
2. a **sum** over the reduced dimensions, optionally weighted;
3. a broadcast-aware **count** of the valid elements, or the sum of their
   weights (:func:`~masked_loss.count_valid`);
4. one **division**, with an explicit policy for an empty denominator.

Keeping the count separate is what lets gradient accumulation and data
parallelism divide by a *global* count (:mod:`masked_loss.distributed`). The
losses in ``masked_loss.losses`` are "select the difference, apply a
pointwise function, reduce" with the same steps 2-4.

Everything here is made of differentiable PyTorch operations plus one small
self-adjoint :class:`torch.autograd.Function` for the selection, so double
backward, forward-mode AD, ``torch.func``, ``torch.jit.trace``,
``torch.export`` and ``torch.compile(fullgraph=True)`` all compose.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from masked_loss._checks import (
    Average,
    EmptyPolicy,
    assert_valid_values,
    check_broadcastable,
    check_mask,
    check_options,
    check_same_device,
    check_values_tensor,
    check_weight,
    normalize_dims,
)

Dim = int | Sequence[int] | None

# A float and the signed integer of the same width: -1 is all ones, 0 all zeros.
_SAME_WIDTH_INT = {
    torch.float64: torch.int64,
    torch.float32: torch.int32,
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
}


def accumulation_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype counts and weight sums are accumulated in: float64, else float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype element-wise arithmetic runs in.

    float16 is computed in float32: one squared error of 256 or more exceeds
    its largest value, 65504. bfloat16 has float32's range, so it stays
    bfloat16, and PyTorch sums it with a float32 accumulator, as it does for
    its own losses; this keeps the tensors saved for backward as small as
    the inputs.
    """
    return torch.float32 if dtype == torch.float16 else dtype


def as_dtype(tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``tensor.to(dtype)``, skipping the dispatcher call when nothing changes (hot path)."""
    return tensor if tensor.dtype == dtype else tensor.to(dtype)


def as_bool_mask(mask: torch.Tensor) -> torch.Tensor:
    return mask if mask.dtype == torch.bool else mask != 0


def _keep_bits(bool_mask: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """What :func:`_zero_masked_bits` combines the float's bits with.

    For 16- and 32-bit floats, the bool mask itself: an integer multiply by
    0 or 1 keeps or clears every bit, and the mask stays one byte per
    element. 64-bit integer multiplication is slow on the CPU, so for
    float64 the mask becomes words of all ones (-1) or all zeros for an AND.
    """
    if values.dtype == torch.float64:
        return bool_mask.to(torch.int64).neg_()
    return bool_mask


def _zero_masked_bits(values: torch.Tensor, keep: torch.Tensor, in_place: bool) -> torch.Tensor:
    """Clear every bit of the masked entries of ``values``: +0.0, whatever they held."""
    int_view = values.view(_SAME_WIDTH_INT[values.dtype])
    if keep.dtype == torch.bool:
        cleared = int_view.mul_(keep) if in_place else int_view.mul(keep)
    else:
        cleared = int_view.bitwise_and_(keep) if in_place else int_view.bitwise_and(keep)
    return values if in_place else cleared.view(values.dtype)


class _SelectValid(torch.autograd.Function):
    """``where(mask, values, 0)`` as a bitwise AND; linear, so its own adjoint.

    On the CPU, ``torch.where`` with a bool condition runs an element-by-element
    branch that is about ten times slower than a multiplication (worse still
    on random masks), and multiplying by the mask keeps NaN (``nan * 0 = nan``).
    Clearing the float's bits (an integer multiply by the 0/1 mask) is as
    fast as a multiplication and turns NaN and inf alike into +0.0.

    Backward and forward-mode AD apply the same selection to the incoming
    gradient or tangent through :func:`_select_with_bits`, which is
    differentiable again: double backward and higher derivatives compose, and
    masked positions receive exactly 0 whatever arrives from above (inf,
    NaN). ``in_place`` is for a temporary the caller owns (``input - target``).
    """

    # The ctx-style forward (no setup_context) keeps apply() cheap: with
    # setup_context, every call binds its arguments with inspect.signature.
    # torch.func never reaches this Function (select_valid uses torch.where on
    # functorch tensors), so it needs no vmap rule.

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, values: torch.Tensor, keep_bits: torch.Tensor, in_place: bool
    ) -> torch.Tensor:
        ctx.save_for_backward(keep_bits)
        ctx.save_for_forward(keep_bits)
        ctx.in_place = in_place
        if in_place:
            ctx.mark_dirty(values)
        return _zero_masked_bits(values, keep_bits, in_place)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:  # type: ignore[override]
        (keep_bits,) = ctx.saved_tensors
        if not torch.is_grad_enabled() and _bitwise_select_applies(grad, keep_bits):
            # No create_graph: nothing will differentiate this, so skip the Function.
            return _zero_masked_bits(grad, keep_bits, False), None, None
        return _select_with_bits(grad, keep_bits), None, None

    @staticmethod
    def jvp(ctx: Any, values_tangent: torch.Tensor, *_: Any) -> torch.Tensor:  # type: ignore[override]
        (keep_bits,) = ctx.saved_tensors
        if ctx.in_place:
            # Forward AD requires an in-place Function to update the tangent in
            # place too; the tangent of a fresh temporary is fresh as well.
            return _zero_masked_bits(values_tangent, keep_bits, True)
        return _select_with_bits(values_tangent, keep_bits)


def _bitwise_select_applies(values: torch.Tensor, *others: torch.Tensor) -> bool:
    """The bitwise kernels are for plain eager CPU tensors only.

    ``others`` are the mask and any other tensor the kernel reads. On a GPU
    ``torch.where`` is one memory-bound kernel already. Compilers, tracers
    and ``torch.func`` transforms (which wrap some of the tensors) see plain
    differentiable operations, which they all understand: Dynamo cannot
    trace a Function with a custom jvp, and ``torch.jit.trace`` cannot alias
    a float as an integer.
    """
    # is_compiling() first: Dynamo folds it to True, and must not trace the rest.
    if torch.compiler.is_compiling() or torch.jit.is_tracing():
        return False
    if values.device.type != "cpu" or values.dtype not in _SAME_WIDTH_INT:
        return False
    tensors = (values, *others)
    return not any(
        torch._C._functorch.is_functorch_wrapped_tensor(t) for t in tensors
    ) and not torch.overrides.has_torch_function(tensors)


def _select_with_bits(values: torch.Tensor, keep_bits: torch.Tensor) -> torch.Tensor:
    if _bitwise_select_applies(values, keep_bits):
        return _SelectValid.apply(values, keep_bits, False)
    return torch.where(keep_bits != 0, values, 0)


def select_valid(
    values: torch.Tensor, mask: torch.Tensor, *, in_place: bool = False
) -> torch.Tensor:
    r"""``values`` where ``mask`` is true, exactly 0 elsewhere; NaN-safe and differentiable.

    .. math::
        s_i = \begin{cases} x_i & m_i \\ 0 & \text{otherwise} \end{cases}

    The same as ``torch.where(mask, values, 0)``, value and every derivative
    (it *is* that on a GPU, under ``torch.compile``, tracing and
    ``torch.func``); on the CPU it runs a faster, equally exact bitwise
    kernel. Unlike ``values * mask``, a NaN or inf at a masked position gives
    0, and so does its gradient.

    Args:
        values: a floating-point tensor.
        mask: bool tensor broadcastable to ``values`` without enlarging it.
        in_place: may overwrite ``values`` (a temporary the caller owns);
            always use the returned tensor.

    Returns:
        A tensor shaped like ``values``.

    Example:
        >>> select_valid(torch.tensor([1.0, float("nan"), -float("inf")]),
        ...              torch.tensor([True, False, False]))
        tensor([1., 0., 0.])
    """
    if _bitwise_select_applies(values, mask):
        return _SelectValid.apply(values, _keep_bits(mask, values), in_place)
    return torch.where(mask, values, 0)


def sum_as_if_expanded(
    tensor: torch.Tensor, shape: torch.Size, dims: tuple[int, ...]
) -> torch.Tensor:
    """``tensor.expand(shape).sum(dims, keepdim=True)`` without reading the expansion.

    A dimension that ``tensor`` broadcasts along contributes a factor of its
    size instead of being summed, so a ``(B, T, 1)`` mask over ``(B, T, D)``
    input counts ``D`` per valid step at the cost of summing ``B*T`` entries.
    Bool tensors are counted in int64, exactly.
    """
    tensor = tensor.reshape((1,) * (len(shape) - tensor.dim()) + tuple(tensor.shape))
    factor = 1
    summed: list[int] = []
    for d in dims:
        if tensor.shape[d] == 1:
            factor *= shape[d]
        else:
            summed.append(d)
    if summed:
        tensor = tensor.sum(summed, keepdim=True)  # a bool sum is int64
    elif tensor.dtype == torch.bool:
        tensor = tensor.to(torch.int64)
    return tensor * factor if factor != 1 else tensor


def reduced_shape(shape: torch.Size, dims: tuple[int, ...], keepdim: bool) -> tuple[int, ...]:
    if keepdim:
        return tuple(1 if d in dims else s for d, s in enumerate(shape))
    return tuple(s for d, s in enumerate(shape) if d not in dims)


def _mask_enlarges(mask: torch.Tensor, weight: torch.Tensor) -> bool:
    """Would broadcasting ``mask`` against ``weight`` make something larger than ``weight``?"""
    return math.prod(torch.broadcast_shapes(mask.shape, weight.shape)) > weight.numel()


def _valid_weight(
    bool_mask: torch.Tensor, weight: torch.Tensor, *, differentiable: bool = True
) -> torch.Tensor:
    """The weight broadcast with the mask, exactly 0 where masked (NaN padding included).

    ``differentiable=False`` is for a plain CPU weight that autograd never
    sees (no gradient, no tangent): the bits are cleared without a Function.
    """
    shape = torch.broadcast_shapes(bool_mask.shape, weight.shape)
    expanded = weight if weight.shape == shape else weight.expand(shape)
    if differentiable:
        return select_valid(expanded, bool_mask)
    return _zero_masked_bits(expanded, _keep_bits(bool_mask, expanded), False)


def count_valid(
    mask: torch.Tensor,
    shape: Sequence[int],
    *,
    weight: torch.Tensor | None = None,
    dim: Dim = None,
    keepdim: bool = False,
) -> torch.Tensor:
    r"""Count the valid elements of a ``shape``-sized tensor, after broadcasting ``mask``.

    .. math::
        n = \sum_i m_i \quad\text{or, with weights,}\quad n = \sum_i w_i m_i ,

    where :math:`m` and :math:`w` are broadcast to ``shape`` first. This is the
    denominator of a masked mean, and the result can be passed back as
    ``count=`` with the same ``dim`` and ``keepdim``. Without weights the
    count is an exact int64; with weights it is a float sum (float32, or
    float64 for float64 weights). Weights at masked positions are never read.

    Args:
        mask: bool or 0/1 integer tensor broadcastable to ``shape``.
        shape: the shape of the values the mask selects from.
        weight: optional float tensor broadcastable to ``shape``.
        dim: dimension(s) to count over; ``None`` counts over all.
        keepdim: keep the counted dimensions with size 1.

    Returns:
        The count, with the reduced shape of ``shape``.

    Example:
        >>> mask = torch.tensor([[True], [False], [True]])  # (3, 1) over (3, 4)
        >>> count_valid(mask, (3, 4))
        tensor(8)
        >>> count_valid(mask, (3, 4), dim=1)
        tensor([4, 0, 4])
    """
    shape = torch.Size(shape)
    check_mask(mask, shape)
    if weight is not None:
        check_weight(weight, shape)
        check_same_device(mask=mask, weight=weight)
    check_options("mean", dim=dim, keepdim=keepdim, count=None, empty="zero",
                  average="element", check_values=False)  # fmt: skip
    dims = normalize_dims(dim, len(shape))
    bool_mask = as_bool_mask(mask)
    if weight is None:
        counted = bool_mask
    else:
        counted = _valid_weight(bool_mask, as_dtype(weight, accumulation_dtype(weight.dtype)))
    count = sum_as_if_expanded(counted, shape, dims)
    return count.expand(reduced_shape(shape, dims, keepdim=True)).reshape(
        reduced_shape(shape, dims, keepdim)
    )


def _divide(total: torch.Tensor, count: torch.Tensor | float, empty: EmptyPolicy) -> torch.Tensor:
    """``total / count``; where ``count`` is 0 the result is 0 (``'zero'``) or NaN (``'nan'``).

    Where the count is 0 the gradient of the result is exactly 0, whatever
    arrives from above; no ``inf`` reaches the result or the gradient.
    """
    fill = 0.0 if empty == "zero" else math.nan
    if not isinstance(count, torch.Tensor):
        # A Python number needs no tensor (and no host-to-device copy).
        return total / count if count != 0 else total * 0 + fill
    nonempty = count != 0
    if empty == "zero":
        # An empty total is 0, and 0 / inf is 0 with a gradient of 1 / inf = 0.
        return total / torch.where(nonempty, count, math.inf)
    return torch.where(nonempty, total / torch.where(nonempty, count, 1), fill)


def _divide_by_local_count(
    total: torch.Tensor, count: torch.Tensor, empty: EmptyPolicy
) -> torch.Tensor:
    """:func:`_divide` for a count computed here from the mask (fewer small ops)."""
    if empty == "nan":
        return _divide(total, count, empty)
    return total / local_count_divisor(count)


def local_count_divisor(count: torch.Tensor) -> torch.Tensor:
    """The count to divide by for ``empty='zero'``: 0 becomes something a 0 total divides to 0.

    An integer count of valid elements is 0 or at least 1, and the selected
    total is exactly 0 where it is 0, so clamping the count gives the same
    value; the gradient there only reaches masked positions, which the
    selection sets to 0. A float count (a sum of weights) may lie in (0, 1),
    so its 0 becomes inf: 0 / inf is 0, with a gradient of 1 / inf = 0.
    """
    if count.is_floating_point():
        return torch.where(count != 0, count, math.inf)
    return count.clamp(min=1)


def count_all(counted: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """The 0-d count of ``counted`` broadcast to ``shape``, without reading the broadcast."""
    factor = math.prod(shape) // max(counted.numel(), 1)
    return counted.sum() * factor if factor != 1 else counted.sum()


def reduce_selected(
    selected: torch.Tensor,
    bool_mask: torch.Tensor,
    *,
    weight: torch.Tensor | None,
    dims: tuple[int, ...],
    reduction: str,
    keepdim: bool,
    count: torch.Tensor | float | None,
    empty: EmptyPolicy,
    average: Average,
    out_dtype: torch.dtype,
) -> torch.Tensor:
    """Steps 2-4 of a masked reduction, for values already 0 at masked positions.

    ``selected`` holds the per-element values in the accumulation dtype, exact
    zeros where masked (from :func:`~masked_loss.select_valid`, possibly through a
    pointwise function with ``f(0) = 0``).
    """
    valid_weight = None
    if weight is not None:
        # A 0-d CPU weight may come with values on another device, as in torch.
        weight = weight.to(selected.device)
        if _mask_enlarges(bool_mask, weight):
            # e.g. a (D,) weight under a (B, T, 1) mask: select the product rather
            # than save a full-size masked weight for the backward pass.
            selected = select_valid(selected * as_dtype(weight, selected.dtype), bool_mask)
        else:
            valid_weight = _valid_weight(bool_mask, as_dtype(weight, selected.dtype))
            selected = selected * valid_weight
    if reduction == "none":
        return as_dtype(selected, out_dtype)
    if len(dims) == selected.dim():
        total = selected.sum()  # 0-d: no kept dimensions to reshape later
    else:
        total = selected.sum(dims, keepdim=True) if dims else selected
    counted = bool_mask
    if reduction == "mean" and weight is not None:
        # The sum of the weights is accumulated in float32 even for bfloat16.
        acc = accumulation_dtype(selected.dtype)
        reusable = valid_weight is not None and valid_weight.dtype == acc
        counted = valid_weight if reusable else _valid_weight(bool_mask, as_dtype(weight, acc))
    return finish_reduction(total, counted, selected.shape, dims=dims, reduction=reduction,
                            keepdim=keepdim, count=count, empty=empty, average=average,
                            out_dtype=out_dtype)  # fmt: skip


def finish_reduction(
    total: torch.Tensor,
    counted: torch.Tensor,
    shape: torch.Size,
    *,
    dims: tuple[int, ...],
    reduction: str,
    keepdim: bool,
    count: torch.Tensor | float | None,
    empty: EmptyPolicy,
    average: Average,
    out_dtype: torch.dtype,
) -> torch.Tensor:
    """Turn a masked sum (kept over ``dims``, or 0-d) into the result: step 4.

    ``counted`` is what the denominator counts: the bool mask, or the valid
    weights. ``average='sample'`` averages per-sample means (dimension 0 is
    the sample dimension) over the samples that have at least one valid
    element, so a fully masked sample does not pull the mean towards 0.
    """
    out_shape = reduced_shape(shape, dims, keepdim)
    if reduction == "sum":
        return as_dtype(_reshape(total, out_shape), out_dtype)
    if total.dim() == 0:
        # Everything was summed: count without keeping dimensions (no reshapes).
        valid = count_all(counted, shape)
    else:
        valid = sum_as_if_expanded(counted, shape, dims)
    if average == "sample":
        per_sample = _divide_by_local_count(total, valid.expand(total.shape), "zero")
        nonempty_samples = (valid > 0).expand(total.shape).sum()
        return as_dtype(_divide(per_sample.sum(), nonempty_samples, empty), out_dtype)
    if count is None:
        mean = _divide_by_local_count(total, valid, empty)
    else:
        if isinstance(count, torch.Tensor):
            count = _reshape(count.expand(out_shape), total.shape)
        mean = _divide(total, count, empty)
    return as_dtype(_reshape(mean, out_shape), out_dtype)


def _reshape(tensor: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """``tensor.reshape(shape)``, without an operation (and its backward) when it is a no-op."""
    return tensor if tensor.shape == shape else tensor.reshape(shape)


def check_count_shape(
    count: torch.Tensor | float | None, shape: torch.Size, dims: tuple[int, ...], keepdim: bool
) -> None:
    """A tensor count must broadcast to the result's shape (e.g. one count per row)."""
    if isinstance(count, torch.Tensor):
        check_broadcastable("count", count, torch.Size(reduced_shape(shape, dims, keepdim)))


def masked_sum(
    values: torch.Tensor,
    mask: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    dim: Dim = None,
    keepdim: bool = False,
) -> torch.Tensor:
    r"""Sum of the valid elements (optionally weighted), NaN-safe.

    .. math::
        s = \sum_i m_i \, w_i \, x_i

    Masked-out entries are *selected away* (:func:`~masked_loss.select_valid`) before any
    arithmetic, so a NaN or inf in the padding reaches neither the result nor
    the gradient (multiplying by a 0/1 mask would give ``nan * 0 = nan``).
    Accumulates in at least float32; returns the promoted dtype of ``values``
    and ``weight``.

    Args:
        values: real floating-point tensor to reduce (integer, bool and
            complex values raise a ``TypeError``: a float32 sum would round or
            wrap them).
        mask: bool or 0/1 integer tensor broadcastable to ``values``.
        weight: optional float tensor broadcastable to ``values``.
        dim: dimension(s) to reduce; ``None`` reduces all.
        keepdim: keep reduced dimensions with size 1.

    Returns:
        The masked sum.

    Example:
        >>> values = torch.tensor([1.0, float("nan"), 3.0])
        >>> masked_sum(values, torch.tensor([True, False, True]))
        tensor(4.)
    """
    return _masked_reduction(values, mask, "sum", weight=weight, dim=dim, keepdim=keepdim)


def _masked_reduction(
    values: torch.Tensor,
    mask: torch.Tensor,
    reduction: str,
    *,
    weight: torch.Tensor | None = None,
    dim: Dim = None,
    keepdim: bool = False,
    count: torch.Tensor | float | None = None,
    empty: EmptyPolicy = "zero",
    average: Average = "element",
    check_values: bool = False,
) -> torch.Tensor:
    check_values_tensor(values)
    check_mask(mask, values.shape)
    if weight is not None:
        check_weight(weight, values.shape)
    check_same_device(values=values, mask=mask, weight=weight, count=_tensor_or_none(count))
    check_options(reduction, dim=dim, keepdim=keepdim, count=count, empty=empty,
                  average=average, check_values=check_values)  # fmt: skip
    dims = _reduced_dims(values.shape, dim, average)
    check_count_shape(count, values.shape, dims, keepdim)
    if check_values:
        assert_valid_values(mask, weight, count)
    out_dtype = values.dtype if weight is None else torch.promote_types(values.dtype, weight.dtype)
    bool_mask = as_bool_mask(mask)
    original = values
    values = as_dtype(values, compute_dtype(out_dtype))
    selected = select_valid(values, bool_mask, in_place=values is not original)
    return reduce_selected(selected, bool_mask, weight=weight, dims=dims, reduction=reduction,
                           keepdim=keepdim, count=count, empty=empty, average=average,
                           out_dtype=out_dtype)  # fmt: skip


def _tensor_or_none(value: object) -> torch.Tensor | None:
    return value if isinstance(value, torch.Tensor) else None


def _reduced_dims(shape: torch.Size, dim: Dim, average: str) -> tuple[int, ...]:
    if average == "sample":
        if len(shape) == 0:
            raise ValueError(
                "average='sample' needs input with a sample dimension (dim 0), got a 0-d tensor"
            )
        return tuple(range(1, len(shape)))
    return normalize_dims(dim, len(shape))


def masked_mean(
    values: torch.Tensor,
    mask: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    dim: Dim = None,
    keepdim: bool = False,
    count: torch.Tensor | float | None = None,
    empty: EmptyPolicy = "zero",
    average: Average = "element",
    check_values: bool = False,
) -> torch.Tensor:
    r"""Mean of the valid elements (optionally weighted), NaN-safe and sync-free.

    .. math::
        \bar{x} = \frac{\sum_i m_i \, w_i \, x_i}{\sum_i m_i \, w_i}

    with :math:`m` broadcast to ``values`` **before** counting, so a
    ``(B, T, 1)`` mask over ``(B, T, D)`` values counts ``D`` per valid step.

    Args:
        values: real floating-point tensor to reduce (integer, bool and
            complex values raise a ``TypeError``).
        mask: bool or 0/1 integer tensor broadcastable to ``values``.
        weight: optional non-negative float tensor broadcastable to ``values``.
        dim: dimension(s) to average over; ``None`` averages all. With ``dim``
            the result holds one mean per remaining index (e.g. per sequence).
        keepdim: keep reduced dimensions with size 1.
        count: divide the masked sum by this instead of the local count, e.g.
            the global number of valid elements across micro-batches or ranks
            (see :mod:`masked_loss.distributed`). A non-negative number, or a
            tensor that broadcasts to the result (one count per row with
            ``dim``, as :func:`~masked_loss.count_valid` returns it). Where it is 0 the
            ``empty`` policy applies, for numbers and tensors alike.
        empty: value where nothing is valid: ``'zero'`` (default; value and
            gradient exactly 0) or ``'nan'`` (PyTorch's convention for an
            empty mean).
        average: ``'element'`` (default) averages all valid elements together
            (a token mean); ``'sample'`` takes one mean per sample along
            dimension 0 and averages those over the samples that have any
            valid element. ``'sample'`` takes no ``dim``, ``keepdim`` or
            ``count``.
        check_values: also assert, without a host sync, that the mask holds
            only 0/1, the weights at valid positions are finite and
            non-negative, and a tensor ``count`` is non-negative.

    Returns:
        The masked mean, in the promoted dtype of ``values`` and ``weight``.

    Raises:
        ValueError: for an option that does not apply (``keepdim`` or
            ``count`` with ``average='sample'``), a negative ``count``, or
            shapes that do not broadcast.
        TypeError: for non-float ``values`` or a float ``mask``.

    Example:
        >>> values = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> mask = torch.tensor([[1, 0, 1], [0, 0, 0]])
        >>> masked_mean(values, mask)
        tensor(2.)
        >>> masked_mean(values, mask, dim=1)
        tensor([2., 0.])
        >>> masked_mean(values, mask, dim=1, empty="nan")
        tensor([2., nan])
    """
    return _masked_reduction(values, mask, "mean", weight=weight, dim=dim, keepdim=keepdim,
                             count=count, empty=empty, average=average,
                             check_values=check_values)  # fmt: skip
