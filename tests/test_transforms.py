"""One property test for every path: each transform gives the float64 reference's answer.

Hypothesis draws the function (each loss, ``masked_mean``, ``masked_sum``), the
shapes, a broadcast mask, a weight, the options (reduction, ``dim``,
``keepdim``, ``average``, ``count``, ``empty``, Huber's ``delta``) and one
transform: eager, ``vmap`` over each argument in turn, ``torch.func.grad``
with respect to each differentiable argument, batched gradients
(``is_grads_batched``), forward-mode AD, forward-over-reverse (a
Hessian-vector product) and ``torch.compile(fullgraph=True)``. The expected
answer is always computed from the independent boolean-indexing reference in
``reference.py``, with ordinary autograd and loops, never from the package.
"""

from __future__ import annotations

import math

import torch
import torch.autograd.forward_ad as fwAD
from hypothesis import given
from hypothesis import strategies as st
from reference import reference_loss
from strategies import broadcast_shape, masks, shapes
from torch.func import grad, vmap

import masked_loss as ml

F64 = torch.float64
KINDS = ("mse", "l1", "huber", "mean", "sum")
TRANSFORMS = (
    "eager",
    "vmap-input",
    "vmap-target",
    "vmap-mask",
    "vmap-weight",
    "vmap-count",
    "grad-input",
    "grad-target",
    "grad-weight",
    "grad-count",
    "grads-batched",
    "forward-ad",
    "forward-over-reverse",
    "compile",
)
BATCH = 2


def package_call(kind, x, y, m, w, count, options):
    """The function under test; ``masked_mean``/``masked_sum`` reduce ``x - y``."""
    if kind == "mean":
        return ml.masked_mean(x - y, m, weight=w, count=count, **options)
    if kind == "sum":
        return ml.masked_sum(x - y, m, weight=w, **options)
    loss = {"mse": ml.masked_mse_loss, "l1": ml.masked_l1_loss, "huber": ml.masked_huber_loss}
    return loss[kind](x, y, m, weight=w, count=count, **options)


def reference_call(kind, x, y, m, w, count, options):
    """The same quantity from the float64 reference (differentiable, not vmappable)."""
    options = dict(options)
    reduction = "sum" if kind == "sum" else options.pop("reduction", "mean")
    keepdim = options.pop("keepdim", False)
    dim = options.pop("dim", None)
    dims = None if dim is None else tuple(sorted(d % x.dim() for d in dim))
    empty = options.get("empty", "zero")
    name = "values" if kind in ("mean", "sum") else kind
    common = {"weight": w, "dim": dims, "delta": options.get("delta", 1.0)}
    if count is None:
        out = reference_loss(name, x, y, m, reduction, empty=empty,
                             average=options.get("average", "element"), **common)  # fmt: skip
    else:
        total = reference_loss(name, x, y, m, "sum", **common)
        count = torch.as_tensor(count, dtype=F64)
        count = count.reshape(total.shape) if count.numel() == total.numel() else count
        count = count.expand(total.shape)
        fill = 0.0 if empty == "zero" else math.nan
        safe = torch.where(count != 0, count, 1.0)
        out = torch.where(count != 0, total / safe, fill)
    if keepdim and dims is not None:
        for d in dims:
            out = out.unsqueeze(d)
    return out


