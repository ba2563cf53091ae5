"""Behaviour of the masked losses against an independent float64 reference."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from reference import reference_loss
from strategies import dims, masks, shapes, weights

import masked_loss as ml

LOSSES = {
    "mse": ml.masked_mse_loss,
    "l1": ml.masked_l1_loss,
    "huber": ml.masked_huber_loss,
}
MODULES = {"mse": ml.MaskedMSELoss, "l1": ml.MaskedL1Loss, "huber": ml.MaskedHuberLoss}
REDUCTIONS = ["mean", "sum", "none"]


def tutorial_example():
    """The tutorial's 2x3 example; the correct masked mean is 1.0."""
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = torch.tensor([[2.0, 3.0, 4.0], [3.0, 4.0, 5.0]])
    m = torch.tensor([[1, 0, 1], [0, 1, 1]])
    return x, y, m


@st.composite
def cases(draw):
    shape = draw(shapes)
    seed = draw(st.integers(0, 2**16))
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=generator, dtype=torch.float64) * 3
    y = torch.randn(shape, generator=generator, dtype=torch.float64) * 3
    reduction = draw(st.sampled_from(REDUCTIONS))
    mean = reduction == "mean"
    # Only the options that apply to the reduction: the others raise (tested in test_errors).
    average = draw(st.sampled_from(["element", "element", "sample"])) if mean else "element"
    return {
        "kind": draw(st.sampled_from(sorted(LOSSES))),
        "x": x,
        "y": y,
        "mask": draw(masks(shape)),
        "weight": draw(weights(shape)),
        "reduction": reduction,
        "dim": draw(dims(shape)) if reduction != "none" and average == "element" else None,
        "empty": draw(st.sampled_from(["zero", "nan"])) if mean else "zero",
        "average": average,
    }


def run_both(case, dtype=torch.float64, requires_grad=False):
    kwargs = {
        "weight": case["weight"],
        "dim": case["dim"],
        "empty": case["empty"],
        "average": case["average"],
    }
    x = case["x"].detach().clone().to(dtype).requires_grad_(requires_grad)
    x_ref = case["x"].detach().clone().requires_grad_(requires_grad)
    weight = None if case["weight"] is None else case["weight"].to(dtype)
    ours = LOSSES[case["kind"]](
        x, case["y"].to(dtype), case["mask"], case["reduction"], **{**kwargs, "weight": weight}
    )
    ref = reference_loss(case["kind"], x_ref, case["y"], case["mask"], case["reduction"], **kwargs)
    return ours, ref, x, x_ref


@given(cases())
def test_matches_float64_reference(case):
    ours, ref, _, _ = run_both(case)
    assert ours.dtype == torch.float64
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref, equal_nan=True)


@given(cases())
def test_float32_matches_reference(case):
    ours, ref, _, _ = run_both(case, dtype=torch.float32)
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours.double(), ref, equal_nan=True, rtol=1e-5, atol=1e-5)


@given(cases())
def test_gradient_matches_reference(case):
    case = {**case, "empty": "zero"}
    ours, ref, x, x_ref = run_both(case, requires_grad=True)
    # A fixed random upstream gradient exercises every output element.
    upstream = torch.randn(ours.shape, generator=torch.Generator().manual_seed(1), dtype=ours.dtype)
    (ours * upstream).sum().backward()
    (ref * upstream).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_tutorial_numbers():
    x, y, m = tutorial_example()
    assert ml.masked_mse_loss(x, y, m).item() == pytest.approx(1.0)
    assert ml.masked_mse_loss(x, y, m, "sum").item() == pytest.approx(4.0)
    assert ml.naive_masked_mse_loss(x, y, m).item() == pytest.approx(4 / 6)
    assert ml.naive_masked_mse_loss(x, y, m, "sum").item() == pytest.approx(4.0)
    torch.testing.assert_close(
        ml.naive_masked_mse_loss(x, y, m, "none"), torch.tensor([[1.0, 0, 1], [0, 1, 1]])
    )
    torch.testing.assert_close(ml.masked_mse_loss(x, y, m, "none"), m.float())


@given(cases())
def test_naive_is_k_over_n_times_correct(case):
    mask = case["mask"]
    x, y = case["x"], case["y"]
    if mask.shape != x.shape:
        mask = mask.expand(x.shape).contiguous()
    k = mask.sum()
    naive = ml.naive_masked_mse_loss(x, y, mask)
    correct = ml.masked_mse_loss(x, y, mask)
    torch.testing.assert_close(naive, k / x.numel() * correct)


@given(cases())
def test_naive_gradient_is_k_over_n_times_correct(case):
    x, y, mask = case["x"], case["y"], case["mask"]
    x_naive = x.clone().requires_grad_()
    x_correct = x.clone().requires_grad_()
    ml.naive_masked_mse_loss(x_naive, y, mask).backward()
    ml.masked_mse_loss(x_correct, y, mask).backward()
    k = ml.count_valid(mask, x.shape)
    torch.testing.assert_close(x_naive.grad, k / x.numel() * x_correct.grad)


