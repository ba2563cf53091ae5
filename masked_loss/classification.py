"""Masked classification losses: cross-entropy and binary cross-entropy with logits.

A masked classification loss is the same four steps as a masked regression
loss (:mod:`masked_loss.reductions`), with one difference that matters:
the selection must happen *before* the softmax or sigmoid. A zeroed logit is
not "no loss": it costs :math:`\\log C` under cross-entropy and
:math:`\\log 2` under binary cross-entropy, and a NaN logit in a padded row
makes the softmax's backward pass NaN even when the gradient arriving from
above is exactly 0. So the logits of masked positions are replaced by 0
(:func:`~masked_loss.select_valid`) before the softmax, the per-element
losses of masked positions are selected away after it, and the count is
that of the valid elements (or of their weights).

Everything is made of ordinary differentiable PyTorch operations
(``torch.where`` for the selection, ``log_softmax``, ``nll_loss``,
``binary_cross_entropy_with_logits``), on every device and under every
transform, so ``torch.func``, forward-mode AD, double backward,
``torch.export`` and ``torch.compile(fullgraph=True)`` compose by
construction, and nothing reads a value on the host. The logits are always
selected, whether or not a masked row holds NaN or inf: that costs one pass
over the logits forward and one backward (``make bench``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from masked_loss._checks import (
    Average,
    EmptyPolicy,
    Reduction,
    check_broadcastable,
    check_dense,
    check_mask,
    is_real_number,
    normalize_dims,
)
from masked_loss.losses import MaskedLossModule
from masked_loss.reductions import (
    Dim,
    accumulation_dtype,
    as_bool_mask,
    check_masked_arguments,
    finish_reduction,
    reduce_selected,
)

#: The target given to ``nll_loss`` at masked positions, with ``ignore_index``
#: set to it. No class index can take this value, so a ``-100`` at a *valid*
#: position is still an out-of-range label (an error), as in ``F.cross_entropy``
#: without ``ignore_index``.
IGNORED = torch.iinfo(torch.int64).min


def _check_common(
    input: torch.Tensor,
    loss_shape: torch.Size,
    mask: torch.Tensor,
    reduction: str,
    *,
    weight: torch.Tensor | None,
    dim: Dim,
    keepdim: bool,
    count: torch.Tensor | float | None,
    empty: str,
    average: str,
    check_values: bool,
    **others: torch.Tensor | None,
) -> tuple[int, ...]:
    """The checks every loss here shares; returns the reduced dimensions of the loss."""
    return check_masked_arguments(loss_shape, mask, reduction, weight=weight, dim=dim,
                                  keepdim=keepdim, count=count, empty=empty, average=average,
                                  check_values=check_values, input=input,
                                  **others)  # fmt: skip


def _check_logits(input: object) -> None:
    if not isinstance(input, torch.Tensor):
        raise TypeError(f"input must be a torch.Tensor, got {type(input).__name__}")
    check_dense("input", input)
    if not input.is_floating_point():
        raise TypeError(f"input must be floating-point logits, got dtype {input.dtype}")


def _reduce(
    per_element: torch.Tensor,
    counted: torch.Tensor,
    *,
    dims: tuple[int, ...],
    reduction: str,
    keepdim: bool,
    count: torch.Tensor | float | None,
    empty: EmptyPolicy,
    average: Average,
    out_dtype: torch.dtype,
) -> torch.Tensor:
    """Sum, count and divide per-element losses that are exactly 0 where masked.

    ``counted`` is what the mean divides by, broadcastable to the loss: the
    bool mask, or the valid weights (0 where masked).
    """
    if reduction == "none":
        return per_element.to(out_dtype)
    acc = accumulation_dtype(per_element.dtype)
    if len(dims) == per_element.dim():
        total = per_element.sum(dtype=acc)
    elif dims:
        total = per_element.sum(dims, keepdim=True, dtype=acc)
    else:
        total = per_element.to(acc)
    return finish_reduction(total, counted, per_element.shape, dims=dims, reduction=reduction,
                            keepdim=keepdim, count=count, empty=empty, average=average,
                            out_dtype=out_dtype)  # fmt: skip


def _valid_float(values: torch.Tensor, bool_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``values`` broadcast with the mask, in ``dtype``, exactly 0 where masked."""
    shape = torch.broadcast_shapes(values.shape, bool_mask.shape)
    return torch.where(bool_mask, values.to(dtype).expand(shape), 0)


