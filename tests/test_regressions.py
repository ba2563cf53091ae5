"""One regression test per defect found in version 0.1.0 (numbered as reported).

Each of these failed on 0.1.0 and passes now.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.func import grad, jacrev, jvp, vmap

import masked_loss as ml
from masked_loss.reductions import select_valid
from masked_loss.teaching.benchmark import dispatched_ops, saved_bytes

LOSSES = {"mse": ml.masked_mse_loss, "l1": ml.masked_l1_loss, "huber": ml.masked_huber_loss}
NAIVE = {"mse": F.mse_loss, "l1": F.l1_loss, "huber": F.huber_loss}


# 1. Second derivatives were silently zero (once_differentiable).
def test_1_gradient_penalty_sees_second_derivatives():
    x = torch.tensor([1.0, 2.0, 5.0], requires_grad=True)
    y = torch.zeros(3)
    m = torch.tensor([True, True, False])

    def penalised(loss_fn, leaf):
        loss = loss_fn(leaf)
        (g,) = torch.autograd.grad(loss, leaf, create_graph=True)
        assert g.requires_grad
        return torch.autograd.grad(loss + g.pow(2).sum(), leaf)[0]

    ours = penalised(lambda a: ml.masked_mse_loss(a, y, m), x)
    expected = penalised(lambda a: F.mse_loss(a[m], y[m]), x)
    torch.testing.assert_close(ours, torch.tensor([3.0, 6.0, 0.0]))
    torch.testing.assert_close(ours, expected)


def test_1_hessian_is_not_zero():
    x = torch.randn(4, dtype=torch.float64)
    m = torch.tensor([True, True, False, True])
    hessian = torch.autograd.functional.hessian(
        lambda a: ml.masked_mse_loss(a, torch.zeros(4, dtype=torch.float64), m), x
    )
    torch.testing.assert_close(hessian, torch.diag(m.double()) * 2 / 3)


# 2. float32 accuracy: a BLAS dot product lost digits that F.mse_loss keeps.
def test_2_float32_accuracy_within_10x_of_mse_loss_on_8m_elements():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 512, 256, generator=generator)
    y = torch.randn(64, 512, 256, generator=generator)
    mask = torch.ones(64, 512, 1, dtype=torch.bool)
    exact = F.mse_loss(x.double(), y.double()).item()
    torch_error = abs(F.mse_loss(x, y).item() - exact) / exact
    our_error = abs(ml.masked_mse_loss(x, y, mask).item() - exact) / exact
    # A floor of one float32 ulp: both can round to the exact float.
    assert our_error <= 10 * max(torch_error, 2**-24), (our_error, torch_error)


# 3. An infinite incoming gradient put NaN into masked positions.
@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_3_infinite_upstream_gradient_leaves_padding_at_zero(kind):
    x = torch.randn(3, 4, requires_grad=True)
    mask = torch.tensor([[1, 1, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    LOSSES[kind](x, torch.zeros(3, 4), mask, dim=1).sqrt().sum().backward()
    assert torch.isfinite(x.grad).all()
    assert (x.grad[~mask] == 0).all()


# 4. Integer, bool and complex values were summed in float32.
@pytest.mark.parametrize("dtype", [torch.int64, torch.uint8, torch.bool, torch.complex64])
def test_4_non_float_values_raise_naming_the_dtype(dtype):
    values = torch.ones(3, dtype=dtype)
    mask = torch.ones(3, dtype=torch.bool)
    for reduction in (ml.masked_sum, ml.masked_mean):
        with pytest.raises(TypeError, match=rf"real floating-point tensor, got dtype {dtype}"):
            reduction(values, mask)


# 5. count= depended on its type, and negative counts were accepted.
def test_5_count_behaves_the_same_for_numbers_and_tensors():
    x, y = torch.tensor([3.0, 1.0]), torch.zeros(2)
    mask = torch.tensor([True, False])
    for count in (0.5, 2, 0):
        as_number = ml.masked_mse_loss(x, y, mask, count=count)
        for as_tensor in (torch.tensor(count), torch.tensor(float(count))):
            torch.testing.assert_close(ml.masked_mse_loss(x, y, mask, count=as_tensor), as_number)
    assert ml.masked_mse_loss(x, y, mask, count=0.5).item() == 18.0  # not clamped to 1
    assert ml.masked_mse_loss(x, y, mask, count=torch.tensor(0)).item() == 0.0
    assert math.isnan(ml.masked_mse_loss(x, y, mask, count=0, empty="nan").item())
    with pytest.raises(ValueError, match=r"count must be non-negative, got -5"):
        ml.masked_mse_loss(x, y, mask, count=-5)
    with pytest.raises(RuntimeError, match=r"count entries must be non-negative"):
        ml.masked_mse_loss(x, y, mask, count=torch.tensor(-5), check_values=True)
    with pytest.raises(TypeError, match=r"count must be a real number or tensor, got dtype"):
        ml.masked_mse_loss(x, y, mask, count=torch.tensor(True))


# 6. torch.func and forward-mode AD raised "must override setup_context".
@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_6_torch_func_and_forward_ad_work(kind):
    x, y = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    mask = torch.rand(2, 3, 1) < 0.5

    def loss(a):
        return LOSSES[kind](a, y[0], mask[0])

    assert vmap(loss)(x).shape == (2,)
    assert grad(loss)(x[0]).shape == (3, 4)
    assert jacrev(loss)(x[0]).shape == (3, 4)
    _, tangent = jvp(loss, (x[0],), (torch.ones(3, 4),))
    assert torch.isfinite(tangent)


# 7. torch.jit.trace failed with an internal assert on the bit trick.
def test_7_jit_trace_of_module():
    x, y, m = torch.randn(2, 3), torch.randn(2, 3), torch.tensor([[1, 0, 1], [1, 1, 0]])
    traced = torch.jit.trace(ml.MaskedMSELoss(), (x, y, m))
    torch.testing.assert_close(traced(x, y, m), ml.masked_mse_loss(x, y, m))


# 8. A per-row count from count_valid could not be passed back with dim.
def test_8_per_row_count_round_trips_with_dim():
    x, y = torch.randn(3, 3), torch.randn(3, 3)
    mask = torch.tensor([[1, 0, 1], [0, 0, 0], [1, 1, 1]], dtype=torch.bool)
    for keepdim in (False, True):
        count = ml.count_valid(mask, x.shape, dim=1, keepdim=keepdim)
        torch.testing.assert_close(
            ml.masked_mse_loss(x, y, mask, dim=1, keepdim=keepdim, count=count),
            ml.masked_mse_loss(x, y, mask, dim=1, keepdim=keepdim),
        )
    with pytest.raises(ValueError, match=r"count of shape \(4,\) cannot be broadcast"):
        ml.masked_mse_loss(x, y, mask, dim=1, count=torch.ones(4))


# 9. 0-d input with dim=0 or dim=-1 raised IndexError (torch.sum accepts both).
@pytest.mark.parametrize("dim", [0, -1, (0,)])
def test_9_zero_dim_input_accepts_dim_0_and_minus_1(dim):
    x, y, m = torch.tensor(3.0), torch.tensor(1.0), torch.tensor(True)
    assert ml.masked_mse_loss(x, y, m, dim=dim).item() == 4.0
    assert ml.masked_mean(x, m, dim=dim).item() == torch.sum(x, dim=dim).item()
    assert ml.count_valid(m, (), dim=dim).item() == 1
    with pytest.raises(IndexError, match=r"dim 1 is out of range for a tensor with 0 dim"):
        ml.masked_mse_loss(x, y, m, dim=1)


# 10. Options that did not apply were silently ignored.
@pytest.mark.parametrize(
    ("reduction", "options", "message"),
    [
        ("mean", {"keepdim": True, "average": "sample"}, "keepdim cannot be combined"),
        ("sum", {"count": 3}, "count only applies to reduction='mean'"),
        ("none", {"count": 3}, "count does not apply to reduction='none'"),
        ("none", {"dim": 1}, "dim does not apply to reduction='none'"),
        ("none", {"average": "sample"}, "average does not apply to reduction='none'"),
        ("sum", {"average": "sample"}, "average only applies to reduction='mean'"),
        ("sum", {"empty": "nan"}, "empty only applies to reduction='mean'"),
        ("none", {"keepdim": True}, "keepdim does not apply to reduction='none'"),
    ],
)
def test_10_options_that_do_not_apply_raise(reduction, options, message):
    x, m = torch.randn(2, 3), torch.ones(2, 3, dtype=torch.bool)
    with pytest.raises(ValueError, match=message):
        ml.masked_mse_loss(x, x, m, reduction, **options)
    if "count" not in options:  # a module takes count= in forward, checked above
        with pytest.raises(ValueError, match=message):
            ml.MaskedMSELoss(reduction, **options)


# 11. Module constructors validated only reduction; repr omitted options.
def test_11_module_constructors_validate_and_repr_shows_options():
    with pytest.raises(ValueError, match=r"delta must be positive and finite, got -1"):
        ml.MaskedHuberLoss(delta=-1)
    with pytest.raises(ValueError, match=r"empty='bogus' is not supported"):
        ml.MaskedHuberLoss(empty="bogus")
    with pytest.raises(TypeError, match=r"dim must be an int, a sequence of ints or None"):
        ml.MaskedL1Loss(dim="1")
    with pytest.raises(TypeError, match=r"keepdim must be a bool"):
        ml.MaskedMSELoss(dim=1, keepdim=1)
    module = ml.MaskedHuberLoss("sum", delta=0.5, dim=(1, 2), keepdim=True)
    assert repr(module) == "MaskedHuberLoss(reduction='sum', dim=(1, 2), keepdim=True, delta=0.5)"
    assert repr(ml.MaskedMSELoss()) == "MaskedMSELoss()"
    x = torch.randn(2, 3, 4)
    with pytest.raises(IndexError, match=r"dim 7 is out of range"):
        ml.MaskedMSELoss(dim=7)(x, x, torch.ones(2, 3, 4, dtype=torch.bool))


# 12. check_values rejected a NaN weight in the padding, calling it negative.
def test_12_check_values_ignores_padding_and_names_nan():
    x = torch.tensor([1.0, 2.0])
    mask = torch.tensor([True, False])
    padded = torch.tensor([1.0, math.nan])
    assert ml.masked_mse_loss(x, torch.zeros(2), mask, weight=padded, check_values=True) == 1.0
    with pytest.raises(RuntimeError, match=r"finite and non-negative"):
        ml.masked_mse_loss(x, torch.zeros(2), ~mask, weight=padded, check_values=True)


# 13. A float64 weight did not promote; a 0-d CPU weight was refused; numpy ints as dim.
def test_13_weight_promotes_like_torch():
    x, y = torch.randn(3), torch.randn(3)
    weight = torch.rand(3, dtype=torch.float64)
    mask = torch.ones(3, dtype=torch.bool)
    ours = ml.masked_mse_loss(x, y, mask, weight=weight)
    assert ours.dtype == F.mse_loss(x, y, weight=weight).dtype == torch.float64
    assert ml.masked_mean(x, mask, weight=weight).dtype == torch.float64


def test_13_zero_dim_cpu_weight_goes_with_any_device():
    x = torch.randn(2, 3, device="meta")
    mask = torch.ones(2, 3, dtype=torch.bool, device="meta")
    loss = ml.masked_mse_loss(x, x, mask, weight=torch.tensor(2.0))
    assert loss.device.type == "meta"
    with pytest.raises(ValueError, match=r"same device.*weight on cpu"):
        ml.masked_mse_loss(x, x, mask, weight=torch.ones(3))


def test_13_numpy_integer_dim():
    x, m = torch.randn(2, 3), torch.ones(2, 3, dtype=torch.bool)
    torch.testing.assert_close(ml.masked_mean(x, m, dim=np.int64(1)), x.mean(1))
    torch.testing.assert_close(ml.masked_mean(x, m, dim=[np.int64(0)]), x.mean(0))


def forward_backward_ops(fn, x, *args, **kwargs):
    """The aten ops one forward and backward pass dispatch, for a fresh leaf ``x``."""
    leaf = x.detach().clone().requires_grad_()

    def step():
        out = fn(leaf, *args, **kwargs)
        (out if out.dim() == 0 else out.sum()).backward()

    return dispatched_ops(step)


def autograd_nodes(tensor):
    """Every node of ``tensor``'s backward graph."""
    seen, stack = [], [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.append(node)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return seen


# 14. (0.2.0) A CPU bit-level selection and a fused autograd.Function stood in for
# torch.where behind guards, and gave other answers under some transforms (see
# test_audit_0_2.py). Every backward node is now one of PyTorch's own.
@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_14_every_backward_node_is_a_pytorch_operation(kind, dtype):
    x = torch.randn(4, 6, 3, dtype=dtype, requires_grad=True)
    mask = torch.rand(4, 6, 1) < 0.5
    for options in ({}, {"weight": torch.rand(4, 6, 1, dtype=dtype)}, {"dim": 1}):
        loss = LOSSES[kind](x, torch.zeros(4, 6, 3, dtype=dtype), mask, **options)
        custom = [
            type(node).__name__
            for node in autograd_nodes(loss)
            if isinstance(node, torch.autograd.function.BackwardCFunction)
        ]
        assert custom == [], custom


# 15. A full-size masked weight was saved for the backward pass. Single numbers are
# not counted (see saved_bytes): a correct mean must keep its data-dependent count.
def naive_counterpart(kind, x, y, mask, weight=None):
    if weight is None:
        return NAIVE[kind](x * mask, y * mask)
    return NAIVE[kind](x * mask, y * mask, weight=weight.expand(x.shape))


@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("mask_shape", [(4, 32, 1), (4, 32, 16)])
@pytest.mark.parametrize("weight_shape", [None, (16,), (4, 32, 1)])
def test_15_saves_no_more_than_naive(kind, dtype, mask_shape, weight_shape):
    x = torch.randn(4, 32, 16, dtype=dtype, requires_grad=True)
    y = torch.randn(4, 32, 16, dtype=dtype)
    mask = torch.rand(mask_shape) < 0.6
    weight = None if weight_shape is None else torch.rand(weight_shape, dtype=dtype)
    ours = saved_bytes(lambda: LOSSES[kind](x, y, mask, weight=weight))
    naive = saved_bytes(lambda: naive_counterpart(kind, x, y, mask, weight))
    assert ours <= naive, (ours, naive)


# 16. Per-call overhead: 22 aten ops were dispatched forward+backward (naive: 7).
def test_16_fewer_ops_dispatched_than_before():
    x = torch.randn(32, 128, 8)
    y = torch.randn(32, 128, 8)
    mask = torch.rand(32, 128, 1) < 0.6
    naive = forward_backward_ops(ml.naive_masked_mse_loss, x, y, mask)
    ours = forward_backward_ops(ml.masked_mse_loss, x, y, mask)
    assert len(naive) == 7, naive
    assert len(ours) < 22, ours


def test_select_valid_is_where_bit_for_bit():
    values = torch.tensor([1.5, -0.0, math.nan, math.inf, -math.inf, -2.0, 3.0])
    mask = torch.tensor([True, True, False, False, False, False, True])
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        got = select_valid(values.to(dtype), mask)
        expected = torch.where(mask, values.to(dtype), 0)
        assert torch.equal(got.view(torch.uint8), expected.view(torch.uint8)), dtype


def test_library_import_loads_no_teaching_dependencies():
    code = (
        "import sys, masked_loss, masked_loss.distributed\n"
        "heavy = {'matplotlib', 'ipywidgets', 'anywidget', 'traitlets', 'IPython'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_teaching_without_book_extras_says_how_to_install():
    code = "import sys; sys.modules['matplotlib'] = None\nimport masked_loss.teaching.exercises"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode != 0
    # Not on PyPI: the hint installs the release from its git tag.
    assert 'pip install "masked_loss[book] @ git+' in out.stderr
    assert f"@v{ml.__version__}" in out.stderr
