"""Masked reductions: the one core that every function in this package is built on.

A masked mean is four steps, kept apart so that each can be reused:

1. **select** the valid elements (:func:`~masked_loss.select_valid`, which is
   ``torch.where(mask, values, 0)``): masked positions become exactly 0
   *before* any arithmetic, so NaN or inf in the padding reaches neither the
   result nor the gradient;
2. a **sum** over the reduced dimensions, optionally weighted, accumulated and
   returned in at least float32;
3. a broadcast-aware **count** of the valid elements, or the sum of their
   weights (:func:`~masked_loss.count_valid`);
4. one **division**, with an explicit policy for an empty denominator, and
   one rounding to the result's dtype.

Keeping the count separate is what lets gradient accumulation and data
parallelism divide by a *global* count (:mod:`masked_loss.distributed`). The
losses in ``masked_loss.losses`` are "select the difference, apply a
pointwise function, reduce" with the same steps 2-4, through the functions
here without a leading underscore.

Every step is an ordinary differentiable PyTorch operation: no
``autograd.Function``, no custom kernel and no test of which transform is
running. Double backward, forward-mode AD, ``torch.func`` (``vmap``,
``grad``, ``jacrev``, ``jvp``, batched gradients), ``torch.jit.trace``,
``torch.export`` and ``torch.compile(fullgraph=True)`` therefore get the same
answer as eager code, because each operation carries its own rules for them.
(Why not a faster CPU kernel: see "Design" in the API page.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from masked_loss._checks import (
    Average,
    EmptyPolicy,
    assert_valid_values,
    check_broadcastable,
    check_mask,
    check_options,
    check_same_device,
    check_shape,
    check_values_tensor,
    check_weight,
    normalize_dims,
)

Dim = int | Sequence[int] | None

Dim = int | Sequence[int] | None


def accumulation_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype sums, counts and weight sums are accumulated in: float64, else float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype element-wise arithmetic runs in.

    float16 is computed in float32: the square of a difference of 256 or
    more exceeds its largest value, 65504. bfloat16 has float32's range, so
    its element-wise values stay bfloat16 (as in ``F.mse_loss``), which keeps
    the tensors saved for backward as small as the inputs; every sum of them
    is accumulated and returned in float32, and the result is rounded to
    bfloat16 once, after the division.
    """
    return torch.float32 if dtype == torch.float16 else dtype


