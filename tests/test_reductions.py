"""masked_mean / masked_sum / count_valid against explicit expansion."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import dims, masks, shapes, weights

import masked_loss as ml


@st.composite
def cases(draw):
    shape = draw(shapes)
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    return (
        torch.randn(shape, generator=generator, dtype=torch.float64),
        draw(masks(shape)),
        draw(weights(shape)),
        draw(dims(shape)),
        draw(st.booleans()),
    )


def expanded(values, mask, weight):
    m = mask.bool().expand(values.shape)
    w = torch.ones_like(values) if weight is None else weight.expand(values.shape)
    return m, w


@given(cases())
def test_count_valid_equals_count_of_expanded_mask(case):
    values, mask, weight, dim, keepdim = case
    m, w = expanded(values, mask, weight)
    reduce_dims = dim if dim is not None else tuple(range(values.dim()))
    expected = (m * w).sum(reduce_dims, keepdim=keepdim)
    got = ml.count_valid(mask, values.shape, weight=weight, dim=dim, keepdim=keepdim)
    if weight is None:
        assert got.dtype == torch.int64
    torch.testing.assert_close(got.to(expected.dtype), expected)


@given(cases())
def test_masked_sum_and_mean_match_expansion(case):
    values, mask, weight, dim, keepdim = case
    m, w = expanded(values, mask, weight)
    values = values.masked_fill(~m, float("nan"))  # padding holds NaN on purpose
    reduce_dims = dim if dim is not None else tuple(range(values.dim()))
    total = torch.where(m, values * w, 0).sum(reduce_dims, keepdim=keepdim)
    count = (m * w).sum(reduce_dims, keepdim=keepdim)
    got_sum = ml.masked_sum(values, mask, weight=weight, dim=dim, keepdim=keepdim)
    torch.testing.assert_close(got_sum, total)
    got_mean = ml.masked_mean(values, mask, weight=weight, dim=dim, keepdim=keepdim)
    torch.testing.assert_close(got_mean, torch.where(count > 0, total / count, 0))
    got_nan = ml.masked_mean(values, mask, weight=weight, dim=dim, keepdim=keepdim, empty="nan")
    torch.testing.assert_close(got_nan, total / count, equal_nan=True)


def test_masked_mean_sample_average():
    values = torch.tensor([[1.0, 3.0, 100.0], [5.0, 0.0, 0.0], [7.0, 7.0, 7.0]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 0, 0]])
    # Per-sample means 2 and 5; the empty third sample is skipped, not counted as 0.
    assert ml.masked_mean(values, mask, average="sample").item() == pytest.approx(3.5)
    assert ml.masked_mean(values, mask).item() == pytest.approx(3.0)


def test_masked_mean_gradient_is_nan_safe():
    values = torch.tensor([1.0, float("inf"), 3.0], requires_grad=True)
    mask = torch.tensor([True, False, True])
    ml.masked_mean(values, mask).backward()
    torch.testing.assert_close(values.grad, torch.tensor([0.5, 0.0, 0.5]))


def test_masked_mean_keeps_half_precision_dtype_and_accuracy():
    values = torch.ones(8192, dtype=torch.bfloat16)
    mask = torch.ones(8192, dtype=torch.bool)
    total = ml.masked_sum(values, mask)
    assert total.dtype == torch.bfloat16
    # 8192 is exact in bf16, but a bf16 running sum stalls at 256 (256 + 1 rounds back).
    assert total.float().item() == 8192
