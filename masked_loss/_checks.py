"""Argument checks shared by every public function.

Every check here looks only at shapes, dtypes and devices, never at values, so
none of them synchronises with the device or breaks a ``torch.compile`` graph.
Value checks (mask entries other than 0/1, negative weights) are opt-in and
asynchronous: see :func:`check_values`.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Sequence
from typing import Any, Literal

import torch

Reduction = Literal["mean", "sum", "none"]
EmptyPolicy = Literal["zero", "nan"]
Average = Literal["element", "sample"]

REDUCTIONS: tuple[str, ...] = ("mean", "sum", "none")
EMPTY_POLICIES: tuple[str, ...] = ("zero", "nan")
AVERAGES: tuple[str, ...] = ("element", "sample")


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}={value!r} is not supported; valid values are {valid}")


def check_same_device(**tensors: torch.Tensor | None) -> None:
    """All tensors on one device; a 0-d CPU tensor may go with any device, as in torch."""
    present = {name: t for name, t in tensors.items() if t is not None}
    first = next(iter(present.values())).device
    if all(t.device == first for t in present.values()):
        return
    devices = {t.device for t in present.values() if not (t.dim() == 0 and t.device.type == "cpu")}
    if len(devices) > 1:
        listed = ", ".join(f"{name} on {t.device}" for name, t in present.items())
        raise ValueError(f"all tensors must be on the same device, got {listed}")


def _broadcasts_without_enlarging(small: torch.Size, big: torch.Size) -> bool:
    if len(small) > len(big):
        return False
    return all(s in (1, b) for s, b in zip(reversed(small), reversed(big), strict=False))


def check_broadcastable(
    name: str, tensor: torch.Tensor, shape: torch.Size, what: str = "the input shape"
) -> None:
    """``tensor`` must broadcast to ``shape`` (``what``) without enlarging it."""
    if _broadcasts_without_enlarging(tensor.shape, shape):
        return
    message = (
        f"{name} of shape {tuple(tensor.shape)} cannot be broadcast to {what} "
        f"{tuple(shape)} (broadcasting aligns trailing dimensions and may not enlarge "
        f"{what.removeprefix('the ').removesuffix(' shape')})"
    )
    leading = tuple(shape[: tensor.dim()])
    if tensor.dim() < len(shape) and tuple(tensor.shape) == leading:
        missing = len(shape) - tensor.dim()
        ones = ", ".join(["1"] * missing)
        fix = f"{name}.unsqueeze(-1)" if missing == 1 else f"{name}.reshape(*{name}.shape, {ones})"
        message += (
            f"; it matches the leading dimensions, so add trailing singleton dimensions: {fix}"
        )
    raise ValueError(message)


def check_dense(name: str, tensor: torch.Tensor) -> None:
    """Sparse and other non-strided layouts are refused by name, not deep inside an op."""
    if tensor.layout != torch.strided:
        raise TypeError(
            f"{name} must be a dense (strided) tensor, got layout {tensor.layout}; "
            f"convert it first, e.g. {name}.to_dense()"
        )


def check_shape(shape: object) -> torch.Size:
    """A shape argument: a sequence of non-negative ints (``torch.Size`` included)."""
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence):
        raise TypeError(f"shape must be a sequence of ints, got {shape!r}")
    try:
        sizes = tuple(operator.index(s) for s in shape)
    except TypeError:
        raise TypeError(f"shape must be a sequence of ints, got {shape!r}") from None
    if any(s < 0 for s in sizes):
        raise ValueError(f"shape must have non-negative sizes, got {sizes}")
    return torch.Size(sizes)


def check_mask(mask: torch.Tensor, shape: torch.Size) -> None:
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be a torch.Tensor, got {type(mask).__name__}")
    check_dense("mask", mask)
    if mask.is_floating_point() or mask.is_complex():
        raise TypeError(
            f"mask must be bool or an integer 0/1 tensor, got dtype {mask.dtype}; "
            "for fractional per-element importance pass it as weight= instead"
        )
    check_broadcastable("mask", mask, shape)


def check_weight(weight: torch.Tensor, shape: torch.Size) -> None:
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor, got {type(weight).__name__}")
    check_dense("weight", weight)
    if not weight.is_floating_point():
        raise TypeError(f"weight must be a floating-point tensor, got dtype {weight.dtype}")
    check_broadcastable("weight", weight, shape)


def check_values_tensor(values: torch.Tensor) -> None:
    """Values to reduce must be real floating point: integers would be summed inexactly.

    A float32 sum rounds 16777217 to 16777216 and an 8-bit one wraps, so
    integer, bool and complex values are refused rather than summed wrongly.
    """
    if not isinstance(values, torch.Tensor):
        raise TypeError(f"values must be a torch.Tensor, got {type(values).__name__}")
    check_dense("values", values)
    if not values.is_floating_point():
        raise TypeError(
            f"values must be a real floating-point tensor, got dtype {values.dtype}; "
            "convert it first, e.g. values.double() for exact integer sums"
        )


def check_input_target(input: torch.Tensor, target: torch.Tensor) -> None:
    for name, t in (("input", input), ("target", target)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        check_dense(name, t)
        if not t.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    if input.shape != target.shape:
        raise ValueError(
            f"input and target must have the same shape, got input {tuple(input.shape)} "
            f"and target {tuple(target.shape)} (F.mse_loss would only warn and broadcast)"
        )


def _as_dim_tuple(dim: Any) -> tuple[int, ...]:
    """``dim`` as a tuple of Python ints; accepts any integer type (e.g. ``numpy.int64``)."""
    try:
        return (operator.index(dim),)
    except TypeError:
        pass
    if isinstance(dim, (str, bytes)) or not isinstance(dim, Sequence):
        raise TypeError(f"dim must be an int, a sequence of ints or None, got {dim!r}")
    try:
        return tuple(operator.index(d) for d in dim)
    except TypeError:
        raise TypeError(f"dim must be an int, a sequence of ints or None, got {dim!r}") from None


def normalize_dims(dim: Any, ndim: int) -> tuple[int, ...]:
    """Return the reduced dimensions as sorted non-negative ints (all when ``None``).

    As in ``torch.sum``, a 0-d tensor accepts ``dim=0`` and ``dim=-1``; it has
    nothing to reduce, so the result is ``()``.
    """
    if dim is None:
        return tuple(range(ndim))
    dims = _as_dim_tuple(dim)
    if not dims:
        raise ValueError("dim must name at least one dimension; pass dim=None to reduce all")
    bound = max(ndim, 1)
    for d in dims:
        if not -bound <= d < bound:
            raise IndexError(
                f"dim {d} is out of range for a tensor with {ndim} dimensions "
                f"(expected a dim in [{-bound}, {bound - 1}])"
            )
    normalized = [d % bound for d in dims]
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"dim {tuple(dims)} names a dimension more than once")
    return tuple(sorted(normalized)) if ndim else ()


def assert_valid_values(
    mask: torch.Tensor, weight: torch.Tensor | None, count: torch.Tensor | float | None = None
) -> None:
    """Assert the values of mask, weight and count are sensible, without a host sync.

    The mask must hold only 0/1; the weight must be finite and non-negative
    at valid positions (padding may hold anything, NaN included, since it is
    never read); a tensor ``count`` must be non-negative. ``torch._assert_async``
    queues each check on the device: on CUDA a failure surfaces at the next
    synchronisation as a device-side assertion; on the CPU it raises at once.
    """
    if mask.dtype != torch.bool:
        torch._assert_async(((mask == 0) | (mask == 1)).all(), "mask entries must be 0 or 1")
    if weight is not None:
        sensible = torch.where(mask != 0, (weight >= 0) & torch.isfinite(weight), True)
        torch._assert_async(
            sensible.all(), "weight entries at valid positions must be finite and non-negative"
        )
    if isinstance(count, torch.Tensor):
        torch._assert_async((count >= 0).all(), "count entries must be non-negative")


def is_real_number(value: object) -> bool:
    """A Python or NumPy int or float (``numpy.int64(4)``, ``numpy.float32(0.5)``); not a bool.

    Fractions and other exact rationals are refused: torch cannot divide by them.
    """
    if isinstance(value, bool):
        return False
    return isinstance(value, numbers.Integral) or (
        isinstance(value, numbers.Real) and not isinstance(value, numbers.Rational)
    )


def _check_count(count: object) -> None:
    if count is None:
        return
    if isinstance(count, torch.Tensor):
        if count.dtype == torch.bool or count.is_complex():
            raise TypeError(f"count must be a real number or tensor, got dtype {count.dtype}")
        return
    if not is_real_number(count):
        raise TypeError(f"count must be a number or a tensor, got {type(count).__name__}")
    if not count >= 0:  # also refuses NaN
        raise ValueError(f"count must be non-negative, got {count}")


def check_options(
    reduction: str,
    *,
    dim: Any,
    keepdim: Any,
    count: object,
    empty: str,
    average: str,
    check_values: Any,
) -> None:
    """Validate every option of a masked mean or loss; refuse those that would be ignored.

    Shared by the functional forms and the modules' constructors, so an
    option that does not apply to the chosen reduction is an error in both.
    """
    defaults = dim is None and count is None and keepdim is False and check_values is False
    if defaults and (reduction, empty, average) == ("mean", "zero", "element"):
        return  # the common call: nothing to check
    check_choice("reduction", reduction, REDUCTIONS)
    check_choice("empty", empty, EMPTY_POLICIES)
    check_choice("average", average, AVERAGES)
    for name, flag in (("keepdim", keepdim), ("check_values", check_values)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool, got {flag!r}")
    if dim is not None and not _as_dim_tuple(dim):
        raise ValueError("dim must name at least one dimension; pass dim=None to reduce all")
    _check_count(count)
    given = {
        "dim": dim is not None,
        "keepdim": keepdim,
        "count": count is not None,
        "empty": empty != "zero",
        "average": average != "element",
    }
    rules = (
        (
            reduction == "none",
            ("dim", "keepdim", "count", "empty", "average"),
            "does not apply to reduction='none', which returns one loss per element; "
            "drop it or choose reduction='mean' or 'sum'",
        ),
        (
            reduction == "sum",
            ("count", "empty", "average"),
            "only applies to reduction='mean' (a sum has no denominator and an empty "
            "sum is 0); drop it or choose reduction='mean'",
        ),
        (
            average == "sample",
            ("dim", "keepdim", "count"),
            "cannot be combined with average='sample', which averages one mean per "
            "sample (dimension 0) into a scalar",
        ),
    )
    for applies, names, reason in rules:
        unused = [name for name in names if applies and given[name]]
        if unused:
            raise ValueError(f"{', '.join(unused)} {reason}")
