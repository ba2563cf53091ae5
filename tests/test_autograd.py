"""Every autograd feature, checked against the float64 boolean-index reference.

Second derivatives (gradgradcheck), ``torch.func`` (vmap, grad, jacrev, jvp),
forward-mode AD, ``torch.jit.trace`` and ``torch.export`` for every loss,
reduction and option, plus the guarantee that masked and empty positions
receive exactly 0 gradient whatever arrives from above.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.autograd.forward_ad as fwAD
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import reference_loss
from strategies import masks, shapes, weights
from torch.func import grad, jacrev, jvp, vmap

import masked_loss as ml

LOSSES = {"mse": ml.masked_mse_loss, "l1": ml.masked_l1_loss, "huber": ml.masked_huber_loss}
MODULES = {"mse": ml.MaskedMSELoss, "l1": ml.MaskedL1Loss, "huber": ml.MaskedHuberLoss}

MASK = torch.tensor([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 0, 1]], dtype=torch.bool)
# Every option, with the reductions it applies to.
OPTIONS = {
    "plain": ({}, ("mean", "sum", "none")),
    "weight": ({"weight": "row"}, ("mean", "sum", "none")),
    "weight-enlarged": ({"weight": "col"}, ("mean", "sum", "none")),
    "dim": ({"dim": 1}, ("mean", "sum")),
    "dim-keepdim": ({"dim": 0, "keepdim": True}, ("mean", "sum")),
    "sample": ({"average": "sample"}, ("mean",)),
    "count": ({"count": 5.0}, ("mean",)),
    "count-tensor": ({"count": "per-row"}, ("mean",)),
    "empty-nan": ({"empty": "nan", "dim": 0}, ("mean",)),
}
CASES = [
    (kind, reduction, name)
    for kind in sorted(LOSSES)
    for name, (_, reductions) in OPTIONS.items()
    for reduction in reductions
]


def make_options(name, dtype=torch.float64, mask=MASK):
    options = dict(OPTIONS[name][0])
    if options.get("weight") == "row":
        options["weight"] = torch.rand(3, 1, dtype=dtype) + 0.5
    elif options.get("weight") == "col":
        # (4,) under a (3, 1) mask: the mask enlarges the weight.
        options["weight"] = torch.rand(4, dtype=dtype) + 0.5
    if options.get("count") == "per-row":
        options = {**options, "dim": 1, "count": torch.tensor([3.0, 2.0, 4.0], dtype=dtype)}
    return options


def away_from_kinks(y):
    """An input whose differences from ``y`` avoid 0 (L1) and Huber's delta=1.

    Finite differences straddling a kink would disagree with the derivative.
    """
    distance = torch.rand_like(y) * 0.5 + 0.25 + (torch.rand_like(y) < 0.5) * 1.5
    sign = torch.where(torch.rand_like(y) < 0.5, -1.0, 1.0).to(y.dtype)
    return y + sign * distance


@pytest.mark.parametrize(("kind", "reduction", "name"), CASES)
def test_gradcheck_and_gradgradcheck(kind, reduction, name):
    y = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    x = away_from_kinks(y.detach()).requires_grad_()
    options = make_options(name)
    fn = LOSSES[kind]

    def loss(a, b):
        return fn(a, b, MASK, reduction, **options)

    assert torch.autograd.gradcheck(loss, (x, y))
    assert torch.autograd.gradgradcheck(loss, (x, y))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_gradgradcheck_through_weight(kind, reduction):
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    y = away_from_kinks(x.detach())
    for weight in (torch.rand(3, 1, dtype=torch.float64), torch.rand(4, dtype=torch.float64)):
        weight = (weight + 0.5).requires_grad_()

        def loss(a, w):
            return LOSSES[kind](a, y, MASK, reduction, weight=w)

        assert torch.autograd.gradcheck(loss, (x, weight))
        assert torch.autograd.gradgradcheck(loss, (x, weight))


@pytest.mark.parametrize("name", ["plain", "weight", "dim", "sample", "count", "empty-nan"])
def test_reductions_gradgradcheck(name):
    values = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    options = make_options(name)
    assert torch.autograd.gradgradcheck(lambda v: ml.masked_mean(v, MASK, **options), (values,))
    sum_options = {k: v for k, v in options.items() if k in ("weight", "dim", "keepdim")}
    assert torch.autograd.gradgradcheck(lambda v: ml.masked_sum(v, MASK, **sum_options), (values,))


@pytest.mark.parametrize("kind", ["mse", "huber"])
def test_hessian_equals_reference(kind):
    x = torch.randn(5, dtype=torch.float64)
    # Two valid differences inside Huber's quadratic zone, one outside.
    y = x + torch.tensor([0.3, 5.0, -0.4, 2.0, 1.0], dtype=torch.float64)
    mask = torch.tensor([True, False, True, True, False])
    ours = torch.autograd.functional.hessian(lambda a: LOSSES[kind](a, y, mask), x)
    ref = torch.autograd.functional.hessian(lambda a: reference_loss(kind, a, y, mask), x)
    torch.testing.assert_close(ours, ref)
    assert ours.abs().sum() > 0


@st.composite
def batched_cases(draw):
    shape = draw(shapes)
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    batch = draw(st.integers(1, 3))
    x = torch.randn((batch, *shape), generator=generator, dtype=torch.float64)
    y = torch.randn((batch, *shape), generator=generator, dtype=torch.float64)
    mask = torch.stack([draw(masks(shape)).bool().expand(shape) for _ in range(batch)])
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    options = {}
    if reduction == "mean":
        options["empty"] = draw(st.sampled_from(["zero", "nan"]))
        if draw(st.booleans()):
            options["average"] = "sample"
    weight = draw(weights(shape))
    if weight is not None:
        options["weight"] = weight
    return draw(st.sampled_from(sorted(LOSSES))), x, y, mask, reduction, options


@settings(max_examples=60)
@given(batched_cases())
def test_vmap_equals_loop(case):
    kind, x, y, mask, reduction, options = case

    def loss(a, b, m):
        return LOSSES[kind](a, b, m, reduction, **options)

    batched = vmap(loss)(x, y, mask)
    looped = torch.stack([loss(a, b, m) for a, b, m in zip(x, y, mask, strict=True)])
    torch.testing.assert_close(batched, looped, equal_nan=True)


@settings(max_examples=60)
@given(batched_cases())
def test_func_grad_jacrev_jvp_and_forward_ad_match_autograd(case):
    kind, x, y, mask, reduction, options = case
    x, y, mask = x[0], y[0], mask[0]
    x = away_from_kinks(y)

    def loss(a):
        return LOSSES[kind](a, y, mask, reduction, **options).sum()

    leaf = x.clone().requires_grad_()
    (expected,) = torch.autograd.grad(loss(leaf), leaf)
    torch.testing.assert_close(grad(loss)(x), expected, equal_nan=True)
    torch.testing.assert_close(jacrev(loss)(x), expected, equal_nan=True)
    tangent = torch.randn_like(x)
    expected_jvp = (expected * tangent).sum()
    _, got_jvp = jvp(loss, (x,), (tangent,))
    torch.testing.assert_close(got_jvp, expected_jvp, equal_nan=True)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, tangent)
        got_forward = fwAD.unpack_dual(loss(dual)).tangent
    torch.testing.assert_close(got_forward, expected_jvp, equal_nan=True)


@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_jacrev_of_reference_matches_per_row(kind):
    x = torch.randn(3, 4, dtype=torch.float64)
    y = torch.randn(3, 4, dtype=torch.float64)
    ours = jacrev(lambda a: LOSSES[kind](a, y, MASK, dim=1))(x)
    ref = torch.autograd.functional.jacobian(
        lambda a: reference_loss(kind, a, y, MASK, dim=(1,)), x
    )
    torch.testing.assert_close(ours, ref)


MODULE_CASES = [
    (kind, reduction, options)
    for kind in sorted(MODULES)
    for reduction, options in (
        ("mean", {}),
        ("sum", {"dim": 1}),
        ("none", {}),
        ("mean", {"average": "sample", "empty": "nan"}),
    )
]


def module_inputs(seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 6, 3, generator=generator)
    y = torch.randn(4, 6, 3, generator=generator)
    mask = torch.rand(4, 6, 1, generator=generator) < 0.5
    return x, y, mask


@pytest.mark.parametrize(("kind", "reduction", "options"), MODULE_CASES)
def test_jit_trace_runs_and_matches(kind, reduction, options):
    module = MODULES[kind](reduction, **options)
    traced = torch.jit.trace(module, module_inputs(0))
    fresh = module_inputs(1)  # other values: the trace must not have baked them in
    torch.testing.assert_close(traced(*fresh), module(*fresh), equal_nan=True)


@pytest.mark.parametrize(("kind", "reduction", "options"), MODULE_CASES)
def test_export_runs_and_matches(kind, reduction, options):
    module = MODULES[kind](reduction, **options)
    exported = torch.export.export(module, module_inputs(0))
    fresh = module_inputs(1)
    torch.testing.assert_close(exported.module()(*fresh), module(*fresh), equal_nan=True)


UPSTREAM = {
    "inf": math.inf,
    "nan": math.nan,
}


@pytest.mark.parametrize("upstream", sorted(UPSTREAM))
@pytest.mark.parametrize("kind", [*sorted(LOSSES), "masked_mean"])
def test_masked_and_empty_positions_get_exact_zero_gradient(kind, upstream):
    # Row 1 is empty. The padding holds NaN and inf as well.
    x = torch.tensor([[1.0, math.nan, 3.0], [math.inf, -math.inf, math.nan], [4.0, 5.0, 6.0]])
    mask = torch.tensor([[1, 0, 1], [0, 0, 0], [1, 1, 0]], dtype=torch.bool)
    fill = UPSTREAM[upstream]
    for reduction, options in (("mean", {"dim": 1}), ("sum", {"dim": 1}), ("none", {})):
        for weight in (None, torch.tensor([2.0, math.nan, 1.0])):
            leaf = x.clone().requires_grad_()
            if kind == "masked_mean":
                if reduction != "mean":
                    continue
                out = ml.masked_mean(leaf, mask, weight=weight, **options)
            else:
                out = LOSSES[kind](leaf, torch.zeros(3, 3), mask, reduction, weight=weight,
                                   **options)  # fmt: skip
            out.backward(torch.full_like(out, fill))
            assert (leaf.grad[~mask] == 0).all(), (reduction, weight, leaf.grad)


@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_sqrt_of_empty_row_and_nansum_leave_padding_alone(kind):
    x = torch.randn(3, 4, requires_grad=True)
    mask = torch.tensor([[1, 1, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    rows = LOSSES[kind](x, torch.zeros(3, 4), mask, dim=1)
    rows.sqrt().sum().backward()  # sqrt has infinite slope at the empty row's 0
    assert torch.isfinite(x.grad).all()
    assert (x.grad[~mask] == 0).all()
    x.grad = None
    LOSSES[kind](x, torch.zeros(3, 4), mask, dim=1, empty="nan").nansum().backward()
    assert torch.isfinite(x.grad).all()
    assert (x.grad[~mask] == 0).all()
