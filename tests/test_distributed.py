"""Gradient accumulation and real data parallelism give the full-batch gradient.

The data-parallel test starts two CPU processes that talk over the ``gloo``
backend on 127.0.0.1 and wrap the model in ``DistributedDataParallel``
(:func:`masked_loss.teaching.book.ddp_gradients`, also run in the book).
"""

from __future__ import annotations

import pytest
import torch
import torch.distributed as dist

import masked_loss as ml
from masked_loss.teaching.book import (
    ddp_demo_batch,
    ddp_demo_model,
    ddp_gradients,
    full_batch_gradients,
)

WORLD_SIZE = 2


@pytest.fixture(scope="module")
def ddp_results():
    return ddp_gradients(WORLD_SIZE)


def test_ddp_with_global_count_equals_full_batch(ddp_results):
    expected = full_batch_gradients()
    for result in ddp_results:
        for got, want in zip(result["global"], expected, strict=True):
            torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-6)


def test_ddp_averaging_per_rank_means_is_wrong(ddp_results):
    # The counterexample: without the global count the gradient differs.
    expected = full_batch_gradients()
    got = ddp_results[0]["local"]
    assert not all(torch.allclose(g, w, atol=1e-4) for g, w in zip(got, expected, strict=True))


def test_ddp_counts(ddp_results):
    local = [r["local_count"].item() for r in ddp_results]
    assert local == [19 * 2, 4 * 2]  # valid steps x D=2 outputs
    for result in ddp_results:
        assert result["global_count"].item() == sum(local)
        assert result["normalizer"].item() == pytest.approx(sum(local) / WORLD_SIZE)


def test_gradient_accumulation_with_global_count_equals_full_batch():
    x, y, mask = ddp_demo_batch()
    model = ddp_demo_model()
    micro_batches = [(x[i : i + 3], y[i : i + 3], mask[i : i + 3]) for i in range(0, 8, 3)]
    total = sum(ml.count_valid(m, yb.shape) for _, yb, m in micro_batches)
    for xb, yb, mb in micro_batches:
        ml.masked_mse_loss(model(xb), yb, mb, count=total).backward()
    grads = [p.grad for p in model.parameters()]
    for got, want in zip(grads, full_batch_gradients(), strict=True):
        torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-6)


def test_gradient_accumulation_of_means_is_wrong():
    x, y, mask = ddp_demo_batch()
    model = ddp_demo_model()
    for i in range(0, 8, 3):
        loss = ml.masked_mse_loss(model(x[i : i + 3]), y[i : i + 3], mask[i : i + 3])
        (loss / 3).backward()
    grad = next(model.parameters()).grad
    assert not torch.allclose(grad, full_batch_gradients()[0], atol=1e-4)


def test_global_count_without_process_group_is_identity():
    count = torch.tensor(7)
    assert not dist.is_initialized()
    assert ml.global_count(count).item() == 7
    assert ml.ddp_normalizer(count).item() == 7.0
