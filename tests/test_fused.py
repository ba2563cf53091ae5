"""The fused CPU path of the losses equals their definition in plain operations.

On plain eager CPU tensors, a loss reduced over every dimension runs
``_FusedMaskedLoss``, a custom Function that works in place. Everywhere else
(``torch.func``, compile, tracing, GPUs, a weight that needs a derivative)
the same loss is plain differentiable operations. These tests force the plain
path and compare: values, gradients of input and target, gradients of
gradients (``create_graph=True``), forward-mode tangents, exact zeros at
masked positions whatever arrives from above, and what is saved for backward.
"""

from __future__ import annotations

import math
from unittest import mock

import pytest
import torch
import torch.autograd.forward_ad as fwAD
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import masks, shapes, weights

import masked_loss as ml
import masked_loss.losses as losses
from masked_loss.teaching.benchmark import saved_bytes

LOSSES = {"mse": ml.masked_mse_loss, "l1": ml.masked_l1_loss, "huber": ml.masked_huber_loss}
# Full reductions with every option that the fused path handles.
FULL_OPTIONS = [
    ("mean", {}),
    ("sum", {}),
    ("mean", {"keepdim": True, "dim": None}),
    ("mean", {"count": 7.0}),
    ("mean", {"empty": "nan"}),
]


def plain_operations():
    """Switch the fused path off: the losses run their plain-operation definition."""
    return mock.patch.object(losses, "_fused_loss_applies", lambda *args: False)


def on_both_paths(compute):
    """``compute()`` on the fused path, then on the plain operations."""
    fused = compute()
    with plain_operations():
        return fused, compute()


