"""Argument checks shared by every public function.

Every check here looks only at shapes, dtypes and devices, never at values, so
none of them synchronises with the device or breaks a ``torch.compile`` graph.
Value checks (mask entries other than 0/1, negative weights) are opt-in and
asynchronous: see :func:`check_values`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

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
    present = {name: t for name, t in tensors.items() if t is not None}
    devices = {t.device for t in present.values()}
    if len(devices) > 1:
        listed = ", ".join(f"{name} on {t.device}" for name, t in present.items())
        raise ValueError(f"all tensors must be on the same device, got {listed}")


def _broadcasts_without_enlarging(small: torch.Size, big: torch.Size) -> bool:
    if len(small) > len(big):
        return False
    return all(s in (1, b) for s, b in zip(reversed(small), reversed(big), strict=False))


def check_broadcastable(name: str, tensor: torch.Tensor, shape: torch.Size) -> None:
    """``tensor`` must broadcast to ``shape`` without enlarging it."""
    if _broadcasts_without_enlarging(tensor.shape, shape):
        return
    message = (
        f"{name} of shape {tuple(tensor.shape)} cannot be broadcast to the input shape "
        f"{tuple(shape)} (broadcasting aligns trailing dimensions and may not enlarge "
        "the input)"
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


def check_mask(mask: torch.Tensor, shape: torch.Size) -> None:
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be a torch.Tensor, got {type(mask).__name__}")
    if mask.is_floating_point() or mask.is_complex():
        raise TypeError(
            f"mask must be bool or an integer 0/1 tensor, got dtype {mask.dtype}; "
            "for fractional per-element importance pass it as weight= instead"
        )
    check_broadcastable("mask", mask, shape)


def check_weight(weight: torch.Tensor, shape: torch.Size) -> None:
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor, got {type(weight).__name__}")
    if not weight.is_floating_point():
        raise TypeError(f"weight must be a floating-point tensor, got dtype {weight.dtype}")
    check_broadcastable("weight", weight, shape)


def check_input_target(input: torch.Tensor, target: torch.Tensor) -> None:
    for name, t in (("input", input), ("target", target)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if not t.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    if input.shape != target.shape:
        raise ValueError(
            f"input and target must have the same shape, got input {tuple(input.shape)} "
            f"and target {tuple(target.shape)} (F.mse_loss would only warn and broadcast)"
        )


def normalize_dims(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """Return the reduced dimensions as sorted non-negative ints (all when ``None``)."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        raise ValueError("dim must name at least one dimension; pass dim=None to reduce all")
    normalized = []
    for d in dims:
        if not -ndim <= d < max(ndim, 1):
            raise IndexError(f"dim {d} is out of range for a tensor with {ndim} dimensions")
        normalized.append(d % ndim if ndim else 0)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"dim {tuple(dims)} names a dimension more than once")
    return tuple(sorted(normalized))


def assert_valid_values(mask: torch.Tensor, weight: torch.Tensor | None) -> None:
    """Assert mask entries are 0/1 and weights are non-negative, without a host sync.

    ``torch._assert_async`` queues the check on the device: on CUDA a failure
    surfaces at the next synchronisation as a device-side assertion; on the CPU
    it raises at once.
    """
    if mask.dtype != torch.bool:
        torch._assert_async(((mask == 0) | (mask == 1)).all(), "mask entries must be 0 or 1")
    if weight is not None:
        torch._assert_async((weight >= 0).all(), "weight entries must be non-negative")