@st.composite
def cases(draw):
    kind = draw(st.sampled_from(KINDS))
    shape = draw(shapes)
    mask = draw(masks(shape)).bool()
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn(shape, generator=generator, dtype=F64)
    y = torch.randn(shape, generator=generator, dtype=F64)
    weight = None
    if draw(st.booleans()):
        weight = torch.rand(draw(broadcast_shape(shape)), generator=generator, dtype=F64) + 0.25
    options = {}
    reduction = "sum" if kind == "sum" else draw(st.sampled_from(["mean", "mean", "sum", "none"]))
    if kind not in ("mean", "sum"):
        options["reduction"] = reduction
        if kind == "huber":
            options["delta"] = draw(st.sampled_from([1.0, 0.5]))
    count = None
    if reduction != "none":
        average = "element"
        if reduction == "mean" and draw(st.integers(0, 4)) == 0:
            average = options["average"] = "sample"
        if average == "element" and draw(st.booleans()):
            dim = tuple(sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
            options["dim"] = dim
            options["keepdim"] = draw(st.booleans())
        if reduction == "mean":
            options["empty"] = draw(st.sampled_from(["zero", "nan"]))
            if average == "element" and draw(st.booleans()):
                reduced = options.get("dim", range(len(shape)))
                kept = [s for d, s in enumerate(shape) if d not in reduced]
                count = torch.rand(kept, generator=generator, dtype=F64) * 4
                count = torch.where(count < 0.5, 0.0, count)
                if options.get("keepdim"):
                    count = count.reshape(
                        [1 if d in options["dim"] else s for d, s in enumerate(shape)]
                    )
    transform = draw(st.sampled_from(TRANSFORMS))
    if transform.endswith("-weight") and weight is None:
        transform = "eager"
    if transform.endswith("-count") and count is None:
        transform = "eager"
    dtype = F64
    if transform == "eager" or transform.startswith("vmap-"):
        dtype = draw(st.sampled_from([F64, torch.float32, torch.bfloat16, torch.float16]))
    return kind, x, y, mask, weight, count, options, transform, dtype


# Each result is rounded once to its dtype; element-wise values (bf16, fp16 squares)
# once more before the float32 sum.
TOLERANCE = {F64: (1e-9, 1e-12), torch.float32: (1e-5, 1e-6), torch.bfloat16: (2e-2, 1e-2),
             torch.float16: (2e-3, 1e-3)}  # fmt: skip


def assert_close(actual, expected):
    rtol, atol = TOLERANCE[actual.dtype]
    torch.testing.assert_close(actual, expected.to(actual.dtype), rtol=rtol, atol=atol,
                               equal_nan=True)  # fmt: skip


def in_dtype(args, dtype):
    """The float arguments in ``dtype``; the reference then sees exactly these values."""
    return tuple(a.to(dtype) if a is not None and a.is_floating_point() else a for a in args)


def check_vmap(kind, args, options, position):
    """vmap over the argument at ``position`` equals a loop over the reference."""
    batched = list(args)
    arg = args[position]
    generator = torch.Generator().manual_seed(1)
    if arg.dtype == torch.bool:
        stack = torch.stack([arg, torch.rand(arg.shape, generator=generator) < 0.5])
    else:
        noise = torch.rand((BATCH, *arg.shape), generator=generator, dtype=F64).to(arg.dtype)
        stack = arg + noise if position < 2 else arg * (noise + 0.5)
    in_dims = [None] * 5
    in_dims[position] = 0

    def call(*a):
        return package_call(kind, *a, options)

    stack = stack.to(arg.dtype)
    got = vmap(call, in_dims=tuple(in_dims))(*args[:position], stack, *args[position + 1 :])
    for b in range(BATCH):
        batched[position] = stack[b]
        assert_close(got[b], reference_call(kind, *batched, options))


def scalarize(out, seed=2):
    """A fixed random linear functional of the output, so every output entry matters."""
    generator = torch.Generator().manual_seed(seed)
    weights = torch.rand(out.shape, generator=generator, dtype=out.dtype)
    return (torch.nan_to_num(out, nan=0.0) * weights).sum()


def check_grad(kind, args, options, position):
    def package_scalar(value):
        a = list(args)
        a[position] = value
        return scalarize(package_call(kind, *a, options))

    leaf = args[position].clone().requires_grad_()
    a = list(args)
    a[position] = leaf
    (expected,) = torch.autograd.grad(scalarize(reference_call(kind, *a, options)), leaf,
                                      allow_unused=True, materialize_grads=True)  # fmt: skip
    assert_close(grad(package_scalar)(args[position]), expected)


def check_grads_batched(kind, args, options):
    x = args[0].clone().requires_grad_()
    out = package_call(kind, x, *args[1:], options)
    generator = torch.Generator().manual_seed(3)
    vectors = torch.randn((BATCH, *out.shape), generator=generator, dtype=F64)
    (got,) = torch.autograd.grad(out, x, vectors, is_grads_batched=True, allow_unused=True,
                                 materialize_grads=True)  # fmt: skip
    ref_out = reference_call(kind, x, *args[1:], options)
    for b in range(BATCH):
        (expected,) = torch.autograd.grad(ref_out, x, vectors[b], retain_graph=True,
                                          allow_unused=True, materialize_grads=True)  # fmt: skip
        assert_close(got[b], expected)


def tangent_for(args):
    generator = torch.Generator().manual_seed(4)
    return torch.randn(args[0].shape, generator=generator, dtype=F64)


def check_forward_ad(kind, args, options):
    tangent = tangent_for(args)
    with fwAD.dual_level():
        dual = fwAD.make_dual(args[0], tangent)
        got = fwAD.unpack_dual(package_call(kind, dual, *args[1:], options)).tangent
    _, expected = torch.autograd.functional.jvp(
        lambda x: reference_call(kind, x, *args[1:], options), args[0], tangent
    )
    if got is None:  # an output that does not depend on the input
        got = torch.zeros_like(expected)
    assert_close(got, expected)


def check_forward_over_reverse(kind, args, options):
    tangent = tangent_for(args)
    with fwAD.dual_level():
        dual = fwAD.make_dual(args[0], tangent).requires_grad_()
        # make_dual of a leaf is a view; differentiate with respect to the dual itself.
        out = scalarize(package_call(kind, dual, *args[1:], options))
        (gradient,) = torch.autograd.grad(out, dual, create_graph=True, allow_unused=True,
                                          materialize_grads=True)  # fmt: skip
        got = fwAD.unpack_dual(gradient).tangent
    _, expected = torch.autograd.functional.hvp(
        lambda x: scalarize(reference_call(kind, x, *args[1:], options)), args[0], tangent
    )
    if got is None:
        got = torch.zeros_like(expected)
    assert_close(got, expected)


def check_compile(kind, args, options):
    torch._dynamo.reset()
    compiled = torch.compile(
        lambda *a: package_call(kind, *a, options), fullgraph=True, backend="aot_eager"
    )
    x = args[0].clone().requires_grad_()
    out = compiled(x, *args[1:])
    assert_close(out, reference_call(kind, *args, options))
    (got,) = torch.autograd.grad(scalarize(out), x, allow_unused=True, materialize_grads=True)
    leaf = args[0].clone().requires_grad_()
    (expected,) = torch.autograd.grad(
        scalarize(reference_call(kind, leaf, *args[1:], options)), leaf,
        allow_unused=True, materialize_grads=True,
    )  # fmt: skip
    assert_close(got, expected)


@given(cases())
def test_every_transform_gives_the_reference_answer(case):
    kind, x, y, mask, weight, count, options, transform, dtype = case
    args = in_dtype((x, y, mask, weight, count), dtype)
    if transform == "eager":
        assert_close(package_call(kind, *args, options), reference_call(kind, *args, options))
    elif transform.startswith("vmap-"):
        position = ("input", "target", "mask", "weight", "count").index(transform[5:])
        check_vmap(kind, args, options, position)
    elif transform.startswith("grad-"):
        position = ("input", "target", "mask", "weight", "count").index(transform[5:])
        check_grad(kind, args, options, position)
    elif transform == "grads-batched":
        check_grads_batched(kind, args, options)
    elif transform == "forward-ad":
        check_forward_ad(kind, args, options)
    elif transform == "forward-over-reverse":
        check_forward_over_reverse(kind, args, options)
    else:
        check_compile(kind, args, options)