def graph_names(tensor):
    """Names of every node in the autograd graph behind ``tensor``."""
    names, stack, seen = set(), [tensor.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.add(type(node).__name__)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return names


def padded(shape, mask, dtype=torch.float64, seed=0):
    """Inputs whose masked positions hold NaN and inf, as padding may."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=generator, dtype=dtype)
    y = torch.randn(shape, generator=generator, dtype=dtype)
    invalid = ~mask.bool().expand(shape)
    x = torch.where(invalid, math.nan, x)
    y = torch.where(invalid, -math.inf, y)
    return x, y


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("weighted", [False, True])
def test_fused_path_is_taken_and_left(kind, weighted):
    x = torch.randn(4, 5, 3, requires_grad=True)
    mask = torch.rand(4, 5, 1) < 0.5
    weight = torch.rand(3) if weighted else None
    loss = LOSSES[kind](x, torch.zeros(4, 5, 3), mask, weight=weight)
    assert "_FusedMaskedLossBackward" in graph_names(loss)
    per_row = LOSSES[kind](x, torch.zeros(4, 5, 3), mask, weight=weight, dim=1)
    assert "_FusedMaskedLossBackward" not in graph_names(per_row)
    if weighted:
        needs_grad = torch.rand(3, requires_grad=True)
        loss = LOSSES[kind](x, torch.zeros(4, 5, 3), mask, weight=needs_grad)
        assert "_FusedMaskedLossBackward" not in graph_names(loss)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_fused_equals_plain_operations(data):
    shape = data.draw(shapes)
    mask = data.draw(masks(shape))
    weight = data.draw(weights(shape))
    kind = data.draw(st.sampled_from(sorted(LOSSES)))
    reduction, options = data.draw(st.sampled_from(FULL_OPTIONS))
    seed = data.draw(st.integers(0, 2**16))
    x, y = padded(shape, mask, seed=seed)
    if weight is not None:
        weight = torch.where(mask.bool(), weight, math.nan)  # NaN weight in the padding

    def run():
        leaf_x, leaf_y = x.clone().requires_grad_(), y.clone().requires_grad_()
        out = LOSSES[kind](leaf_x, leaf_y, mask, reduction, weight=weight, **options)
        return out, *torch.autograd.grad(out.sum(), (leaf_x, leaf_y))

    fused, expected = on_both_paths(run)
    # The values bit for bit; the gradients up to rounding.
    torch.testing.assert_close(fused[0], expected[0], equal_nan=True, rtol=0, atol=0)
    for got, want in zip(fused[1:], expected[1:], strict=True):
        torch.testing.assert_close(got, want, equal_nan=True)


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_fused_gradient_has_exact_derivatives(kind, weighted, reduction):
    """A gradient penalty and a Hessian-vector product, both paths."""
    mask = torch.tensor([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 0, 1]], dtype=torch.bool)
    x, y = padded((3, 4), mask, seed=1)
    # Row 1 is all padding: its NaN weight must not matter.
    weight = torch.tensor([[0.5], [math.nan], [2.0]], dtype=torch.float64) if weighted else None
    vector = torch.randn(3, 4, dtype=torch.float64)

    def derivatives():
        leaf_x, leaf_y = x.clone().requires_grad_(), y.clone().requires_grad_()
        loss = LOSSES[kind](leaf_x, leaf_y, mask, reduction, weight=weight)
        (g_x,) = torch.autograd.grad(loss, leaf_x, create_graph=True)
        assert g_x.requires_grad
        penalty = loss + g_x.pow(2).sum()
        penalized = torch.autograd.grad(penalty, (leaf_x, leaf_y), retain_graph=True)
        (hvp,) = torch.autograd.grad(g_x, leaf_x, vector, allow_unused=True)
        return (*penalized, torch.zeros_like(x) if hvp is None else hvp)

    fused, expected = on_both_paths(derivatives)
    for got, want in zip(fused, expected, strict=True):
        torch.testing.assert_close(got, want, equal_nan=True)
        assert (got[~mask] == 0).all()


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("tangents", ["input", "target", "both"])
def test_fused_forward_ad_matches_plain(kind, weighted, tangents):
    mask = torch.rand(3, 4, 1) < 0.6
    x, y = padded((3, 4, 2), mask, seed=2)
    weight = torch.rand(2, dtype=torch.float64) if weighted else None
    t_x = torch.randn(3, 4, 2, dtype=torch.float64)
    t_y = torch.randn(3, 4, 2, dtype=torch.float64)

    def tangent():
        with fwAD.dual_level():
            a = fwAD.make_dual(x, t_x) if tangents in ("input", "both") else x
            b = fwAD.make_dual(y, t_y) if tangents in ("target", "both") else y
            return fwAD.unpack_dual(LOSSES[kind](a, b, mask, weight=weight)).tangent

    got, expected = on_both_paths(tangent)
    torch.testing.assert_close(got, expected)
    assert torch.isfinite(got)


def test_dual_weight_takes_plain_operations_and_its_tangent_counts():
    mask = torch.tensor([[True, False], [True, True]])
    x = torch.tensor([[1.0, 5.0], [2.0, -1.0]], dtype=torch.float64)
    weight = torch.tensor([2.0, 3.0], dtype=torch.float64)
    weight_tangent = torch.tensor([1.0, 0.0], dtype=torch.float64)
    with fwAD.dual_level():
        dual = fwAD.make_dual(weight, weight_tangent)
        got = fwAD.unpack_dual(ml.masked_mse_loss(x, torch.zeros(2, 2), mask, weight=dual)).tangent

    def loss_of(w):
        return ml.masked_mse_loss(x, torch.zeros(2, 2), mask, weight=w)

    expected = torch.func.jvp(loss_of, (weight,), (weight_tangent,))[1]
    torch.testing.assert_close(got, expected)
    assert got != 0


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("upstream", [math.inf, math.nan])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_fused_masked_positions_get_exact_zero_whatever_arrives(kind, upstream, reduction):
    mask = torch.tensor([[1, 0, 1], [0, 0, 0], [1, 1, 0]], dtype=torch.bool)
    x, y = padded((3, 3), mask, dtype=torch.float32)
    for weight in (None, torch.tensor([2.0, math.nan, 1.0])):

        def grads(weight=weight):
            leaf_x, leaf_y = x.clone().requires_grad_(), y.clone().requires_grad_()
            out = LOSSES[kind](leaf_x, leaf_y, mask, reduction, weight=weight)
            out.backward(torch.tensor(upstream))
            return out, leaf_x.grad, leaf_y.grad

        out, *fused = grads()
        assert "_FusedMaskedLossBackward" in graph_names(out)
        with plain_operations():
            _, *expected = grads()
        for grad, want in zip(fused, expected, strict=True):
            assert (grad[~mask] == 0).all(), (weight, grad)
            torch.testing.assert_close(grad, want, equal_nan=True)  # inf or NaN where valid


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("weighted", [False, True])
def test_penalty_through_a_function_of_the_loss(kind, weighted):
    """The upstream gradient depends on the input (loss ** 2): padding stays out of it."""
    mask = torch.tensor([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 0, 1]], dtype=torch.bool)
    x, y = padded((3, 4), mask, seed=4)
    weight = torch.tensor([[0.5], [math.nan], [2.0]], dtype=torch.float64) if weighted else None

    def penalized():
        leaf = x.clone().requires_grad_()
        squared = LOSSES[kind](leaf, y, mask, weight=weight) ** 2
        (g,) = torch.autograd.grad(squared, leaf, create_graph=True)
        g.pow(2).sum().backward()
        return leaf.grad

    fused, expected = on_both_paths(penalized)
    assert torch.isfinite(fused).all() and (fused[~mask] == 0).all()
    torch.testing.assert_close(fused, expected)


@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_only_target_requires_grad(kind):
    mask = torch.tensor([True, False, True])
    x = torch.tensor([1.0, math.nan, -2.0])
    y = torch.tensor([0.5, 4.0, 3.0])

    def target_grad():
        leaf = y.clone().requires_grad_()
        LOSSES[kind](x, leaf, mask).backward()
        return leaf.grad

    got, expected = on_both_paths(target_grad)
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_fused_low_precision_matches_plain(kind, dtype):
    mask = torch.rand(6, 7, 1) < 0.5
    x, y = padded((6, 7, 5), mask, dtype=torch.float32, seed=3)
    x, y = x.to(dtype), y.to(dtype)

    def value_and_grad():
        leaf = x.clone().requires_grad_()
        out = LOSSES[kind](leaf, y, mask)
        out.backward()
        return out, leaf.grad

    got, expected = on_both_paths(value_and_grad)
    assert got[0].dtype == dtype and got[1].dtype == dtype
    torch.testing.assert_close(got[0], expected[0], rtol=0, atol=0)
    torch.testing.assert_close(got[1], expected[1], equal_nan=True)


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("weighted", [False, True])
def test_fused_saves_one_difference_and_never_the_inputs(kind, weighted):
    """The same bytes as the plain operations; the caller's tensors are not kept."""
    x = torch.randn(8, 16, 4, requires_grad=True)
    y = torch.randn(8, 16, 4)
    mask = torch.rand(8, 16, 1) < 0.5
    weight = torch.rand(4) if weighted else None
    stored = []

    def pack(tensor):
        stored.append(tensor.untyped_storage().data_ptr())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        LOSSES[kind](x, y, mask, weight=weight)
    assert x.untyped_storage().data_ptr() not in stored
    assert y.untyped_storage().data_ptr() not in stored
    fused, plain = on_both_paths(
        lambda: saved_bytes(lambda: LOSSES[kind](x, y, mask, weight=weight))
    )
    assert fused == plain == x.numel() * 4 + mask.numel() + (16 if weighted else 0)


@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_hooks_and_retain_grad_run_once_under_create_graph(kind):
    """A gradient penalty on a model output that has a hook and retains its grad."""

    def run():
        w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        prediction = w * 1.5
        calls = []
        prediction.register_hook(lambda g: calls.append(1) or g * 10)
        prediction.retain_grad()
        target = torch.tensor([0.5, 1.0, -1.0])
        loss = LOSSES[kind](prediction, target, torch.tensor([True, False, True]))
        (g,) = torch.autograd.grad(loss, w, create_graph=True)
        (loss + g.pow(2).sum()).backward()
        return w.grad, prediction.grad, len(calls)

    fused, expected = on_both_paths(run)
    torch.testing.assert_close(fused[:2], expected[:2])
    assert fused[2] == expected[2] == 2  # once per backward pass


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("made_in_inference_mode", ["target", "weight", "mask"])
def test_tensors_made_in_inference_mode(kind, made_in_inference_mode):
    """A frozen target network's output, or a weight or mask made under inference_mode."""
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    made = {
        "target": lambda: torch.randn(4, 3, dtype=torch.float64),
        "weight": lambda: torch.rand(4, 3, dtype=torch.float64),
        "mask": lambda: torch.rand(4, 3) < 0.5,
    }
    with torch.inference_mode():
        special = made[made_in_inference_mode]()
    tensors = {
        "target": torch.zeros(4, 3, dtype=torch.float64),
        "weight": None,
        "mask": torch.ones(4, 3, dtype=torch.bool),
    }
    tensors[made_in_inference_mode] = special

    def grad():
        x.grad = None
        LOSSES[kind](x, tensors["target"], tensors["mask"], weight=tensors["weight"]).backward()
        return x.grad

    fused, expected = on_both_paths(grad)
    torch.testing.assert_close(fused, expected)


@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_input_and_target_may_change_in_place_before_backward(kind):
    """The caller's input and target are not saved, as in the plain operations."""
    mask = torch.rand(4, 1) < 0.7

    def grad():
        x = torch.linspace(-2, 2, 12).reshape(4, 3).requires_grad_()
        prediction = x * 2
        target = torch.linspace(1, -1, 12).reshape(4, 3)
        loss = LOSSES[kind](prediction, target, mask)
        with torch.no_grad():
            target.add_(1.0)
            prediction.mul_(3.0)
        loss.backward()
        return x.grad

    fused, expected = on_both_paths(grad)
    torch.testing.assert_close(fused, expected)


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("weighted", [False, True])
def test_forward_over_reverse_without_create_graph(kind, weighted):
    """A dual input, then autograd.grad: tangents exact, and 0 at masked positions."""
    mask = torch.tensor([True, False, True, True])
    x0 = torch.tensor([1.0, math.nan, -2.0, 0.5], dtype=torch.float64)
    weight = torch.tensor([2.0, math.nan, 1.0, 0.5], dtype=torch.float64) if weighted else None
    tangent = torch.ones(4, dtype=torch.float64)

    def gradient_tangent(create_graph):
        leaf = x0.clone().requires_grad_()
        with fwAD.dual_level():
            loss = LOSSES[kind](fwAD.make_dual(leaf, tangent), torch.zeros(4), mask, weight=weight)
            (g,) = torch.autograd.grad(loss, leaf, create_graph=create_graph)
            return fwAD.unpack_dual(g).tangent

    got = gradient_tangent(create_graph=False)
    torch.testing.assert_close(got, gradient_tangent(create_graph=True))
    assert (got[~mask] == 0).all()
    assert torch.isfinite(got).all()