def _class_dim_mask(bool_mask: torch.Tensor, loss_dim: int, class_dim: int) -> torch.Tensor:
    """The loss-shaped mask with a size-1 class dimension, to broadcast over the logits."""
    full = bool_mask.reshape((1,) * (loss_dim - bool_mask.dim()) + tuple(bool_mask.shape))
    return full.unsqueeze(class_dim)


def _check_class_weight(class_weight: torch.Tensor | None, classes: int) -> None:
    if class_weight is None:
        return
    if not isinstance(class_weight, torch.Tensor):
        raise TypeError(f"class_weight must be a torch.Tensor, got {type(class_weight).__name__}")
    if not class_weight.is_floating_point():
        raise TypeError(
            f"class_weight must be a floating-point tensor, got dtype {class_weight.dtype}"
        )
    if tuple(class_weight.shape) != (classes,):
        raise ValueError(
            f"class_weight must have shape ({classes},), one weight per class, "
            f"got {tuple(class_weight.shape)}"
        )


def _check_label_smoothing(label_smoothing: float) -> None:
    if not is_real_number(label_smoothing):
        raise TypeError(f"label_smoothing must be a number, got {type(label_smoothing).__name__}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")


def _ce_shapes(input: torch.Tensor, target: torch.Tensor) -> tuple[int, torch.Size, bool]:
    """(class dimension, loss shape, soft targets?) for ``F.cross_entropy``'s layout."""
    _check_logits(input)
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    if input.dim() == 0:
        raise ValueError("input must have a class dimension: (C,), (N, C) or (N, C, d1, ...)")
    class_dim = 0 if input.dim() == 1 else 1
    loss_shape = input.shape[:class_dim] + input.shape[class_dim + 1 :]
    if target.is_floating_point():
        if target.shape != input.shape:
            raise ValueError(
                "class-probability targets must have the input's shape "
                f"{tuple(input.shape)}, got {tuple(target.shape)}"
            )
        return class_dim, loss_shape, True
    if target.dtype == torch.bool or target.is_complex():
        raise TypeError(
            f"target must hold class indices (an integer tensor) or class probabilities "
            f"(a float tensor), got dtype {target.dtype}"
        )
    if target.shape != loss_shape:
        raise ValueError(
            f"class-index targets must have shape {tuple(loss_shape)} (the input "
            f"{tuple(input.shape)} without its class dimension {class_dim}), "
            f"got {tuple(target.shape)}"
        )
    return class_dim, loss_shape, False


