"""Hypothesis strategies: shapes up to 4-D and masks/weights that broadcast to them."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)


@st.composite
def broadcast_shape(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts to ``shape`` without enlarging it."""
    dropped = draw(st.integers(0, len(shape)))
    return tuple(draw(st.sampled_from([1, s])) for s in shape[dropped:])


@st.composite
def masks(draw: st.DrawFn, shape: tuple[int, ...]) -> torch.Tensor:
    mask_shape = draw(broadcast_shape(shape))
    n = 1
    for s in mask_shape:
        n *= s
    # Corners on purpose: all masked, all valid, and random in between.
    kind = draw(st.sampled_from(["random", "random", "random", "none", "all"]))
    if kind == "none":
        values = [False] * n
    elif kind == "all":
        values = [True] * n
    else:
        values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    mask = torch.tensor(values, dtype=torch.bool).reshape(mask_shape)
    as_int = draw(st.booleans())
    return mask.to(torch.int64) if as_int else mask


@st.composite
def weights(draw: st.DrawFn, shape: tuple[int, ...]) -> torch.Tensor | None:
    if not draw(st.booleans()):
        return None
    weight_shape = draw(broadcast_shape(shape))
    seed = draw(st.integers(0, 2**16))
    generator = torch.Generator().manual_seed(seed)
    weight = torch.rand(weight_shape, generator=generator, dtype=torch.float64)
    # Exact zeros matter: a weight of 0 on a valid element must not count.
    return torch.where(weight < 0.2, 0.0, weight)


@st.composite
def dims(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    chosen = draw(st.sets(st.integers(0, len(shape) - 1)))
    return tuple(sorted(chosen)) if chosen else None
