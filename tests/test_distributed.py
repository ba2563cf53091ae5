"""Gradient accumulation and real data parallelism give the full-batch gradient.

The data-parallel test starts two CPU processes that talk over the ``gloo``
backend on 127.0.0.1 and wrap the model in ``DistributedDataParallel``.
"""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

import masked_loss as ml

WORLD_SIZE = 2


def make_batch():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(8, 5, 3, generator=generator)
    y = torch.randn(8, 5, 2, generator=generator)
    lengths = torch.tensor([5, 5, 4, 5, 1, 2, 1, 0])  # rank 1's half is mostly padding
    mask = (torch.arange(5) < lengths[:, None]).unsqueeze(-1)
    return x, y, mask


def make_model():
    torch.manual_seed(0)
    return nn.Linear(3, 2)


def gradients(model):
    return [p.grad.detach().clone() for p in model.parameters()]


def full_batch_gradients():
    x, y, mask = make_batch()
    model = make_model()
    ml.masked_mse_loss(model(x), y, mask).backward()
    return gradients(model)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, port, out_dir):
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD_SIZE
    )
    try:
        x, y, mask = make_batch()
        part = slice(rank * 4, rank * 4 + 4)
        x, y, mask = x[part], y[part], mask[part]
        model = nn.parallel.DistributedDataParallel(make_model())
        out = model(x)
        normalizer = ml.ddp_normalizer(ml.count_valid(mask, out.shape))
        ml.masked_mse_loss(out, y, mask, count=normalizer).backward()
        correct = gradients(model.module)
        model.zero_grad()
        ml.masked_mse_loss(model(x), y, mask).backward()  # each rank's own mean
        per_rank_mean = gradients(model.module)
        counts = (
            ml.count_valid(mask, out.shape),
            ml.global_count(ml.count_valid(mask, out.shape)),
            normalizer,
        )
        torch.save({"correct": correct, "per_rank_mean": per_rank_mean, "counts": counts},
                   os.path.join(out_dir, f"rank{rank}.pt"))  # fmt: skip
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def ddp_results(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("ddp")
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    mp.spawn(_worker, args=(_free_port(), str(out_dir)), nprocs=WORLD_SIZE, join=True)
    return [torch.load(out_dir / f"rank{r}.pt") for r in range(WORLD_SIZE)]


def test_ddp_with_global_count_equals_full_batch(ddp_results):
    expected = full_batch_gradients()
    for result in ddp_results:
        for got, want in zip(result["correct"], expected, strict=True):
            torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-6)


def test_ddp_averaging_per_rank_means_is_wrong(ddp_results):
    # The counterexample: without the global count the gradient differs.
    expected = full_batch_gradients()
    got = ddp_results[0]["per_rank_mean"]
    assert not all(torch.allclose(g, w, atol=1e-4) for g, w in zip(got, expected, strict=True))


def test_ddp_counts(ddp_results):
    local = [r["counts"][0].item() for r in ddp_results]
    assert local == [19 * 2, 4 * 2]  # valid steps x D=2 outputs
    for result in ddp_results:
        assert result["counts"][1].item() == sum(local)
        assert result["counts"][2].item() == pytest.approx(sum(local) / WORLD_SIZE)


def test_gradient_accumulation_with_global_count_equals_full_batch():
    x, y, mask = make_batch()
    model = make_model()
    micro_batches = [(x[i : i + 3], y[i : i + 3], mask[i : i + 3]) for i in range(0, 8, 3)]
    total = sum(ml.count_valid(m, yb.shape) for _, yb, m in micro_batches)
    for xb, yb, mb in micro_batches:
        ml.masked_mse_loss(model(xb), yb, mb, count=total).backward()
    for got, want in zip(gradients(model), full_batch_gradients(), strict=True):
        torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-6)


def test_gradient_accumulation_of_means_is_wrong():
    x, y, mask = make_batch()
    model = make_model()
    for i in range(0, 8, 3):
        loss = ml.masked_mse_loss(model(x[i : i + 3]), y[i : i + 3], mask[i : i + 3])
        (loss / 3).backward()
    assert not torch.allclose(gradients(model)[0], full_batch_gradients()[0], atol=1e-4)


def test_global_count_without_process_group_is_identity():
    count = torch.tensor(7)
    assert not dist.is_initialized()
    assert ml.global_count(count).item() == 7
    assert ml.ddp_normalizer(count).item() == 7.0
