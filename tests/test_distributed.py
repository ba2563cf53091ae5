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


# Masked classification losses under real data parallelism: two gloo processes.


def classification_batch():
    """Token logits' inputs for 8 sequences, a prompt mask and multi-label targets.

    The prompt (masked) is long in the first half of the batch and short in
    the second, so the two ranks hold very different numbers of valid tokens.
    """
    generator = torch.Generator().manual_seed(11)
    x = torch.randn(8, 6, 5, generator=generator, dtype=torch.float64)
    tokens = torch.randint(0, 7, (8, 6), generator=generator)
    prompt = torch.tensor([5, 4, 5, 3, 1, 0, 2, 1])
    mask = torch.arange(6) >= prompt[:, None]
    tokens = tokens.masked_fill(~mask, -100)
    labels = (torch.rand(8, 6, 7, generator=generator) < 0.4).double()
    return x, tokens, mask, labels


def classification_model():
    torch.manual_seed(12)
    return torch.nn.Linear(5, 7).double()


CLASS_WEIGHT = torch.tensor([0.5, 1.0, 2.0, 1.0, 0.25, 1.5, 1.0], dtype=torch.float64)


def classification_losses(model, x, tokens, mask, labels, counts):
    """Cross-entropy (plain, class-weighted and smoothed) plus multi-label BCE."""
    logits = model(x)  # (B, T, C)
    ce = ml.masked_cross_entropy(logits.movedim(-1, 1), tokens, mask, count=counts["tokens"])
    weighted = ml.masked_cross_entropy(
        logits.movedim(-1, 1), tokens, mask, class_weight=CLASS_WEIGHT, label_smoothing=0.1,
        count=counts["class_weight"],
    )  # fmt: skip
    bce = ml.masked_binary_cross_entropy_with_logits(
        logits, labels, mask.unsqueeze(-1), count=counts["labels"]
    )
    return ce + weighted + bce


def local_counts(x, tokens, mask, labels):
    return {
        "tokens": ml.count_valid(mask, tokens.shape),
        "class_weight": ml.class_weight_count(tokens, mask, CLASS_WEIGHT),
        "labels": ml.count_valid(mask.unsqueeze(-1), labels.shape),
    }


def _classification_worker(rank, world_size, port, out_dir):
    import os

    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size
    )
    try:
        batch = classification_batch()
        part = slice(rank * 4, rank * 4 + 4)
        x, tokens, mask, labels = (t[part] for t in batch)
        model = torch.nn.parallel.DistributedDataParallel(classification_model())
        results = {}
        for normalization in ("global", "local"):
            model.zero_grad()
            counts = local_counts(x, tokens, mask, labels)
            if normalization == "global":
                counts = {k: ml.ddp_normalizer(v) for k, v in counts.items()}
            else:
                counts = dict.fromkeys(counts)
            classification_losses(model, x, tokens, mask, labels, counts).backward()
            results[normalization] = [p.grad.detach().clone() for p in model.parameters()]
        torch.save(results, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def classification_ddp_results(tmp_path_factory):
    import os
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    out_dir = str(tmp_path_factory.mktemp("classification_ddp"))
    mp.spawn(_classification_worker, args=(WORLD_SIZE, port, out_dir), nprocs=WORLD_SIZE,
             join=True)  # fmt: skip
    return [torch.load(os.path.join(out_dir, f"rank{r}.pt")) for r in range(WORLD_SIZE)]


def classification_full_batch_gradients():
    model = classification_model()
    batch = classification_batch()
    counts = dict.fromkeys(local_counts(*batch))
    classification_losses(model, *batch, counts).backward()
    return [p.grad for p in model.parameters()]


def test_ddp_classification_losses_with_global_count_equal_full_batch(
    classification_ddp_results,
):
    expected = classification_full_batch_gradients()
    for result in classification_ddp_results:
        for got, want in zip(result["global"], expected, strict=True):
            torch.testing.assert_close(got, want, atol=1e-10, rtol=1e-10)


def test_ddp_classification_per_rank_means_are_wrong(classification_ddp_results):
    expected = classification_full_batch_gradients()
    got = classification_ddp_results[0]["local"]
    assert not all(torch.allclose(g, w, atol=1e-4) for g, w in zip(got, expected, strict=True))