def masked_cross_entropy(
    input: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    *,
    reduction: Reduction = "mean",
    weight: torch.Tensor | None = None,
    class_weight: torch.Tensor | None = None,
    label_smoothing: float = 0.0,
    count: torch.Tensor | float | None = None,
    average: Average = "element",
    empty: EmptyPolicy = "zero",
    dim: Dim = None,
    keepdim: bool = False,
    check_values: bool = False,
) -> torch.Tensor:
    r"""Cross-entropy over the valid elements only, in ``F.cross_entropy``'s layout.

    With class-index targets :math:`t_i`, class weights :math:`c` and
    per-element weights :math:`w`,

    .. math::
        \ell_i = -c_{t_i} \log p_{i,t_i}, \qquad
        \ell = \frac{\sum_i m_i \, w_i \, \ell_i}{\sum_i m_i \, w_i \, c_{t_i}},

    where :math:`p_i = \operatorname{softmax}(x_i)` over the class dimension.
    This is ``F.cross_entropy(input, target.masked_fill(~mask, -100),
    ignore_index=-100)`` for one batch, including its denominator (the
    summed class weights of the valid elements), and it stays right where
    ``ignore_index`` does not reach: class-probability targets, a
    per-element ``weight``, and a ``count=`` shared by micro-batches or
    data-parallel ranks. With ``label_smoothing`` :math:`\varepsilon` the
    loss of an element is :math:`(1-\varepsilon)\,\ell_i +
    \frac{\varepsilon}{C}\sum_k -c_k \log p_{i,k}` and the denominator is
    unchanged, as in PyTorch. With class-probability targets :math:`q`,
    :math:`\ell_i = -\sum_k c_k q_{i,k} \log p_{i,k}` and the mean divides by
    the number of valid elements (or their weights), as ``F.cross_entropy``
    divides by the batch size.

    Masked positions are selected away before the softmax: any label there
    is accepted (``-100``, an id out of range), and NaN or inf logits there
    give a finite loss and exactly 0 gradient.

    Args:
        input: logits, ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: class indices shaped like the loss, ``()``, ``(N,)`` or
            ``(N, d1, ...)`` (any integer dtype), or class probabilities
            shaped like ``input`` (float).
        mask: bool or 0/1 integer tensor broadcastable to the loss shape
            (``input``'s shape without the class dimension) without
            enlarging it; ``True``/1 marks an element that counts.
        reduction: ``'mean'``, ``'sum'`` or ``'none'`` (per element, exactly
            0 where masked).
        weight: optional non-negative float per-element weight,
            broadcastable to the loss shape; it multiplies the loss and the
            denominator. Never read where masked.
        class_weight: ``F.cross_entropy``'s ``weight``: a float tensor of
            shape ``(C,)``.
        label_smoothing: in ``[0, 1]``, as in ``F.cross_entropy``.
        count: ``'mean'`` only: divide by this instead of the local
            denominator, e.g. the global number of valid tokens across
            micro-batches or ranks (:func:`~masked_loss.count_valid`,
            :func:`~masked_loss.ddp_normalizer`). With ``class_weight`` the
            local denominator is the valid class-weight sum
            (:func:`class_weight_count`); pass the global sum of that.
        average: ``'element'`` (a token mean) or ``'sample'`` (mean of
            per-sample means along dimension 0).
        empty: ``'zero'`` (default: 0, with 0 gradient, when nothing is
            valid) or ``'nan'`` (what ``F.cross_entropy`` returns when every
            target is ignored).
        dim: dimension(s) of the loss to reduce; ``None`` reduces all.
        keepdim: keep reduced dimensions with size 1.
        check_values: also assert, without a host sync, that the mask holds
            only 0/1 and the weights are finite and non-negative where valid.

    Returns:
        The loss in ``input``'s dtype (promoted with ``weight``'s).

    Raises:
        ValueError: for shapes that do not match ``F.cross_entropy``'s
            layout, a mask that does not broadcast, or an option that does
            not apply to the reduction.
        TypeError: for non-float logits, a bool or complex target, or a
            float mask.

    Example:
        >>> logits = torch.tensor([[2.0, 0.0, 0.0], [float("nan"), 0.0, 1.0]])
        >>> target = torch.tensor([0, -100])
        >>> mask = torch.tensor([True, False])
        >>> masked_cross_entropy(logits, target, mask)
        tensor(0.2395)
        >>> naive_masked_cross_entropy(logits, target, mask)  # NaN row, label 0
        tensor(nan)
    """
    class_dim, loss_shape, soft = _ce_shapes(input, target)
    classes = input.shape[class_dim]
    _check_class_weight(class_weight, classes)
    _check_label_smoothing(label_smoothing)
    dims = _check_common(input, loss_shape, mask, reduction, weight=weight, dim=dim,
                         keepdim=keepdim, count=count, empty=empty, average=average,
                         check_values=check_values, target=target,
                         class_weight=class_weight)  # fmt: skip
    out_dtype = input.dtype if weight is None else torch.promote_types(input.dtype, weight.dtype)
    bool_mask = as_bool_mask(mask)
    logit_mask = _class_dim_mask(bool_mask, len(loss_shape), class_dim)
    options = {"dims": dims, "reduction": reduction, "keepdim": keepdim, "count": count,
               "empty": empty, "average": average, "out_dtype": out_dtype}  # fmt: skip
    if class_weight is not None:
        class_weight = class_weight.to(input.device, input.dtype)
    if soft:
        return _soft_cross_entropy(input, target, bool_mask, logit_mask, class_dim, weight,
                                   class_weight, label_smoothing, options)  # fmt: skip

    indices = target if target.dtype == torch.int64 else target.to(torch.int64)
    ignored = torch.where(bool_mask, indices, IGNORED)
    # Selected before the softmax: a masked row of NaN or inf would otherwise
    # reach the softmax's backward pass, even with ignore_index on its target.
    log_probs = F.log_softmax(torch.where(logit_mask, input, 0), class_dim)

    whole = average == "element" and reduction != "none" and len(dims) == len(loss_shape)
    wide = log_probs.dtype == accumulation_dtype(log_probs.dtype)
    if weight is None and label_smoothing == 0 and whole and wide:
        # One fused sum, as F.cross_entropy(reduction='sum') computes it; a
        # bfloat16 or float16 sum goes through _reduce, in float32, instead.
        total = F.nll_loss(log_probs, ignored, weight=class_weight, ignore_index=IGNORED,
                           reduction="sum")  # fmt: skip
        counted = _class_weight_counted(bool_mask, indices, class_weight, weight, input.dtype)
        return finish_reduction(total, counted, loss_shape, **options)
    per_element = F.nll_loss(log_probs, ignored, weight=class_weight, ignore_index=IGNORED,
                             reduction="none")  # fmt: skip
    if label_smoothing > 0:
        weighted = log_probs
        if class_weight is not None:
            weighted = log_probs * _along(class_weight, input, class_dim)
        smooth = torch.where(bool_mask, -weighted.sum(class_dim), 0)
        per_element = (1 - label_smoothing) * per_element + (label_smoothing / classes) * smooth
    if weight is not None:
        per_element = torch.where(bool_mask, per_element * weight.to(per_element.device), 0)
    counted = _class_weight_counted(bool_mask, indices, class_weight, weight, input.dtype)
    return _reduce(per_element, counted, **options)


