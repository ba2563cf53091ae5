"""Masked reductions: the core that every loss in this package is built on.

A masked mean is three steps, kept apart so that each can be reused: a
NaN-safe masked **sum**, a broadcast-aware **count** of the valid elements (or
the sum of their weights), and one **division** with an explicit policy for
an empty denominator. Keeping the count separate is what lets gradient
accumulation and data parallelism divide by a *global* count
(:mod:`masked_loss.distributed`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from masked_loss._checks import (
    AVERAGES,
    EMPTY_POLICIES,
    Average,
    EmptyPolicy,
    assert_valid_values,
    check_choice,
    check_mask,
    check_same_device,
    check_weight,
    normalize_dims,
)

Dim = int | Sequence[int] | None


def accumulation_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype sums are accumulated in: float64 stays float64, the rest use float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def as_dtype(tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``tensor.to(dtype)``, skipping the dispatcher call when nothing changes (hot path)."""
    return tensor if tensor.dtype == dtype else tensor.to(dtype)


def as_bool_mask(mask: torch.Tensor) -> torch.Tensor:
    return mask if mask.dtype == torch.bool else mask != 0


def masked_weight(
    mask: torch.Tensor, weight: torch.Tensor | None, dtype: torch.dtype
) -> torch.Tensor | None:
    """The weight with masked positions set to exactly 0 (``None`` without weights)."""
    if weight is None:
        return None
    return torch.where(mask, as_dtype(weight, dtype), 0)


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
    denominator of a masked mean. Without weights the count is an exact int64;
    with weights it is a float sum (float32, or float64 for float64 weights).

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
    dims = normalize_dims(dim, len(shape))
    bool_mask = as_bool_mask(mask)
    if weight is None:
        counted = bool_mask
    else:
        counted = masked_weight(bool_mask, weight, accumulation_dtype(weight.dtype))
    count = sum_as_if_expanded(counted, shape, dims)
    return count.expand(reduced_shape(shape, dims, keepdim=True)).reshape(
        reduced_shape(shape, dims, keepdim)
    )


def divide_with_policy(
    total: torch.Tensor, count: torch.Tensor | float, empty: EmptyPolicy
) -> torch.Tensor:
    """``total / count``, where an empty denominator gives 0 (``'zero'``) or NaN (``'nan'``).

    With ``'zero'`` both the value and the gradient are exactly 0 where the
    count is 0; no ``inf`` is ever formed.
    """
    if not isinstance(count, torch.Tensor):
        # A Python number needs no tensor (and no host-to-device copy).
        return total * 0 if count == 0 and empty == "zero" else total / count
    if empty == "nan":
        return total / count
    if not count.is_floating_point():
        # An integer count is 0 or >= 1, and total is 0 where it is 0.
        return total / count.clamp(min=1)
    nonempty = count != 0
    return torch.where(nonempty, total / torch.where(nonempty, count, 1), 0)


def finish_reduction(
    total: torch.Tensor,
    valid: torch.Tensor,
    shape: torch.Size,
    dims: tuple[int, ...],
    *,
    reduction: str,
    keepdim: bool,
    count: torch.Tensor | float | None,
    empty: EmptyPolicy,
    average: Average,
    out_dtype: torch.dtype,
) -> torch.Tensor:
    """Turn a masked sum and its valid count (both kept over ``dims``) into the result.

    ``average='sample'`` averages per-sample means (dimension 0 is the sample
    dimension, ``dims`` are all the others) over the samples that have at
    least one valid element, so a fully masked sample does not pull the mean
    towards 0.
    """
    if average == "sample":
        if reduction == "sum":
            return as_dtype(total.sum(), out_dtype)
        # A mask broadcast along dim 0 holds one count for every sample.
        valid = valid.expand(total.shape)
        per_sample = divide_with_policy(total, valid, "zero")
        nonempty_samples = (valid > 0).sum()
        return as_dtype(divide_with_policy(per_sample.sum(), nonempty_samples, empty), out_dtype)
    if reduction == "sum":
        result = total
    else:
        result = divide_with_policy(total, valid if count is None else count, empty)
    return as_dtype(result.reshape(reduced_shape(shape, dims, keepdim)), out_dtype)