@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_unmasked_equals_torch_loss(kind):
    x, y = torch.randn(4, 5, 6), torch.randn(4, 5, 6)
    mask = torch.ones(4, 5, 6, dtype=torch.bool)
    torch_loss = {"mse": F.mse_loss, "l1": F.l1_loss, "huber": F.huber_loss}[kind]
    for reduction in REDUCTIONS:
        torch.testing.assert_close(
            LOSSES[kind](x, y, mask, reduction), torch_loss(x, y, reduction=reduction)
        )


def test_huber_delta_matches_torch():
    x, y = torch.randn(50) * 4, torch.randn(50)
    mask = torch.rand(50) < 0.5
    ours = ml.masked_huber_loss(x, y, mask, "sum", delta=2.5)
    expected = F.huber_loss(x[mask], y[mask], reduction="sum", delta=2.5)
    torch.testing.assert_close(ours, expected)


def test_weight_matches_torch_weighted_mse():
    # F.mse_loss(weight=) (PyTorch >= 2.6) divides by sum(weight); with a 0/1
    # mask folded into the weight it must agree with ours.
    x, y = torch.randn(3, 4), torch.randn(3, 4)
    weight = torch.rand(3, 4)
    mask = torch.rand(3, 4) < 0.6
    expected = F.mse_loss(x, y, weight=weight * mask)
    torch.testing.assert_close(ml.masked_mse_loss(x, y, mask, weight=weight), expected)


def test_broadcast_mask_counts_after_broadcasting():
    x = torch.zeros(2, 3, 4)
    y = torch.ones(2, 3, 4)
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]]).unsqueeze(-1)  # 3 valid steps x D=4
    assert ml.count_valid(mask, x.shape).item() == 12
    assert ml.masked_mse_loss(x, y, mask, "sum").item() == 12
    assert ml.masked_mse_loss(x, y, mask).item() == 1.0


def test_fractional_weights_are_not_clamped():
    # sum(w) = 0.5 < 1: clamping the denominator to >= 1 would give 0.5, not 1.
    x, y = torch.tensor([1.0, 1.0]), torch.zeros(2)
    weight = torch.tensor([0.25, 0.25])
    mask = torch.tensor([True, True])
    assert ml.masked_mse_loss(x, y, mask, weight=weight).item() == pytest.approx(1.0)


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nan_and_inf_in_padding_reach_neither_loss_nor_gradient(kind, reduction):
    x = torch.tensor([[1.0, float("nan"), 3.0], [float("inf"), 5.0, -float("inf")]])
    y = torch.tensor([[2.0, float("nan"), 4.0], [3.0, float("inf"), 5.0]])
    mask = torch.tensor([[1, 0, 1], [0, 0, 0]])
    x.requires_grad_()
    y.requires_grad_()
    loss = LOSSES[kind](x, y, mask, reduction)
    assert torch.isfinite(loss).all()
    loss.sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(y.grad).all()
    assert (x.grad[~mask.bool()] == 0).all()
    assert (y.grad[~mask.bool()] == 0).all()


def test_naive_is_poisoned_by_nan_padding():
    x = torch.tensor([1.0, float("nan")], requires_grad=True)
    loss = ml.naive_masked_mse_loss(x, torch.zeros(2), torch.tensor([1, 0]))
    assert torch.isnan(loss)


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_all_masked_is_zero_with_zero_finite_gradient(kind, reduction):
    x = torch.randn(3, 4, requires_grad=True)
    mask = torch.zeros(3, 4, dtype=torch.bool)
    loss = LOSSES[kind](x, torch.randn(3, 4), mask, reduction)
    assert loss.item() == 0.0
    loss.backward()
    assert (x.grad == 0).all()


def test_all_masked_nan_policy():
    x = torch.randn(3, 4)
    mask = torch.zeros(3, 4, dtype=torch.bool)
    assert torch.isnan(ml.masked_mse_loss(x, x, mask, empty="nan"))
    per_row = ml.masked_mse_loss(
        x, x + 1, mask.index_fill(0, torch.tensor([1]), True), dim=1, empty="nan"
    )
    assert torch.isnan(per_row[0]) and per_row[1] == 1.0 and torch.isnan(per_row[2])
    # 'sum' of nothing is 0; a policy for it would be ignored, so it is refused.
    assert ml.masked_mse_loss(x, x, mask, "sum").item() == 0.0
    with pytest.raises(ValueError, match="empty only applies to reduction='mean'"):
        ml.masked_mse_loss(x, x, mask, "sum", empty="nan")