def as_dtype(tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``tensor.to(dtype)``, skipping the dispatcher call when nothing changes (hot path)."""
    return tensor if tensor.dtype == dtype else tensor.to(dtype)


def as_bool_mask(mask: torch.Tensor) -> torch.Tensor:
    return mask if mask.dtype == torch.bool else mask != 0


def select_valid(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""``values`` where ``mask`` is true, exactly 0 elsewhere; NaN-safe and differentiable.

    .. math::
        s_i = \begin{cases} x_i & m_i \\ 0 & \text{otherwise} \end{cases}

    This *is* ``torch.where(mask, values, 0)``, on every device and under
    every transform. Unlike ``values * mask``, a NaN or inf at a masked
    position gives 0, and so does its gradient.

    Args:
        values: a real floating-point tensor.
        mask: bool or 0/1 integer tensor broadcastable to ``values`` without
            enlarging it, on the same device (a 0-d CPU mask goes with any).

    Returns:
        A new tensor shaped like ``values``.

    Raises:
        TypeError: for values that are not a real floating-point tensor, or a
            float mask.
        ValueError: for a mask that does not broadcast to ``values``, or one on
            another device.

    Example:
        >>> select_valid(torch.tensor([1.0, float("nan"), -float("inf")]),
        ...              torch.tensor([True, False, False]))
        tensor([1., 0., 0.])
    """
    check_values_tensor(values)
    check_mask(mask, values.shape)
    check_same_device(values=values, mask=mask)
    return torch.where(as_bool_mask(mask), values, 0)


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


def mask_enlarges(mask: torch.Tensor, weight: torch.Tensor) -> bool:
    """Would broadcasting ``mask`` against ``weight`` make something larger than ``weight``?"""
    return math.prod(torch.broadcast_shapes(mask.shape, weight.shape)) > weight.numel()


def valid_weight(bool_mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """The weight broadcast with the mask, exactly 0 where masked (NaN padding included).

    A new tensor: changing the caller's weight in place after the forward
    pass does not change the gradient, whichever path the weight takes.
    """
    shape = torch.broadcast_shapes(bool_mask.shape, weight.shape)
    return torch.where(bool_mask, weight if weight.shape == shape else weight.expand(shape), 0)


def weight_on(weight: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A 0-d CPU weight goes with values on any device, as a scalar does in torch."""
    return weight if weight.device == device else weight.to(device)


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
        weight: optional float tensor broadcastable to ``shape``, on the
            mask's device (a 0-d CPU weight goes with any device).
        dim: dimension(s) to count over; ``None`` counts over all.
        keepdim: keep the counted dimensions with size 1.

    Returns:
        The count, with the reduced shape of ``shape``, on the mask's device.

    Example:
        >>> mask = torch.tensor([[True], [False], [True]])  # (3, 1) over (3, 4)
        >>> count_valid(mask, (3, 4))
        tensor(8)
        >>> count_valid(mask, (3, 4), dim=1)
        tensor([4, 0, 4])
    """
    shape = check_shape(shape)
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
        weight = weight_on(as_dtype(weight, accumulation_dtype(weight.dtype)), mask.device)
        counted = valid_weight(bool_mask, weight)
    count = sum_as_if_expanded(counted, shape, dims)
    return count.expand(reduced_shape(shape, dims, keepdim=True)).reshape(
        reduced_shape(shape, dims, keepdim)
    )


def divide(total: torch.Tensor, count: torch.Tensor | float, empty: EmptyPolicy) -> torch.Tensor:
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


def divide_by_local_count(
    total: torch.Tensor, count: torch.Tensor, empty: EmptyPolicy
) -> torch.Tensor:
    """:func:`divide` for a count computed here from the mask (fewer small ops)."""
    if empty == "nan":
        return divide(total, count, empty)
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

    ``selected`` holds the per-element values in the compute dtype, exact
    zeros where masked (from :func:`~masked_loss.select_valid`, possibly
    through a pointwise function with ``f(0) = 0``).
    """
    valid = None
    if weight is not None:
        weight = weight_on(as_dtype(weight, selected.dtype), selected.device)
        if mask_enlarges(bool_mask, weight):
            # e.g. a (D,) weight under a (B, T, 1) mask: select the product rather
            # than save a full-size masked weight for the backward pass. The
            # product saves the weight, so a copy of the caller's (smaller than
            # the input) keeps in-place changes after the forward pass harmless,
            # as they are for valid_weight's new tensor.
            selected = torch.where(bool_mask, selected * weight.clone(), 0)
        else:
            valid = valid_weight(bool_mask, weight)
            selected = selected * valid
    if reduction == "none":
        return as_dtype(selected, out_dtype)
    acc = accumulation_dtype(selected.dtype)
    if len(dims) == selected.dim():
        total = selected.sum(dtype=acc)  # 0-d: no kept dimensions to reshape later
    elif dims:
        total = selected.sum(dims, keepdim=True, dtype=acc)
    else:
        total = as_dtype(selected, acc)
    counted = bool_mask
    if reduction == "mean" and weight is not None:
        # The sum of the weights is accumulated in float32 even for bfloat16.
        reusable = valid is not None and valid.dtype == acc
        counted = valid if reusable else valid_weight(bool_mask, as_dtype(weight, acc))
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

    ``total`` is in the accumulation dtype; the result is rounded to
    ``out_dtype`` once, at the end. ``counted`` is what the denominator
    counts: the bool mask, or the valid weights. ``average='sample'``
    averages per-sample means (dimension 0 is the sample dimension) over the
    samples that have at least one valid element, so a fully masked sample
    does not pull the mean towards 0.
    """
    out_shape = reduced_shape(shape, dims, keepdim)
    if reduction == "sum":
        return as_dtype(reshape(total, out_shape), out_dtype)
    if total.dim() == 0:
        # Everything was summed: count without keeping dimensions (no reshapes).
        valid = count_all(counted, shape)
    else:
        valid = sum_as_if_expanded(counted, shape, dims)
    if average == "sample":
        per_sample = divide_by_local_count(total, valid.expand(total.shape), "zero")
        nonempty_samples = (valid > 0).expand(total.shape).sum()
        return as_dtype(divide(per_sample.sum(), nonempty_samples, empty), out_dtype)
    if count is None:
        mean = divide_by_local_count(total, valid, empty)
    else:
        if isinstance(count, torch.Tensor):
            count = reshape(count.expand(out_shape), total.shape)
        mean = divide(total, count, empty)
    return as_dtype(reshape(mean, out_shape), out_dtype)


def reshape(tensor: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """``tensor.reshape(shape)``, without an operation (and its backward) when it is a no-op."""
    return tensor if tensor.shape == shape else tensor.reshape(shape)


def check_count_shape(
    count: torch.Tensor | float | None, shape: torch.Size, dims: tuple[int, ...], keepdim: bool
) -> None:
    """A tensor count must broadcast to the result's shape (e.g. one count per row)."""
    if isinstance(count, torch.Tensor):
        check_broadcastable(
            "count", count, torch.Size(reduced_shape(shape, dims, keepdim)), "the result shape"
        )


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
    Accumulates in at least float32 and rounds once to the promoted dtype of
    ``values`` and ``weight``.

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


def check_masked_arguments(
    shape: torch.Size,
    mask: torch.Tensor,
    reduction: str,
    *,
    weight: torch.Tensor | None,
    dim: Dim,
    keepdim: bool,
    count: torch.Tensor | float | None,
    empty: EmptyPolicy,
    average: Average,
    check_values: bool,
    **tensors: torch.Tensor | None,
) -> tuple[int, ...]:
    """The checks every masked reduction and loss shares; returns the reduced dimensions.

    ``shape`` is that of the per-element values the mask selects from;
    ``tensors`` are the call's other tensors, by name, for the device check.
    """
    check_mask(mask, shape)
    if weight is not None:
        check_weight(weight, shape)
    check_same_device(**tensors, mask=mask, weight=weight, count=tensor_or_none(count))
    check_options(reduction, dim=dim, keepdim=keepdim, count=count, empty=empty,
                  average=average, check_values=check_values)  # fmt: skip
    dims = reduced_dims(shape, dim, average)
    check_count_shape(count, shape, dims, keepdim)
    if check_values:
        assert_valid_values(mask, weight, count)
    return dims


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
    dims = check_masked_arguments(values.shape, mask, reduction, weight=weight, dim=dim,
                                  keepdim=keepdim, count=count, empty=empty, average=average,
                                  check_values=check_values, values=values)  # fmt: skip
    out_dtype = values.dtype if weight is None else torch.promote_types(values.dtype, weight.dtype)
    bool_mask = as_bool_mask(mask)
    selected = torch.where(bool_mask, as_dtype(values, compute_dtype(out_dtype)), 0)
    return reduce_selected(selected, bool_mask, weight=weight, dims=dims, reduction=reduction,
                           keepdim=keepdim, count=count, empty=empty, average=average,
                           out_dtype=out_dtype)  # fmt: skip


def tensor_or_none(value: object) -> torch.Tensor | None:
    return value if isinstance(value, torch.Tensor) else None


def reduced_dims(shape: torch.Size, dim: Dim, average: str) -> tuple[int, ...]:
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