def _along(vector: torch.Tensor, input: torch.Tensor, class_dim: int) -> torch.Tensor:
    """A ``(C,)`` vector shaped to broadcast along ``input``'s class dimension."""
    return vector.reshape((-1,) + (1,) * (input.dim() - class_dim - 1))


def _class_weight_counted(
    bool_mask: torch.Tensor,
    indices: torch.Tensor,
    class_weight: torch.Tensor | None,
    weight: torch.Tensor | None,
    dtype: torch.dtype,
) -> torch.Tensor:
    """What the mean divides by: :math:`m_i w_i c_{t_i}`, 0 where masked."""
    if class_weight is None and weight is None:
        return bool_mask
    acc = accumulation_dtype(dtype if weight is None else torch.promote_types(dtype, weight.dtype))
    counted = None
    if class_weight is not None:
        # Any label is allowed where masked: look up class 0 there, then select.
        safe = torch.where(bool_mask, indices, 0)
        counted = class_weight.to(acc)[safe]
    if weight is not None:
        weight = weight.to(bool_mask.device, acc)
        counted = weight if counted is None else counted * weight
    assert counted is not None
    return _valid_float(counted, bool_mask, acc)


def class_weight_count(
    target: torch.Tensor,
    mask: torch.Tensor,
    class_weight: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    dim: Dim = None,
    keepdim: bool = False,
) -> torch.Tensor:
    r"""The denominator of :func:`~masked_loss.masked_cross_entropy` with ``class_weight``.

    :math:`\sum_i m_i w_i c_{t_i}`: the summed class weights (times the
    per-element weights) of the valid targets.

    The class-weighted counterpart of :func:`~masked_loss.count_valid`: sum
    it over micro-batches, or pass it to :func:`~masked_loss.ddp_normalizer`,
    and give the result as ``count=``. Labels at masked positions are never
    looked up.

    Example:
        >>> class_weight_count(torch.tensor([0, 2, -100]), torch.tensor([1, 1, 0]),
        ...                    torch.tensor([0.5, 1.0, 2.0]))
        tensor(2.5000)
    """
    check_mask(mask, target.shape)
    _check_class_weight(class_weight, class_weight.shape[0] if class_weight.dim() == 1 else -1)
    dims = normalize_dims(dim, target.dim())
    bool_mask = as_bool_mask(mask)
    counted = _class_weight_counted(bool_mask, target.to(torch.int64), class_weight, weight,
                                    class_weight.dtype)  # fmt: skip
    if counted.shape != target.shape:
        counted = counted.expand(target.shape)
    return counted.sum(dims, keepdim=keepdim) if dims else counted


