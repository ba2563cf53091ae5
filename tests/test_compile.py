"""Every public function compiles with fullgraph=True (no graph break, no host sync)."""

from __future__ import annotations

import pytest
import torch

import masked_loss as ml

torch._dynamo.config.cache_size_limit = 64

LOSSES = [ml.masked_mse_loss, ml.masked_l1_loss, ml.masked_huber_loss]
OPTIONS = [
    pytest.param({}, id="mean"),
    pytest.param({"reduction": "sum"}, id="sum"),
    pytest.param({"reduction": "none"}, id="none"),
    pytest.param({"dim": 1}, id="dim"),
    pytest.param({"average": "sample"}, id="sample"),
    pytest.param({"weight": torch.rand(1, 6, 1)}, id="weight"),
    pytest.param({"count": torch.tensor(7)}, id="count"),
    pytest.param({"empty": "nan"}, id="empty-nan"),
    pytest.param({"check_values": True}, id="check-values"),
    pytest.param({"weight": torch.rand(3)}, id="weight-enlarged-by-mask"),
    pytest.param(
        {"dim": 1, "keepdim": True, "count": torch.full((4, 1, 3), 2.0)}, id="per-row-count"
    ),
    pytest.param({"reduction": "sum", "dim": (0, 2), "keepdim": True}, id="sum-keepdim"),
]


def inputs():
    x = torch.randn(4, 6, 3, requires_grad=True)
    y = torch.randn(4, 6, 3)
    mask = torch.rand(4, 6, 1) < 0.5
    mask[0] = False  # one fully masked sample
    return x, y, mask


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("loss", LOSSES, ids=lambda f: f.__name__)
def test_loss_compiles_fullgraph_and_matches_eager(loss, options):
    torch._dynamo.reset()
    x, y, mask = inputs()
    compiled = torch.compile(loss, fullgraph=True, backend="aot_eager")
    got = compiled(x, y, mask, **options)
    (got_grad,) = torch.autograd.grad(got.nansum(), x)
    expected = loss(x, y, mask, **options)
    (expected_grad,) = torch.autograd.grad(expected.nansum(), x)
    torch.testing.assert_close(got, expected, equal_nan=True)
    torch.testing.assert_close(got_grad, expected_grad, equal_nan=True)


@pytest.mark.parametrize(
    "fn, args",
    [
        (ml.masked_mean, lambda x, m: (x, m)),
        (ml.masked_sum, lambda x, m: (x, m)),
        (ml.select_valid, lambda x, m: (x, m)),
        (ml.count_valid, lambda x, m: (m, x.shape)),
        (ml.naive_masked_mse_loss, lambda x, m: (x, x.detach() + 1, m)),
        (ml.global_count, lambda x, m: (ml.count_valid(m, x.shape),)),
        (ml.ddp_normalizer, lambda x, m: (ml.count_valid(m, x.shape),)),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_reductions_compile_fullgraph(fn, args):
    torch._dynamo.reset()
    x, _, mask = inputs()
    compiled = torch.compile(fn, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(*args(x, mask)), fn(*args(x, mask)))


def test_module_compiles_with_inductor():
    # One real inductor compile (the others use aot_eager to keep CI fast).
    torch._dynamo.reset()
    x, y, mask = inputs()
    module = ml.MaskedMSELoss()
    compiled = torch.compile(module, fullgraph=True)
    torch.testing.assert_close(compiled(x, y, mask), module(x, y, mask))
