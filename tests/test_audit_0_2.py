"""One regression test per defect found by the audit of 0.2.0 (D1-D10, numbered as reported).

Each failed on 0.2.0, where a CPU bit-level selection and a fused
``autograd.Function`` stood in for ``torch.where`` behind guards; every
function is now made of ordinary differentiable operations.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F
from torch.func import grad, jacrev, vmap

import masked_loss as ml

LOSSES = {"mse": ml.masked_mse_loss, "l1": ml.masked_l1_loss, "huber": ml.masked_huber_loss}


# D1. select_valid misread integer and uint8 masks as bit patterns.
def test_d1_select_valid_takes_integer_masks_and_refuses_float_masks():
    values = torch.tensor([1.0, 2.0, 3.0])
    torch.testing.assert_close(ml.select_valid(values, torch.tensor([1, 0, 1])),
                               torch.tensor([1.0, 0.0, 3.0]))  # fmt: skip
    half = torch.tensor([1.5, 2.5, 3.5], dtype=torch.float16)
    got = ml.select_valid(half, torch.tensor([1, 1, 0], dtype=torch.uint8))
    assert torch.equal(got, torch.tensor([1.5, 2.5, 0.0], dtype=torch.float16))
    for dtype in (torch.float32, torch.float64):
        with pytest.raises(TypeError, match="mask must be bool or an integer 0/1 tensor"):
            ml.select_valid(values.to(dtype), torch.tensor([1.0, 0.0, 1.0]))
    with pytest.raises(TypeError, match="values must be a real floating-point tensor"):
        ml.select_valid(torch.tensor([1, 2, 3]), torch.tensor([True, False, True]))


# D2. vmap and torch.func.grad through the CPU Functions raised "must override setup_context".
def test_d2_vmap_with_shared_mask_and_weight_and_over_count():
    generator = torch.Generator().manual_seed(0)
    xs = torch.randn(3, 4, 5, generator=generator)
    y = torch.randn(4, 5, generator=generator)
    m = torch.rand(4, 1, generator=generator) < 0.6
    w = torch.rand(4, 5, generator=generator)
    got = vmap(lambda a: ml.masked_mse_loss(a, y, m, weight=w))(xs)
    expected = torch.stack([ml.masked_mse_loss(a, y, m, weight=w) for a in xs])
    torch.testing.assert_close(got, expected)
    counts = torch.tensor([2.0, 5.0, 7.0])
    got = vmap(lambda c: ml.masked_mse_loss(xs[0], y, m, count=c))(counts)
    expected = torch.stack([ml.masked_mse_loss(xs[0], y, m, count=c) for c in counts])
    torch.testing.assert_close(got, expected)


def test_d2_func_grad_of_weight_and_jacrev_of_count():
    values = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    mask = torch.tensor([[True, False], [True, True]])
    weight = torch.tensor([[1.0, 9.0], [2.0, 3.0]], dtype=torch.float64)
    got = grad(lambda w: ml.masked_mean(values, mask, weight=w))(weight)
    # mean = sum(w v) / sum(w) over valid: d/dw_i = (v_i - mean) / sum(w); 0 where masked.
    mean = (1 * 1 + 2 * 3 + 3 * 4) / 6
    expected = torch.tensor([[(1 - mean) / 6, 0.0], [(3 - mean) / 6, (4 - mean) / 6]],
                            dtype=torch.float64)  # fmt: skip
    torch.testing.assert_close(got, expected)
    count = torch.tensor([2.0, 4.0], dtype=torch.float64)
    jac = jacrev(lambda c: ml.masked_mean(values, mask, dim=1, count=c))(count)
    # Row sums 1 and 7: d(S / c) / dc = -S / c**2.
    expected = torch.diag(torch.tensor([-1 / 4, -7 / 16], dtype=torch.float64))
    torch.testing.assert_close(jac, expected)


# D3. Batched gradients hit "Batching rule not implemented for aten::view.dtype".
@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_d3_batched_gradients_and_vectorized_jacobians(kind):
    generator = torch.Generator().manual_seed(1)
    p = torch.randn(2, 3, generator=generator, requires_grad=True)
    t = torch.randn(2, 3, generator=generator)
    m = torch.tensor([[True, False, True], [True, True, False]])
    out = LOSSES[kind](p, t, m, "none")
    (batched,) = torch.autograd.grad(out, p, torch.eye(6).reshape(6, 2, 3), is_grads_batched=True)
    for i, v in enumerate(torch.eye(6).reshape(6, 2, 3)):
        (single,) = torch.autograd.grad(LOSSES[kind](p, t, m, "none"), p, v)
        torch.testing.assert_close(batched[i], single)
    loss = LOSSES[kind]
    jac = torch.autograd.functional.jacobian(lambda a: loss(a, t, m, dim=1), p, vectorize=True)
    torch.testing.assert_close(
        jac, torch.autograd.functional.jacobian(lambda a: loss(a, t, m, dim=1), p)
    )
    hess = torch.autograd.functional.hessian(lambda a: loss(a, t, m), p.double(), vectorize=True)
    torch.testing.assert_close(
        hess, torch.autograd.functional.hessian(lambda a: loss(a, t, m), p.double())
    )


# D4. An in-place change between forward and backward raised on some paths only.
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("options", [{}, {"dim": 1}, {"reduction": "none"}])
@pytest.mark.parametrize("weight_shape", [(4, 6), (6,)])
def test_d4_weight_changed_in_place_after_forward_is_harmless_on_every_path(
    dtype, options, weight_shape
):
    x = torch.randn(4, 6, dtype=dtype, requires_grad=True)
    mask = torch.rand(4, 1) < 0.7
    weight = torch.rand(weight_shape, dtype=dtype)
    expected_weight = weight.clone()
    loss = ml.masked_mse_loss(x, torch.zeros(4, 6, dtype=dtype), mask, weight=weight, **options)
    weight.mul_(100)  # after the forward pass
    loss.sum().backward()
    reference = x.detach().clone().requires_grad_()
    ml.masked_mse_loss(reference, torch.zeros(4, 6, dtype=dtype), mask, weight=expected_weight,
                       **options).sum().backward()  # fmt: skip
    torch.testing.assert_close(x.grad, reference.grad)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("options", [{}, {"dim": 1}])
def test_d4_mask_changed_in_place_after_forward_raises_on_every_path(dtype, options):
    x = torch.randn(4, 6, dtype=dtype, requires_grad=True)
    mask = torch.rand(4, 6) < 0.7
    loss = ml.masked_mse_loss(x, torch.zeros(4, 6, dtype=dtype), mask, **options)
    mask.logical_not_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.sum().backward()


# D5. bfloat16 totals were rounded to bfloat16 before the division (two roundings).
def test_d5_bfloat16_mean_rounds_once():
    v = torch.full((800_000,), 0.10009765625, dtype=torch.bfloat16)
    assert ml.masked_mean(v, torch.ones(800_000, dtype=torch.bool)).item() == v.mean().item()
    assert v.mean().item() == 0.10009765625


def test_d5_bfloat16_mse_equals_f_mse_loss_bit_for_bit():
    generator = torch.Generator().manual_seed(5)
    sizes = torch.randint(1, 5000, (300,), generator=generator).tolist()
    for n in sizes:
        x = torch.randn(n, generator=generator).bfloat16()
        y = torch.randn(n, generator=generator).bfloat16()
        ours = ml.masked_mse_loss(x, y, torch.ones(n, dtype=torch.bool))
        assert torch.equal(ours, F.mse_loss(x, y)), n


# D6. Huber's forward-over-reverse failed ("forward AD with huber_loss_backward").
@pytest.mark.parametrize(
    "options",
    [{"dim": 1}, {"reduction": "none"}, {"average": "sample"}, {}, {"weight": "grad"}],
    ids=["dim", "none", "sample", "plain", "weight-needs-grad"],
)
def test_d6_huber_forward_over_reverse(options):
    generator = torch.Generator().manual_seed(6)
    x = torch.randn(3, 4, dtype=torch.float64, generator=generator) * 2
    y = torch.zeros(3, 4, dtype=torch.float64)
    m = torch.tensor([[1, 1, 0, 1], [0, 0, 0, 0], [1, 0, 1, 1]], dtype=torch.bool)
    options = dict(options)
    if options.get("weight") == "grad":
        options["weight"] = torch.rand(3, 4, dtype=torch.float64).requires_grad_()
    v = torch.randn(3, 4, dtype=torch.float64, generator=generator)

    def scalar(a):
        return ml.masked_huber_loss(a, y, m, delta=0.7, **options).sum()

    with fwAD.dual_level():
        dual = fwAD.make_dual(x, v).requires_grad_()
        (g,) = torch.autograd.grad(scalar(dual), dual, create_graph=True)
        got = fwAD.unpack_dual(g).tangent
    _, expected = torch.autograd.functional.hvp(scalar, x, v)
    torch.testing.assert_close(got, expected)


# D7. A 0-d CPU weight with a mask elsewhere raised; select_valid checked no device.
def test_d7_zero_dim_cpu_weight_goes_with_a_mask_on_any_device():
    mask = torch.ones(3, 4, dtype=torch.bool, device="meta")
    count = ml.count_valid(mask, (3, 4), weight=torch.tensor(2.0))
    assert count.device.type == "meta" and count.shape == ()


def test_d7_select_valid_names_the_devices():
    with pytest.raises(ValueError, match="same device.*values on cpu.*mask on meta"):
        ml.select_valid(torch.ones(3), torch.ones(3, dtype=torch.bool, device="meta"))


# D8. A tensor with the negative bit set could not be viewed as integers.
def test_d8_negative_view_is_summed():
    z = torch.tensor([1 + 2j, 3 - 4j, 5 + 6j])
    values = z.conj().imag  # a view with the negative bit set
    got = ml.masked_sum(values, torch.tensor([True, True, False]))
    torch.testing.assert_close(got, torch.tensor(2.0))


# D9. A bool mask made under inference_mode trained in float64 only. Now every dtype
# and path behaves as torch.nn.functional does with a tensor it must save for the
# backward pass (F.mse_loss(p * m, t * m) saves m): PyTorch's own error, which
# names the fix (a clone); without a gradient, or once cloned, it works.
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("options", [{}, {"dim": 1}, {"reduction": "none"}])
def test_d9_inference_mask_behaves_the_same_in_every_dtype(dtype, options):
    with torch.inference_mode():
        mask = torch.tensor([[True, False, True], [True, True, False]])
    x = torch.randn(2, 3, dtype=dtype, requires_grad=True)
    y = torch.zeros(2, 3, dtype=dtype)
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        ml.masked_mse_loss(x, y, mask, **options)
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        F.mse_loss(x * mask, y * mask)
    with torch.no_grad():
        ml.masked_mse_loss(x, y, mask, **options)
    ml.masked_mse_loss(x, y, mask.clone(), **options).sum().backward()
    assert torch.isfinite(x.grad).all() and (x.grad[~mask] == 0).all()


# D10. Messages, numpy numbers, sparse input, and the dtype of global_count.
def test_d10_count_shape_error_names_the_result_shape():
    x = torch.randn(3, 4)
    with pytest.raises(ValueError, match=r"count of shape \(3,\) cannot be broadcast to the "
                                         r"result shape \(\)"):  # fmt: skip
        ml.masked_mse_loss(x, x, torch.ones(3, 4, dtype=torch.bool), count=torch.ones(3))


def test_d10_numpy_numbers_are_accepted_like_python_numbers():
    x = torch.tensor([1.0, 3.0, 5.0])
    m = torch.tensor([True, True, False])
    expected = ml.masked_mse_loss(x, torch.zeros(3), m, count=4)
    for count in (np.int64(4), np.float32(4.0), np.float64(4.0)):
        torch.testing.assert_close(ml.masked_mse_loss(x, torch.zeros(3), m, count=count), expected)
    torch.testing.assert_close(
        ml.masked_huber_loss(x, torch.zeros(3), m, delta=np.float32(0.5)),
        ml.masked_huber_loss(x, torch.zeros(3), m, delta=0.5),
    )
    with pytest.raises(TypeError, match="count must be a number or a tensor, got bool"):
        ml.masked_mse_loss(x, torch.zeros(3), m, count=True)


def test_d10_sparse_tensors_are_refused_by_name():
    dense = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    mask = torch.ones(2, 2, dtype=torch.bool)
    with pytest.raises(TypeError, match="input must be a dense .strided. tensor, got layout"):
        ml.masked_mse_loss(dense.to_sparse(), dense, mask)
    with pytest.raises(TypeError, match="values must be a dense .strided. tensor"):
        ml.masked_sum(dense.to_sparse(), mask)
    with pytest.raises(TypeError, match="mask must be a dense .strided. tensor"):
        ml.masked_mean(dense, mask.to_sparse())


def test_d10_global_count_is_int64_for_integer_counts():
    assert ml.global_count(torch.tensor(7, dtype=torch.int32)).dtype == torch.int64
    assert ml.global_count(torch.tensor(7.5)).dtype == torch.float32


def test_d10_count_valid_validates_its_shape():
    mask = torch.ones(2, dtype=torch.bool)
    with pytest.raises(TypeError, match="shape must be a sequence of ints"):
        ml.count_valid(mask, "ab")
    with pytest.raises(ValueError, match="non-negative sizes"):
        ml.count_valid(mask, (-1, 2))