def _soft_cross_entropy(
    input: torch.Tensor,
    target: torch.Tensor,
    bool_mask: torch.Tensor,
    logit_mask: torch.Tensor,
    class_dim: int,
    weight: torch.Tensor | None,
    class_weight: torch.Tensor | None,
    label_smoothing: float,
    options: dict[str, Any],
) -> torch.Tensor:
    classes = input.shape[class_dim]
    log_probs = F.log_softmax(torch.where(logit_mask, input, 0), class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    # Targets are selected too: a NaN probability in the padding must not reach the sum.
    products = log_probs * torch.where(logit_mask, target.to(log_probs.dtype), 0)
    if class_weight is not None:
        products = products * _along(class_weight, input, class_dim)
    per_element = -products.sum(class_dim)  # exactly 0 where masked
    counted: torch.Tensor = bool_mask
    if weight is not None:
        acc = accumulation_dtype(torch.promote_types(input.dtype, weight.dtype))
        per_element = torch.where(bool_mask, per_element * weight.to(per_element.device), 0)
        counted = _valid_float(weight.to(bool_mask.device), bool_mask, acc)
    return _reduce(per_element, counted, **options)


def masked_binary_cross_entropy_with_logits(
    input: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    *,
    reduction: Reduction = "mean",
    weight: torch.Tensor | None = None,
    pos_weight: torch.Tensor | None = None,
    count: torch.Tensor | float | None = None,
    average: Average = "element",
    empty: EmptyPolicy = "zero",
    dim: Dim = None,
    keepdim: bool = False,
    check_values: bool = False,
) -> torch.Tensor:
    r"""Binary cross-entropy with logits over the valid elements only.

    .. math::
        \ell_i = -\bigl[\rho_i\, y_i \log \sigma(x_i) + (1 - y_i) \log(1 - \sigma(x_i))\bigr],
        \qquad \ell = \frac{\sum_i m_i w_i \ell_i}{\sum_i m_i w_i},

    with :math:`\rho` the optional ``pos_weight``. ``F.binary_cross_entropy_with_logits``
    has no ``ignore_index``; its usual masked form, the loss of
    ``input * mask`` against ``target * mask``, charges every masked
    element :math:`\log 2` and divides by all of them
    (:func:`naive_masked_binary_cross_entropy_with_logits`). Here the logits
    and targets of masked elements are selected away first, so NaN or inf
    there (a missing label stored as NaN) gives a finite loss and exactly 0
    gradient.

    Args:
        input: logits, any shape.
        target: probabilities in ``[0, 1]``, the same shape as ``input``.
        mask: bool or 0/1 integer tensor broadcastable to ``input``.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        weight: optional non-negative float per-element weight,
            broadcastable to ``input`` (``F.binary_cross_entropy_with_logits``'s
            ``weight``, which also enters the denominator here).
        pos_weight: weight of the positive term, broadcastable to ``input``
            (e.g. one per class along the last dimension), as in PyTorch.
        count, average, empty, dim, keepdim, check_values: as in
            :func:`~masked_loss.masked_cross_entropy`.

    Returns:
        The loss in ``input``'s dtype (promoted with ``weight``'s).

    Example:
        >>> logits = torch.tensor([[3.0, -1.0], [0.5, float("nan")]])
        >>> labels = torch.tensor([[1.0, 0.0], [1.0, float("nan")]])
        >>> known = ~labels.isnan()
        >>> masked_binary_cross_entropy_with_logits(logits, labels, known)
        tensor(0.2786)
    """
    _check_logits(input)
    if not isinstance(target, torch.Tensor) or not target.is_floating_point():
        raise TypeError(
            "target must be a floating-point tensor of probabilities, got "
            + (
                f"dtype {target.dtype}"
                if isinstance(target, torch.Tensor)
                else type(target).__name__
            )  # fmt: skip
        )
    if target.shape != input.shape:
        raise ValueError(
            f"input and target must have the same shape, got input {tuple(input.shape)} "
            f"and target {tuple(target.shape)}"
        )
    if pos_weight is not None:
        if not isinstance(pos_weight, torch.Tensor) or not pos_weight.is_floating_point():
            raise TypeError("pos_weight must be a floating-point tensor")
        check_broadcastable("pos_weight", pos_weight, input.shape)
    dims = _check_common(input, input.shape, mask, reduction, weight=weight, dim=dim,
                         keepdim=keepdim, count=count, empty=empty, average=average,
                         check_values=check_values, target=target,
                         pos_weight=pos_weight)  # fmt: skip
    out_dtype = input.dtype if weight is None else torch.promote_types(input.dtype, weight.dtype)
    bool_mask = as_bool_mask(mask)
    logits = torch.where(bool_mask, input, 0)
    targets = torch.where(bool_mask, target.to(input.dtype), 0)
    # A selected element has logit 0 and target 0: loss log 2, selected away below.
    losses = F.binary_cross_entropy_with_logits(logits, targets, pos_weight=pos_weight,
                                                reduction="none")  # fmt: skip
    return reduce_selected(torch.where(bool_mask, losses, 0), bool_mask, weight=weight, dims=dims,
                           reduction=reduction, keepdim=keepdim, count=count, empty=empty,
                           average=average, out_dtype=out_dtype)  # fmt: skip


def naive_masked_cross_entropy(
    input: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""The **wrong** masked cross-entropy: ``F.cross_entropy(input * mask, target * mask)``.

    Kept for teaching; do not train with it. A masked element keeps a
    zeroed logit row and class 0, whose loss is :math:`\log C`, not 0, and
    ``'mean'`` divides by all :math:`N` elements, so with a valid fraction
    :math:`f`

    .. math::
        \ell_\text{naive} = f\,\ell_\text{correct} + (1 - f)\log C .

    Its gradient at valid elements is :math:`f` times the correct one, and a
    NaN logit in the padding makes everything NaN (``nan * 0 = nan``).

    Example:
        >>> logits = torch.tensor([[2.0, 0.0, 0.0], [1.0, 0.0, 3.0]])
        >>> labels, mask = torch.tensor([0, 2]), torch.tensor([1, 0])
        >>> naive_masked_cross_entropy(logits, labels, mask)
        tensor(0.6691)
    """
    class_dim, loss_shape, soft = _ce_shapes(input, target)
    m = mask.reshape((1,) * (len(loss_shape) - mask.dim()) + tuple(mask.shape))
    logit_mask = m.unsqueeze(class_dim)
    return F.cross_entropy(input * logit_mask, target * (logit_mask if soft else m),
                           reduction=reduction)  # fmt: skip


def naive_masked_binary_cross_entropy_with_logits(
    input: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""The **wrong** masked BCE: the loss of ``input * mask`` against ``target * mask``.

    That is, ``F.binary_cross_entropy_with_logits(input * mask, target * mask)``.

    Kept for teaching. A masked element has logit 0 and target 0, whose loss
    is :math:`\log 2`, so ``'mean'`` returns
    :math:`f\,\ell_\text{correct} + (1 - f)\log 2`, and ``'sum'`` is off by
    :math:`(N - k)\log 2`.

    Example:
        >>> logits, labels = torch.tensor([4.0, 1.0]), torch.tensor([1.0, 1.0])
        >>> naive_masked_binary_cross_entropy_with_logits(
        ...     logits, labels, torch.tensor([1, 0]))
        tensor(0.3556)
    """
    return F.binary_cross_entropy_with_logits(input * mask, target * mask, reduction=reduction)


class MaskedCrossEntropyLoss(MaskedLossModule):
    """Module form of :func:`~masked_loss.masked_cross_entropy`; options are fixed at construction.

    ``class_weight`` is a buffer (it moves with ``.to()``), as
    ``nn.CrossEntropyLoss``'s ``weight``. ``forward(input, target, mask, *,
    weight=None, count=None)`` equals ``masked_cross_entropy(input, target,
    mask, weight=weight, count=count, **options)``.

    Example:
        >>> loss_fn = MaskedCrossEntropyLoss(label_smoothing=0.1)
        >>> loss_fn(torch.zeros(2, 4), torch.tensor([1, -100]), torch.tensor([1, 0]))
        tensor(1.3863)
    """

    class_weight: torch.Tensor | None
    _DEFAULTS = {**MaskedLossModule._DEFAULTS, "label_smoothing": 0.0}

    def __init__(
        self,
        reduction: Reduction = "mean",
        *,
        class_weight: torch.Tensor | None = None,
        label_smoothing: float = 0.0,
        **options: Any,
    ) -> None:
        super().__init__(reduction, **options)
        if class_weight is not None:
            _check_class_weight(class_weight, class_weight.numel())
        _check_label_smoothing(label_smoothing)
        self.register_buffer("class_weight", class_weight)
        self.label_smoothing = label_smoothing

    def forward(
        self,
        input: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        *,
        weight: torch.Tensor | None = None,
        count: torch.Tensor | float | None = None,
    ) -> torch.Tensor:
        return masked_cross_entropy(
            input, target, mask, weight=weight, count=count, class_weight=self.class_weight,
            label_smoothing=self.label_smoothing, **self._options(),
        )  # fmt: skip


class MaskedBCEWithLogitsLoss(MaskedLossModule):
    """Module form of :func:`masked_binary_cross_entropy_with_logits`.

    ``pos_weight`` is a buffer, as in ``nn.BCEWithLogitsLoss``.

    Example:
        >>> loss_fn = MaskedBCEWithLogitsLoss()
        >>> logits, labels = torch.tensor([0.0, 9.0]), torch.tensor([1.0, 0.0])
        >>> loss_fn(logits, labels, torch.tensor([1, 0]))
        tensor(0.6931)
    """

    pos_weight: torch.Tensor | None

    def __init__(
        self, reduction: Reduction = "mean", *, pos_weight: torch.Tensor | None = None,
        **options: Any,
    ) -> None:  # fmt: skip
        super().__init__(reduction, **options)
        if pos_weight is not None and (
            not isinstance(pos_weight, torch.Tensor) or not pos_weight.is_floating_point()
        ):
            raise TypeError("pos_weight must be a floating-point tensor")
        self.register_buffer("pos_weight", pos_weight)

    def forward(
        self,
        input: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        *,
        weight: torch.Tensor | None = None,
        count: torch.Tensor | float | None = None,
    ) -> torch.Tensor:
        return masked_binary_cross_entropy_with_logits(
            input, target, mask, weight=weight, count=count, pos_weight=self.pos_weight,
            **self._options(),
        )  # fmt: skip