def check_reduction_options(
    shape: torch.Size,
    dim: Dim,
    *,
    count: torch.Tensor | float | None,
    empty: str,
    average: str,
) -> tuple[int, ...]:
    """Validate the options shared by masked means and losses; return the reduced dims."""
    check_choice("empty", empty, EMPTY_POLICIES)
    check_choice("average", average, AVERAGES)
    if average == "sample":
        if dim is not None:
            raise ValueError("average='sample' reduces over every dimension but 0; do not pass dim")
        if count is not None:
            raise ValueError(
                "count= divides a global sum; it cannot be combined with average='sample'"
            )
        if len(shape) == 0:
            raise ValueError(
                "average='sample' needs input with a sample dimension (dim 0), got a 0-d tensor"
            )
        return tuple(range(1, len(shape)))
    return normalize_dims(dim, len(shape))


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

    Masked-out entries are *selected away* with ``torch.where`` before any
    arithmetic, so a NaN or inf in the padding reaches neither the result nor
    the gradient (multiplying by a 0/1 mask would give ``nan * 0 = nan``).
    Accumulates in at least float32; returns ``values.dtype``.

    Args:
        values: tensor to reduce.
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
    check_mask(mask, values.shape)
    if weight is not None:
        check_weight(weight, values.shape)
    check_same_device(values=values, mask=mask, weight=weight)
    dims = normalize_dims(dim, values.dim())
    bool_mask = as_bool_mask(mask)
    w = masked_weight(bool_mask, weight, accumulation_dtype(values.dtype))
    total = _masked_total(values, bool_mask, w, dims)
    return as_dtype(total.reshape(reduced_shape(values.shape, dims, keepdim)), values.dtype)


def _masked_total(
    values: torch.Tensor,
    bool_mask: torch.Tensor,
    masked_w: torch.Tensor | None,
    dims: tuple[int, ...],
) -> torch.Tensor:
    """Sum over ``dims`` (kept) of the selected values, times the already-masked weights."""
    selected = torch.where(bool_mask, as_dtype(values, accumulation_dtype(values.dtype)), 0)
    if masked_w is not None:
        selected = selected * masked_w
    return selected.sum(dims, keepdim=True) if dims else selected


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
        values: tensor to reduce.
        mask: bool or 0/1 integer tensor broadcastable to ``values``.
        weight: optional non-negative float tensor broadcastable to ``values``.
        dim: dimension(s) to average over; ``None`` averages all. With ``dim``
            the result holds one mean per remaining index (e.g. per sequence).
        keepdim: keep reduced dimensions with size 1.
        count: divide the masked sum by this instead of the local count, e.g.
            the global number of valid elements across micro-batches or ranks
            (see :mod:`masked_loss.distributed`).
        empty: value where nothing is valid: ``'zero'`` (default; value and
            gradient exactly 0) or ``'nan'`` (PyTorch's convention for an
            empty mean).
        average: ``'element'`` (default) averages all valid elements together
            (a token mean); ``'sample'`` takes one mean per sample along
            dimension 0 and averages those over the samples that have any
            valid element.
        check_values: also assert, without a host sync, that the mask holds
            only 0/1 and the weights are non-negative.

    Returns:
        The masked mean, in ``values.dtype``.

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
    check_mask(mask, values.shape)
    if weight is not None:
        check_weight(weight, values.shape)
    check_same_device(values=values, mask=mask, weight=weight)
    dims = check_reduction_options(values.shape, dim, count=count, empty=empty, average=average)
    if check_values:
        assert_valid_values(mask, weight)
    bool_mask = as_bool_mask(mask)
    w = masked_weight(bool_mask, weight, accumulation_dtype(values.dtype))
    total = _masked_total(values, bool_mask, w, dims)
    valid = sum_as_if_expanded(bool_mask if w is None else w, values.shape, dims)
    return finish_reduction(
        total,
        valid,
        values.shape,
        dims,
        reduction="mean",
        keepdim=keepdim,
        count=count,
        empty=empty,
        average=average,
        out_dtype=values.dtype,
    )