def test_sample_average_skips_empty_samples():
    # Lengths 1 and 9 with summed losses 2 and 90 (the torchtitan example):
    # per-sample mean 6.0, token mean 9.2; an empty third sample changes nothing.
    x = torch.zeros(3, 9)
    y = torch.zeros(3, 9)
    mask = torch.zeros(3, 9, dtype=torch.bool)
    mask[0, 0] = True
    mask[1] = True
    y[0, 0] = 2**0.5
    y[1] = 10**0.5
    assert ml.masked_mse_loss(x, y, mask, "sum").item() == pytest.approx(92.0)
    assert ml.masked_mse_loss(x, y, mask).item() == pytest.approx(9.2)
    assert ml.masked_mse_loss(x, y, mask, average="sample").item() == pytest.approx(6.0)
    per_sample = ml.masked_mse_loss(x, y, mask, dim=1)
    torch.testing.assert_close(per_sample, torch.tensor([2.0, 10.0, 0.0]))


def test_external_count_divides_the_sum():
    x, y, m = tutorial_example()
    assert ml.masked_mse_loss(x, y, m, count=8).item() == pytest.approx(0.5)
    assert ml.masked_mse_loss(x, y, m, count=torch.tensor(2)).item() == pytest.approx(2.0)
    assert ml.masked_mse_loss(x, y, m, count=2.5).item() == pytest.approx(1.6)
    # A global count of 0 means no rank has a valid element: 0, with a 0 gradient.
    x.requires_grad_()
    nothing = torch.zeros_like(m)
    for count in (0, 0.0, torch.tensor(0)):
        loss = ml.masked_mse_loss(x, y, nothing, count=count)
        assert loss.item() == 0.0
        (grad,) = torch.autograd.grad(loss, x)
        assert (grad == 0).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_low_precision_accumulates_in_float32(dtype):
    # 4096 equal terms: a float16/bfloat16 running sum would lose them.
    n = 4096
    x = torch.full((n,), 1.0, dtype=dtype, requires_grad=True)
    y = torch.full((n,), 1.0 + 2**-4, dtype=dtype)
    mask = torch.ones(n, dtype=torch.bool)
    loss = ml.masked_mse_loss(x, y, mask, "sum")
    assert loss.dtype == dtype
    expected = n * 2.0**-8
    assert loss.double().item() == pytest.approx(expected, rel=1e-2)
    loss.backward()
    assert x.grad.dtype == dtype


def test_mixed_dtypes_promote_like_torch():
    x = torch.randn(5, dtype=torch.float32)
    y = torch.randn(5, dtype=torch.float64)
    mask = torch.ones(5, dtype=torch.bool)
    assert ml.masked_mse_loss(x, y, mask).dtype == F.mse_loss(x, y).dtype == torch.float64


def test_count_is_integer_exact():
    mask = torch.ones(2**13, 1, dtype=torch.bool)
    count = ml.count_valid(mask, (2**13, 2**12))
    assert count.dtype == torch.int64
    assert count.item() == 2**25  # 2**25 + 1 would not be representable in float32


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_float64(kind, reduction):
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    y = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    weight = torch.rand(1, 4, dtype=torch.float64)
    mask = torch.tensor([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 0, 1]])
    fn = LOSSES[kind]
    assert torch.autograd.gradcheck(lambda a, b: fn(a, b, mask, reduction, weight=weight), (x, y))
    if reduction != "none":
        assert torch.autograd.gradcheck(lambda a, b: fn(a, b, mask, reduction, dim=1), (x, y))


def test_gradcheck_through_weight():
    x = torch.randn(3, 4, dtype=torch.float64)
    y = torch.randn(3, 4, dtype=torch.float64)
    weight = torch.rand(3, 1, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[1, 0, 1, 1], [0, 1, 0, 0], [1, 1, 0, 1]])
    assert torch.autograd.gradcheck(lambda w: ml.masked_mse_loss(x, y, mask, weight=w), (weight,))


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_module_equals_functional(kind, reduction):
    x, y = torch.randn(2, 5, 3), torch.randn(2, 5, 3)
    mask = torch.rand(2, 5, 1) < 0.5
    weight = torch.rand(2, 5, 3)
    options = {"empty": "nan"} if reduction == "mean" else {}
    module = MODULES[kind](reduction, **options)
    expected = LOSSES[kind](x, y, mask, reduction, weight=weight, **options)
    torch.testing.assert_close(module(x, y, mask, weight=weight), expected, equal_nan=True)
    if reduction != "none":
        per_step = MODULES[kind](reduction, dim=2, keepdim=True)
        torch.testing.assert_close(
            per_step(x, y, mask), LOSSES[kind](x, y, mask, reduction, dim=2, keepdim=True)
        )
        count = ml.count_valid(mask, x.shape, dim=2, keepdim=True)
        torch.testing.assert_close(
            MODULES[kind]("mean", dim=2, keepdim=True)(x, y, mask, count=count),
            LOSSES[kind](x, y, mask, dim=2, keepdim=True, count=count),
        )


def test_module_repr_and_huber_delta():
    module = ml.MaskedHuberLoss("sum", delta=0.5)
    assert "reduction='sum'" in repr(module)
    x, y, m = tutorial_example()
    torch.testing.assert_close(module(x, y, m), ml.masked_huber_loss(x, y, m, "sum", delta=0.5))
