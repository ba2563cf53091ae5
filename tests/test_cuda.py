"""CUDA checks: the default path never synchronises with the host.

Skipped where no GPU is present (CI); run on a GPU machine with
``pytest tests/test_cuda.py``.
"""

from __future__ import annotations

import pytest
import torch

import masked_loss as ml

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

LOSSES = [ml.masked_mse_loss, ml.masked_l1_loss, ml.masked_huber_loss]


@pytest.fixture
def sync_is_an_error():
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    yield
    torch.cuda.set_sync_debug_mode("default")


@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "options",
    [{}, {"reduction": "sum"}, {"reduction": "none"}, {"dim": 1}, {"average": "sample"},
     {"empty": "nan"}, {"count": 5}, {"check_values": True}],
    ids=str,
)  # fmt: skip
def test_forward_backward_without_host_sync(loss, options, sync_is_an_error):
    x = torch.randn(8, 16, 4, device="cuda", requires_grad=True)
    y = torch.randn(8, 16, 4, device="cuda")
    mask = torch.rand(8, 16, 1, device="cuda") < 0.5
    weight = torch.rand(1, 16, 4, device="cuda")
    out = loss(x, y, mask, weight=weight, **options)
    out.sum().backward()
    reductions = [
        ml.masked_mean(y, mask, dim=1),
        ml.masked_sum(y, mask),
        ml.count_valid(mask, y.shape),
        ml.global_count(ml.count_valid(mask, y.shape)),
        ml.ddp_normalizer(ml.count_valid(mask, y.shape)),
    ]
    torch.cuda.set_sync_debug_mode("default")
    assert torch.isfinite(x.grad).all()
    assert all(r.device.type == "cuda" for r in reductions)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_cuda_matches_cpu(dtype):
    x = torch.randn(4, 32, 8, dtype=dtype)
    y = torch.randn(4, 32, 8, dtype=dtype)
    mask = torch.rand(4, 32, 1) < 0.5
    cpu = ml.masked_mse_loss(x, y, mask)
    gpu = ml.masked_mse_loss(x.cuda(), y.cuda(), mask.cuda())
    assert gpu.dtype == dtype
    torch.testing.assert_close(gpu.cpu().float(), cpu.float(), rtol=1e-2, atol=1e-3)


def test_compiled_inductor_on_cuda(sync_is_an_error):
    torch.cuda.set_sync_debug_mode("default")  # compilation itself may sync
    compiled = torch.compile(ml.masked_mse_loss, fullgraph=True)
    x = torch.randn(8, 64, 16, device="cuda", requires_grad=True)
    y = torch.randn(8, 64, 16, device="cuda")
    mask = torch.rand(8, 64, 1, device="cuda") < 0.5
    compiled(x, y, mask).backward()  # warm-up compile
    x.grad = None
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    loss = compiled(x, y, mask)
    loss.backward()
    torch.cuda.set_sync_debug_mode("default")
    torch.testing.assert_close(loss, ml.masked_mse_loss(x, y, mask))


@pytest.mark.parametrize(
    "options",
    [{}, {"reduction": "sum"}, {"reduction": "none"}, {"dim": (1, 2)}, {"average": "sample"}],
    ids=str,
)
def test_cuda_matches_cpu_with_nan_padding_and_weights(options):
    x = torch.randn(6, 10, 3, dtype=torch.float64)
    y = torch.randn(6, 10, 3, dtype=torch.float64)
    mask = torch.rand(6, 10, 1) < 0.5
    mask[2] = False
    x = x.masked_fill(~mask, float("nan"))
    weight = torch.rand(10, 3, dtype=torch.float64)
    results = []
    for device in ("cpu", "cuda"):
        xd = x.detach().to(device).requires_grad_()
        loss = ml.masked_mse_loss(
            xd, y.to(device), mask.to(device), weight=weight.to(device), **options
        )
        loss.sum().backward()
        results.append((loss.cpu(), xd.grad.cpu()))
    torch.testing.assert_close(results[1], results[0])
    assert torch.isfinite(results[1][1]).all()
