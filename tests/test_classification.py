"""Masked cross-entropy and BCE with logits against PyTorch and a float64 reference.

The reference below selects the valid elements by boolean indexing and
calls ``log_softmax``/``logsigmoid`` on them alone, the slow obvious way,
sharing no code with ``masked_loss``. Where ``F.cross_entropy(...,
ignore_index=-100)`` applies (class-index targets), the package must equal
it; where it does not (probabilities, per-element weights, BCE), the
reference decides.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import dims, masks, shapes, weights
from torch.func import grad, jacrev, jvp, vmap

import masked_loss as ml
from masked_loss.teaching.benchmark import saved_bytes

REDUCTIONS = ["mean", "sum", "none"]
NAN, INF = math.nan, math.inf


# ---------------------------------------------------------------- reference


def _reduce_reference(elementwise, m, denominators, reduction, dim, empty, average):
    """Sum and divide with explicit loops over rows (as tests/reference.py)."""
    if reduction == "none":
        return elementwise
    empty_value = 0.0 if empty == "zero" else math.nan

    def reduce(values, valid, weights):
        total = values[valid].sum()
        if reduction == "sum":
            return total
        count = weights[valid].sum()
        return total / count if count.item() != 0 else total * 0 + empty_value

    if average == "sample":
        means = [reduce(elementwise[i], m[i], denominators[i]) for i in range(m.shape[0])]
        nonempty = [mean for i, mean in enumerate(means) if denominators[i][m[i]].sum().item() > 0]
        if not nonempty:
            return elementwise.sum() * 0 + empty_value
        return torch.stack(nonempty).mean()
    if dim is None:
        return reduce(elementwise, m, denominators)
    kept = [d for d in range(m.dim()) if d not in dim]
    order = kept + list(dim)
    kept_shape = [m.shape[d] for d in kept]
    rows = elementwise.permute(order).reshape(math.prod(kept_shape), -1)
    valid = m.permute(order).reshape(len(rows), -1)
    dens = denominators.permute(order).reshape(len(rows), -1)
    out = [reduce(r, v, d) for r, v, d in zip(rows, valid, dens, strict=True)]
    return torch.stack(out).reshape(kept_shape)


def reference_cross_entropy(x, target, mask, reduction="mean", *, weight=None,
                            class_weight=None, label_smoothing=0.0, dim=None,
                            empty="zero", average="element"):  # fmt: skip
    x = x.double()
    classes = x.shape[1]
    logits = x.movedim(1, -1)  # (N, d1, ..., C)
    loss_shape = logits.shape[:-1]
    m = mask.bool().expand(loss_shape)
    w = torch.ones(loss_shape, dtype=torch.float64)
    if weight is not None:
        w = weight.double().expand(loss_shape)
    c = torch.ones(classes, dtype=torch.float64)
    if class_weight is not None:
        c = class_weight.double()
    log_p = torch.log_softmax(logits[m], dim=-1)  # valid rows only
    smooth = -(log_p * c).sum(-1)
    if target.is_floating_point():
        q = target.double().movedim(1, -1)[m]
        q = q * (1 - label_smoothing) + label_smoothing / classes
        losses = -(q * log_p * c).sum(-1)
        counted = w.clone()
    else:
        t = target[m]
        picked = -log_p.gather(-1, t.unsqueeze(-1)).squeeze(-1) * c[t]
        losses = (1 - label_smoothing) * picked + label_smoothing / classes * smooth
        counted = torch.zeros(loss_shape, dtype=torch.float64)
        counted[m] = w[m] * c[t]
    elementwise = torch.zeros(loss_shape, dtype=torch.float64).masked_scatter(m, losses * w[m])
    return _reduce_reference(elementwise, m, counted, reduction, dim, empty, average)


def reference_bce(x, target, mask, reduction="mean", *, weight=None, pos_weight=None,
                  dim=None, empty="zero", average="element"):  # fmt: skip
    x, y = x.double(), target.double()
    m = mask.bool().expand(x.shape)
    w = torch.ones_like(x) if weight is None else weight.double().expand(x.shape)
    p = torch.ones_like(x) if pos_weight is None else pos_weight.double().expand(x.shape)
    xv, yv = x[m], y[m]
    losses = -(p[m] * yv * F.logsigmoid(xv) + (1 - yv) * F.logsigmoid(-xv))
    elementwise = torch.zeros_like(x).masked_scatter(m, losses * w[m])
    return _reduce_reference(elementwise, m, w, reduction, dim, empty, average)


# ---------------------------------------------------------------- cases


@st.composite
def ce_cases(draw, soft=None):
    loss_shape = draw(shapes)  # (N, d1, ...)
    classes = draw(st.integers(1, 5))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    input_shape = (loss_shape[0], classes, *loss_shape[1:])
    x = torch.randn(input_shape, generator=generator, dtype=torch.float64) * 3
    mask = draw(masks(loss_shape))
    soft = draw(st.booleans()) if soft is None else soft
    if soft:
        target = torch.rand(input_shape, generator=generator, dtype=torch.float64)
        target = target / target.sum(1, keepdim=True)
    else:
        target = torch.randint(0, classes, loss_shape, generator=generator)
        # Any label where masked: PyTorch's -100, or an id out of range.
        junk = torch.where(torch.rand(loss_shape, generator=generator) < 0.5, -100, classes + 3)
        target = torch.where(mask.bool().expand(loss_shape), target, junk)
    reduction = draw(st.sampled_from(REDUCTIONS))
    mean = reduction == "mean"
    average = draw(st.sampled_from(["element", "element", "sample"])) if mean else "element"
    options = {
        "weight": draw(weights(loss_shape)),
        "dim": draw(dims(loss_shape)) if reduction != "none" and average == "element" else None,
        "empty": draw(st.sampled_from(["zero", "nan"])) if mean else "zero",
        "average": average,
        "label_smoothing": draw(st.sampled_from([0.0, 0.0, 0.1, 1.0])),
    }
    if draw(st.booleans()):
        options["class_weight"] = torch.rand(classes, generator=generator, dtype=torch.float64)
    return x, target, mask, reduction, options


@st.composite
def bce_cases(draw):
    shape = draw(shapes)
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn(shape, generator=generator, dtype=torch.float64) * 3
    y = torch.rand(shape, generator=generator, dtype=torch.float64)
    mask = draw(masks(shape))
    y = torch.where(mask.bool(), y, NAN)  # missing labels stored as NaN
    reduction = draw(st.sampled_from(REDUCTIONS))
    mean = reduction == "mean"
    average = draw(st.sampled_from(["element", "element", "sample"])) if mean else "element"
    options = {
        "weight": draw(weights(shape)),
        "dim": draw(dims(shape)) if reduction != "none" and average == "element" else None,
        "empty": draw(st.sampled_from(["zero", "nan"])) if mean else "zero",
        "average": average,
    }
    if draw(st.booleans()):
        options["pos_weight"] = torch.rand(shape[-1:], generator=generator, dtype=torch.float64)
    return x, y, mask, reduction, options


# ---------------------------------------------------------------- values


@given(ce_cases())
def test_cross_entropy_matches_float64_reference(case):
    x, target, mask, reduction, options = case
    ours = ml.masked_cross_entropy(x, target, mask, reduction=reduction, **options)
    ref = reference_cross_entropy(x, target, mask, reduction, **options)
    assert ours.dtype == torch.float64 and ours.shape == ref.shape
    torch.testing.assert_close(ours, ref, equal_nan=True)


@given(ce_cases())
def test_cross_entropy_gradient_matches_reference(case):
    x, target, mask, reduction, options = case
    options = {**options, "empty": "zero"}
    leaf, ref_leaf = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours = ml.masked_cross_entropy(leaf, target, mask, reduction=reduction, **options)
    ref = reference_cross_entropy(ref_leaf, target, mask, reduction, **options)
    upstream = torch.randn(ours.shape, generator=torch.Generator().manual_seed(1),
                           dtype=torch.float64)  # fmt: skip
    (ours * upstream).sum().backward()
    (ref * upstream).sum().backward()
    torch.testing.assert_close(leaf.grad, ref_leaf.grad)


@given(ce_cases(soft=False))
def test_cross_entropy_float32_matches_reference(case):
    x, target, mask, reduction, options = case
    options = {k: (v.float() if isinstance(v, torch.Tensor) else v) for k, v in options.items()}
    ours = ml.masked_cross_entropy(x.float(), target, mask, reduction=reduction, **options)
    ref = reference_cross_entropy(x, target, mask, reduction, **options)
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours.double(), ref, equal_nan=True, rtol=1e-5, atol=1e-5)


@given(bce_cases())
def test_bce_matches_float64_reference(case):
    x, y, mask, reduction, options = case
    leaf, ref_leaf = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours = ml.masked_binary_cross_entropy_with_logits(leaf, y, mask, reduction=reduction,
                                                      **options)  # fmt: skip
    ref = reference_bce(ref_leaf, y, mask, reduction, **options)
    torch.testing.assert_close(ours, ref, equal_nan=True)
    if options["empty"] == "zero":
        ours.sum().backward()
        ref.sum().backward()
        torch.testing.assert_close(leaf.grad, ref_leaf.grad)


CE_OPTIONS = [
    pytest.param({}, id="plain"),
    pytest.param({"class_weight": "rand"}, id="class-weight"),
    pytest.param({"label_smoothing": 0.2}, id="smoothing"),
    pytest.param({"class_weight": "rand", "label_smoothing": 0.3}, id="weight-and-smoothing"),
    pytest.param({"class_weight": "rand", "label_smoothing": 1.0}, id="all-smoothing"),
]


def _torch_options(options, classes, dtype=torch.float32):
    options = dict(options)
    if options.get("class_weight") == "rand":
        generator = torch.Generator().manual_seed(3)
        options["class_weight"] = torch.rand(classes, generator=generator).to(dtype) + 0.1
    return options


@pytest.mark.parametrize("options", CE_OPTIONS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "input_shape", [(7, 5), (4, 5, 6), (3, 5, 2, 4), (5,)], ids=["NC", "NCd", "NCdd", "C"]
)
def test_equals_cross_entropy_with_ignore_index(options, reduction, input_shape):
    options = _torch_options(options, 5)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(input_shape, generator=generator, requires_grad=True)
    loss_shape = input_shape[:1] + input_shape[2:] if len(input_shape) > 1 else ()
    target = torch.randint(0, 5, loss_shape, generator=generator)
    mask = torch.rand(loss_shape, generator=generator) < 0.6
    if len(input_shape) == 1:
        mask = torch.tensor(True)
    ours = ml.masked_cross_entropy(x, target, mask, reduction=reduction, **options)
    expected = F.cross_entropy(x, target.masked_fill(~mask, -100), ignore_index=-100,
                               reduction=reduction, weight=options.get("class_weight"),
                               label_smoothing=options.get("label_smoothing", 0.0))  # fmt: skip
    torch.testing.assert_close(ours, expected)
    (grad_ours,) = torch.autograd.grad(ours.sum(), x)
    (grad_torch,) = torch.autograd.grad(expected.sum(), x)
    torch.testing.assert_close(grad_ours, grad_torch)


def test_label_smoothing_with_class_weight_divides_by_target_weights():
    # PyTorch's denominator with class weights is sum of c[t] over valid
    # elements, for the smoothing term too (LossNLL.cpp); written out here.
    x = torch.tensor([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 2.0, 2.0]])
    t = torch.tensor([0, 2, 1])
    c = torch.tensor([0.5, 2.0, 1.0])
    mask = torch.tensor([True, True, False])
    eps = 0.3
    log_p = x.log_softmax(1)
    numerator = sum(
        (1 - eps) * c[t[i]] * -log_p[i, t[i]] + eps / 3 * -(c * log_p[i]).sum() for i in (0, 1)
    )
    by_hand = numerator / (c[t[0]] + c[t[1]])
    ours = ml.masked_cross_entropy(x, t, mask, class_weight=c, label_smoothing=eps)
    torch.testing.assert_close(ours, by_hand)
    torch.testing.assert_close(
        ours, F.cross_entropy(x, t.masked_fill(~mask, -100), weight=c, label_smoothing=eps)
    )


def test_every_target_ignored():
    x = torch.randn(4, 3, requires_grad=True)
    t = torch.full((4,), -100)
    none = torch.zeros(4, dtype=torch.bool)
    assert torch.isnan(F.cross_entropy(x, t, ignore_index=-100))  # PyTorch: 0 / 0
    assert torch.isnan(ml.masked_cross_entropy(x, t, none, empty="nan"))
    loss = ml.masked_cross_entropy(x, t, none)
    assert loss.item() == 0.0
    loss.backward()
    assert (x.grad == 0).all()


def test_soft_targets_equal_torch_on_the_valid_rows():
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(6, 4, 3, generator=generator, requires_grad=True)
    q = torch.rand(6, 4, 3, generator=generator).softmax(1)
    mask = torch.rand(6, 3, generator=generator) < 0.5
    c = torch.rand(4, generator=generator) + 0.5
    for eps in (0.0, 0.2):
        ours = ml.masked_cross_entropy(x, q, mask, class_weight=c, label_smoothing=eps)
        rows = x.movedim(1, -1)[mask]
        expected = F.cross_entropy(rows, q.movedim(1, -1)[mask], weight=c, label_smoothing=eps)
        torch.testing.assert_close(ours, expected)
        full = torch.ones(6, 3, dtype=torch.bool)
        torch.testing.assert_close(
            ml.masked_cross_entropy(x, q, full, reduction="none", label_smoothing=eps),
            F.cross_entropy(x, q, reduction="none", label_smoothing=eps),
        )


def test_bce_equals_torch_on_the_valid_elements():
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(5, 4, generator=generator)
    y = (torch.rand(5, 4, generator=generator) < 0.5).float()
    mask = torch.rand(5, 4, generator=generator) < 0.7
    pos = torch.rand(4, generator=generator) + 0.5
    ours = ml.masked_binary_cross_entropy_with_logits(x, y, mask, pos_weight=pos)
    expected = F.binary_cross_entropy_with_logits(
        x[mask], y[mask], pos_weight=pos.expand(5, 4)[mask]
    )
    torch.testing.assert_close(ours, expected)
    full = torch.ones(5, 4, dtype=torch.bool)
    for reduction in REDUCTIONS:
        torch.testing.assert_close(
            ml.masked_binary_cross_entropy_with_logits(
                x, y, full, reduction=reduction, pos_weight=pos
            ),  # fmt: skip
            F.binary_cross_entropy_with_logits(x, y, reduction=reduction, pos_weight=pos),
        )


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_low_precision_matches_torch(dtype):
    generator = torch.Generator().manual_seed(4)
    x = torch.randn(64, 50, generator=generator).to(dtype)
    t = torch.randint(0, 50, (64,), generator=generator)
    mask = torch.rand(64, generator=generator) < 0.5
    ours = ml.masked_cross_entropy(x, t, mask)
    assert ours.dtype == dtype
    expected = F.cross_entropy(x, t.masked_fill(~mask, -100), ignore_index=-100)
    tolerance = {"rtol": 1e-2, "atol": 1e-2} if dtype == torch.bfloat16 else {}
    torch.testing.assert_close(ours, expected, **tolerance)


# ---------------------------------------------------------------- the naive forms


@pytest.mark.parametrize("classes", [2, 5, 50])
def test_naive_cross_entropy_is_f_correct_plus_log_c(classes):
    generator = torch.Generator().manual_seed(classes)
    for _ in range(5):
        x = torch.randn(40, classes, 3, generator=generator, dtype=torch.float64)
        t = torch.randint(0, classes, (40, 3), generator=generator)
        mask = torch.rand(40, 3, generator=generator) < 0.4
        f = mask.double().mean()
        naive = ml.naive_masked_cross_entropy(x, t, mask)
        correct = ml.masked_cross_entropy(x, t, mask)
        torch.testing.assert_close(naive, f * correct + (1 - f) * math.log(classes))


def test_naive_bce_is_f_correct_plus_log_2():
    generator = torch.Generator().manual_seed(5)
    for _ in range(5):
        x = torch.randn(30, 7, generator=generator, dtype=torch.float64)
        y = torch.rand(30, 7, generator=generator, dtype=torch.float64)
        mask = torch.rand(30, 7, generator=generator) < 0.3
        f = mask.double().mean()
        naive = ml.naive_masked_binary_cross_entropy_with_logits(x, y, mask)
        correct = ml.masked_binary_cross_entropy_with_logits(x, y, mask)
        torch.testing.assert_close(naive, f * correct + (1 - f) * math.log(2))


# ---------------------------------------------------------------- NaN, inf, any label


def poisoned_batch():
    """Rows 1 and 3 are padding: NaN, +inf and all -inf logits, labels -100 and 10**6."""
    generator = torch.Generator().manual_seed(6)
    x = torch.randn(5, 4, generator=generator)
    x[1] = torch.tensor([NAN, 0.0, INF, -INF])
    x[3] = -INF
    t = torch.tensor([2, -100, 0, 10**6, 3])
    mask = torch.tensor([True, False, True, False, True])
    return x, t, mask


@pytest.mark.parametrize("upstream", [1.0, NAN, INF])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"reduction": "sum"},
        {"reduction": "none"},
        {"class_weight": torch.tensor([1.0, 2.0, 0.5, 1.0]), "label_smoothing": 0.1},
        {"weight": torch.tensor([1.0, NAN, 2.0, NAN, 0.5])},
        {"average": "sample"},
    ],
    ids=["mean", "sum", "none", "class-weight-smoothing", "weight", "sample"],
)
def test_nan_and_inf_logits_where_masked(options, upstream):
    x, t, mask = poisoned_batch()
    leaf = x.clone().requires_grad_()
    loss = ml.masked_cross_entropy(leaf, t, mask, **options)
    assert torch.isfinite(loss).all()
    clean = torch.where(mask[:, None], x, 0.0)
    torch.testing.assert_close(loss, ml.masked_cross_entropy(clean, t, mask, **options))
    loss.backward(torch.full_like(loss, upstream))
    assert (leaf.grad[~mask] == 0).all()
    if upstream == 1.0:
        assert torch.isfinite(leaf.grad).all()


def test_nan_where_masked_under_torch_func_and_without_grad():
    x, t, mask = poisoned_batch()
    with torch.no_grad():
        assert torch.isfinite(ml.masked_cross_entropy(x, t, mask))
    g = grad(lambda a: ml.masked_cross_entropy(a, t, mask))(x)
    assert torch.isfinite(g).all() and (g[~mask] == 0).all()


def test_soft_targets_and_bce_with_nan_where_masked():
    x, _, mask = poisoned_batch()
    q = torch.full((5, 4), NAN)
    q[mask] = torch.tensor([0.1, 0.2, 0.3, 0.4])
    leaf = x.clone().requires_grad_()
    ml.masked_cross_entropy(leaf, q, mask).backward()
    assert torch.isfinite(leaf.grad).all() and (leaf.grad[~mask] == 0).all()
    leaf.grad = None
    y = torch.where(mask[:, None], torch.rand(5, 4), NAN)
    loss = ml.masked_binary_cross_entropy_with_logits(leaf, y, mask[:, None])
    assert torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(leaf.grad).all() and (leaf.grad[~mask] == 0).all()


def test_valid_out_of_range_label_is_an_error():
    x = torch.randn(3, 4)
    with pytest.raises(IndexError, match="out of bounds"):
        ml.masked_cross_entropy(x, torch.tensor([0, 7, 1]), torch.tensor([True, True, False]))
    with pytest.raises(IndexError, match="out of bounds"):
        ml.masked_cross_entropy(x, torch.tensor([0, -100, 1]), torch.ones(3, dtype=torch.bool))


def test_naive_cross_entropy_is_poisoned_by_nan_padding():
    x, t, mask = poisoned_batch()
    assert torch.isnan(ml.naive_masked_cross_entropy(x, t.clamp(0, 3), mask))


# ---------------------------------------------------------------- autograd features

MASK = torch.tensor([[True, False, True], [False, False, False], [True, True, False]])
GRAD_CASES = [
    ("plain", {}),
    ("sum", {"reduction": "sum"}),
    ("none", {"reduction": "none"}),
    ("class-weight-smoothing", {"class_weight": "rand", "label_smoothing": 0.2}),
    ("weight", {"weight": "rand"}),
    ("dim", {"dim": 1, "empty": "nan"}),
    ("sample", {"average": "sample"}),
    ("count", {"count": 5.0}),
]


def _grad_options(options, classes=4):
    options = _torch_options(options, classes, torch.float64)
    if options.get("weight") == "rand":
        options["weight"] = torch.rand(3, 3, dtype=torch.float64) + 0.5
    return options


@pytest.mark.parametrize("soft", [False, True], ids=["indices", "probabilities"])
@pytest.mark.parametrize(("name", "options"), GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_cross_entropy_gradcheck_and_gradgradcheck(name, options, soft):
    options = _grad_options(options)
    x = torch.randn(3, 4, 3, dtype=torch.float64, requires_grad=True)
    if soft:
        target = torch.rand(3, 4, 3, dtype=torch.float64).softmax(1).requires_grad_()
        inputs = (x, target)

        def loss(a, b):
            return ml.masked_cross_entropy(a, b, MASK, **options).nan_to_num()

    else:
        target = torch.randint(0, 4, (3, 3)).masked_fill(~MASK, -100)
        inputs = (x,)

        def loss(a):
            return ml.masked_cross_entropy(a, target, MASK, **options).nan_to_num()

    assert torch.autograd.gradcheck(loss, inputs)
    assert torch.autograd.gradgradcheck(loss, inputs)


@pytest.mark.parametrize(("name", "options"), GRAD_CASES[:3] + GRAD_CASES[4:],
                         ids=[c[0] for c in GRAD_CASES[:3] + GRAD_CASES[4:]])  # fmt: skip
def test_bce_gradcheck_and_gradgradcheck(name, options):
    options = _grad_options(options)
    x = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    y = torch.rand(3, 3, dtype=torch.float64, requires_grad=True)
    pos = torch.rand(3, dtype=torch.float64) + 0.5

    def loss(a, b):
        return ml.masked_binary_cross_entropy_with_logits(
            a, b, MASK, pos_weight=pos, **options
        ).nan_to_num()

    assert torch.autograd.gradcheck(loss, (x, y))
    assert torch.autograd.gradgradcheck(loss, (x, y))


FUNC_CASES = [
    ("indices", {}),
    ("indices", {"class_weight": "rand", "label_smoothing": 0.1, "reduction": "sum"}),
    ("indices", {"reduction": "none", "weight": "rand"}),
    ("indices", {"dim": 1}),
    ("probabilities", {"label_smoothing": 0.1}),
    ("bce", {}),
    ("bce", {"reduction": "none"}),
]


def _func_inputs(kind, seed=0):
    generator = torch.Generator().manual_seed(seed)
    if kind == "bce":
        x = torch.randn(2, 3, 3, generator=generator, dtype=torch.float64)
        y = torch.rand(2, 3, 3, generator=generator, dtype=torch.float64)
        return x, y, torch.stack([MASK, ~MASK])
    x = torch.randn(2, 3, 4, 3, generator=generator, dtype=torch.float64)
    if kind == "probabilities":
        y = torch.rand(2, 3, 4, 3, generator=generator, dtype=torch.float64).softmax(2)
    else:
        y = torch.randint(0, 4, (2, 3, 3), generator=generator)
        y = torch.where(torch.stack([MASK, ~MASK]), y, -100)
    return x, y, torch.stack([MASK, ~MASK])


def _func_loss(kind, options):
    fn = ml.masked_binary_cross_entropy_with_logits if kind == "bce" else ml.masked_cross_entropy
    options = _grad_options(options)
    if kind == "bce":
        options.pop("class_weight", None)

    def loss(a, b, m):
        return fn(a, b, m, **options)

    return loss


@pytest.mark.parametrize(("kind", "options"), FUNC_CASES)
def test_vmap_equals_loop(kind, options):
    x, y, mask = _func_inputs(kind)
    loss = _func_loss(kind, options)
    looped = torch.stack([loss(a, b, m) for a, b, m in zip(x, y, mask, strict=True)])
    torch.testing.assert_close(vmap(loss)(x, y, mask), looped)


@pytest.mark.parametrize(("kind", "options"), FUNC_CASES)
def test_func_grad_jacrev_jvp_and_forward_ad_match_autograd(kind, options):
    x, y, mask = _func_inputs(kind)
    x, y, mask = x[0], y[0], mask[0]
    padding = ~mask if kind == "bce" else ~mask.unsqueeze(1).expand_as(x)
    x[padding] = NAN  # the padding holds NaN
    base = _func_loss(kind, options)

    def loss(a):
        return base(a, y, mask).sum()

    leaf = x.clone().requires_grad_()
    (expected,) = torch.autograd.grad(loss(leaf), leaf)
    assert torch.isfinite(expected).all()
    torch.testing.assert_close(grad(loss)(x), expected)
    torch.testing.assert_close(jacrev(loss)(x), expected)
    tangent = torch.randn_like(x)
    expected_jvp = (expected * tangent).sum()
    _, got_jvp = jvp(loss, (x,), (tangent,))
    torch.testing.assert_close(got_jvp, expected_jvp)
    with fwAD.dual_level():
        got_forward = fwAD.unpack_dual(loss(fwAD.make_dual(x, tangent))).tangent
    torch.testing.assert_close(got_forward, expected_jvp)


COMPILE_CASES = [
    ("indices", {}),
    ("indices", {"class_weight": "rand", "label_smoothing": 0.1}),
    ("indices", {"reduction": "none"}),
    ("indices", {"count": torch.tensor(7)}),
    ("indices", {"average": "sample", "empty": "nan"}),
    ("indices", {"reduction": "sum", "weight": "rand"}),
    ("indices", {"dim": 1, "keepdim": True}),
    ("indices", {"check_values": True}),
    ("probabilities", {}),
    ("probabilities", {"reduction": "none", "label_smoothing": 0.2}),
    ("bce", {"weight": "rand"}),
    ("bce", {"pos_weight": torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)}),
    ("bce", {"reduction": "sum", "dim": 0, "check_values": True}),
]


@pytest.mark.parametrize(("kind", "options"), COMPILE_CASES)
def test_compile_fullgraph_matches_eager(kind, options):
    torch._dynamo.reset()
    x, y, mask = _func_inputs(kind)
    x, y, mask = x[0].float().requires_grad_(), y[0], mask[0]
    if y.is_floating_point():
        y = y.float()
    loss = _func_loss(kind, options)
    floats = {k: (v.float() if isinstance(v, torch.Tensor) and v.is_floating_point() else v)
              for k, v in _grad_options(options).items()}  # fmt: skip
    fn = ml.masked_binary_cross_entropy_with_logits if kind == "bce" else ml.masked_cross_entropy

    def call(a, b, m):
        return fn(a, b, m, **floats)

    del loss
    compiled = torch.compile(call, fullgraph=True, backend="aot_eager")
    got = compiled(x, y, mask)
    (got_grad,) = torch.autograd.grad(got.nansum(), x)
    expected = call(x, y, mask)
    (expected_grad,) = torch.autograd.grad(expected.nansum(), x)
    torch.testing.assert_close(got, expected, equal_nan=True)
    torch.testing.assert_close(got_grad, expected_grad)


def test_naive_forms_and_class_weight_count_compile_fullgraph():
    torch._dynamo.reset()
    generator = torch.Generator().manual_seed(11)
    logits = torch.randn(6, 4, generator=generator)
    labels = torch.randint(0, 4, (6,), generator=generator)
    mask = torch.tensor([1, 0, 1, 1, 0, 1], dtype=torch.bool)
    targets = torch.rand(6, 4, generator=generator)
    class_weight = torch.rand(4, generator=generator)
    calls = [
        (ml.naive_masked_cross_entropy, (logits, labels, mask)),
        (ml.naive_masked_binary_cross_entropy_with_logits, (logits, targets, mask[:, None])),
        (ml.class_weight_count, (labels, mask, class_weight)),
    ]
    for fn, args in calls:
        compiled = torch.compile(fn, fullgraph=True, backend="aot_eager")
        torch.testing.assert_close(compiled(*args), fn(*args))


def test_module_compiles_with_inductor():
    torch._dynamo.reset()
    x, y, mask = _func_inputs("indices")
    module = ml.MaskedCrossEntropyLoss(label_smoothing=0.1)
    compiled = torch.compile(module, fullgraph=True)
    torch.testing.assert_close(compiled(x[0], y[0], mask[0]), module(x[0], y[0], mask[0]))


@pytest.mark.parametrize(
    "module",
    [
        ml.MaskedCrossEntropyLoss(),
        ml.MaskedCrossEntropyLoss("none", class_weight=torch.rand(4, dtype=torch.float64)),
        ml.MaskedCrossEntropyLoss(dim=1, label_smoothing=0.1),
        ml.MaskedBCEWithLogitsLoss(),
        ml.MaskedBCEWithLogitsLoss("sum", pos_weight=torch.rand(3, dtype=torch.float64)),
    ],
    ids=["ce", "ce-none-weight", "ce-dim", "bce", "bce-sum-pos"],
)
def test_export_runs_and_matches(module):
    kind = "bce" if isinstance(module, ml.MaskedBCEWithLogitsLoss) else "indices"
    first = tuple(t[0] for t in _func_inputs(kind, 0))
    exported = torch.export.export(module, first)
    fresh = tuple(t[0] for t in _func_inputs(kind, 1))
    torch.testing.assert_close(exported.module()(*fresh), module(*fresh), equal_nan=True)


# ---------------------------------------------------------------- modules, counts, memory


def test_modules_equal_functions():
    x, y, mask = (t[0] for t in _func_inputs("indices"))
    c = torch.rand(4, dtype=torch.float64)
    w = torch.rand(3, 3, dtype=torch.float64)
    module = ml.MaskedCrossEntropyLoss("sum", class_weight=c, label_smoothing=0.2, dim=1)
    torch.testing.assert_close(
        module(x, y, mask, weight=w),
        ml.masked_cross_entropy(
            x, y, mask, reduction="sum", class_weight=c, label_smoothing=0.2, dim=1, weight=w
        ),  # fmt: skip
    )
    assert "label_smoothing=0.2" in repr(module) and "dim=1" in repr(module)
    assert module.to(torch.float32).class_weight.dtype == torch.float32
    x, y, mask = _func_inputs("bce")
    pos = torch.rand(3, dtype=torch.float64)
    bce = ml.MaskedBCEWithLogitsLoss(pos_weight=pos, empty="nan")
    torch.testing.assert_close(
        bce(x, y, mask, count=4.0),
        ml.masked_binary_cross_entropy_with_logits(
            x, y, mask, pos_weight=pos, empty="nan", count=4.0
        ),  # fmt: skip
    )


def test_gradient_accumulation_with_global_count_equals_full_batch():
    generator = torch.Generator().manual_seed(7)
    model = torch.nn.Linear(6, 9).double()
    x = torch.randn(8, 5, 6, generator=generator, dtype=torch.float64)
    t = torch.randint(0, 9, (8, 5), generator=generator)
    lengths = torch.tensor([5, 1, 3, 2, 5, 4, 1, 2])
    mask = torch.arange(5) < lengths[:, None]
    c = torch.rand(9, generator=generator, dtype=torch.float64) + 0.5

    def logits(xb):
        return model(xb).movedim(-1, 1)  # (B, C, T)

    for class_weight in (None, c):
        model.zero_grad()
        ml.masked_cross_entropy(logits(x), t, mask, class_weight=class_weight).backward()
        full = [p.grad.clone() for p in model.parameters()]
        parts = [slice(0, 3), slice(3, 4), slice(4, 8)]
        if class_weight is None:
            total = sum(ml.count_valid(mask[s], t[s].shape) for s in parts)
        else:
            total = sum(ml.class_weight_count(t[s], mask[s], c) for s in parts)
        for use_count in (True, False):
            model.zero_grad()
            for s in parts:
                count = total if use_count else None
                loss = ml.masked_cross_entropy(
                    logits(x[s]), t[s], mask[s], class_weight=class_weight, count=count
                )
                (loss if use_count else loss / len(parts)).backward()
            grads = [p.grad for p in model.parameters()]
            same = all(torch.allclose(g, f) for g, f in zip(grads, full, strict=True))
            assert same == use_count


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_saves_no_more_than_cross_entropy_with_ignore_index(dtype):
    generator = torch.Generator().manual_seed(8)
    x = torch.randn(256, 1000, generator=generator).to(dtype).requires_grad_()
    t = torch.randint(0, 1000, (256,), generator=generator)
    mask = torch.rand(256, generator=generator) < 0.7
    ignored = t.masked_fill(~mask, -100)
    torch_bytes = saved_bytes(lambda: F.cross_entropy(x, ignored, ignore_index=-100))
    # Beyond what F.cross_entropy saves, only the mask (one byte per row, which
    # torch.where keeps for its backward pass): no other logits-sized tensor.
    assert saved_bytes(lambda: ml.masked_cross_entropy(x, t, mask)) <= (torch_bytes + mask.numel())
    poisoned = x.detach().clone()
    poisoned[~mask] = NAN
    poisoned.requires_grad_()
    assert saved_bytes(lambda: ml.masked_cross_entropy(poisoned, t, mask)) <= (
        torch_bytes + mask.numel()
    )


# ---------------------------------------------------------------- refusals


def test_refusals_name_what_was_expected():
    x = torch.randn(4, 3, 5)
    t = torch.zeros(4, 5, dtype=torch.int64)
    mask = torch.ones(4, 5, dtype=torch.bool)
    with pytest.raises(ValueError, match=r"class-index targets must have shape \(4, 5\)"):
        ml.masked_cross_entropy(x, torch.zeros(4, 3, dtype=torch.int64), mask)
    probabilities = r"class-probability targets.*\(4, 3, 5\), got \(4, 5, 3\)"
    with pytest.raises(ValueError, match=probabilities):
        ml.masked_cross_entropy(x, torch.rand(4, 5, 3), mask)
    with pytest.raises(TypeError, match="class indices.*torch.bool"):
        ml.masked_cross_entropy(x, t.bool(), mask)
    with pytest.raises(TypeError, match="floating-point logits"):
        ml.masked_cross_entropy(t, t, mask)
    with pytest.raises(ValueError, match=r"class_weight must have shape \(3,\)"):
        ml.masked_cross_entropy(x, t, mask, class_weight=torch.ones(5))
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        ml.masked_cross_entropy(x, t, mask, label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"mask of shape \(4, 3\) cannot be broadcast"):
        ml.masked_cross_entropy(x, t, torch.ones(4, 3, dtype=torch.bool))
    with pytest.raises(TypeError, match=r"dtype torch.float32.*weight="):
        ml.masked_cross_entropy(x, t, mask.float())
    with pytest.raises(ValueError, match=r"count does not apply to reduction='none'"):
        ml.masked_cross_entropy(x, t, mask, reduction="none", count=3.0)
    with pytest.raises(ValueError, match="must have a class dimension"):
        ml.masked_cross_entropy(torch.tensor(1.0), torch.tensor(0), torch.tensor(True))
    with pytest.raises(ValueError, match=r"input \(4, 3, 5\) and target \(4, 5\)"):
        ml.masked_binary_cross_entropy_with_logits(x, t.float(), mask)
    with pytest.raises(TypeError, match="floating-point tensor of probabilities"):
        ml.masked_binary_cross_entropy_with_logits(x, x.long(), mask)
    with pytest.raises(ValueError, match=r"pos_weight of shape \(4,\) cannot be broadcast"):
        ml.masked_binary_cross_entropy_with_logits(x, x, mask[:, :3, None],
                                                   pos_weight=torch.ones(4))  # fmt: skip
    with pytest.raises(ValueError, match=r"reduction='avg'"):
        ml.MaskedCrossEntropyLoss("avg")
    with pytest.raises(TypeError, match="pos_weight must be a floating-point tensor"):
        ml.MaskedBCEWithLogitsLoss(pos_weight=torch.ones(3, dtype=torch.int64))


@settings(max_examples=30)
@given(st.integers(1, 6), st.integers(1, 6))
def test_class_weight_count_is_the_local_denominator(rows, classes):
    generator = torch.Generator().manual_seed(rows * 10 + classes)
    x = torch.randn(rows, classes, generator=generator, dtype=torch.float64)
    t = torch.randint(0, classes, (rows,), generator=generator)
    mask = torch.rand(rows, generator=generator) < 0.6
    c = torch.rand(classes, generator=generator, dtype=torch.float64) + 0.1
    t = t.masked_fill(~mask, -100)
    total = ml.masked_cross_entropy(x, t, mask, class_weight=c, reduction="sum")
    count = ml.class_weight_count(t, mask, c)
    torch.testing.assert_close(
        ml.masked_cross_entropy(x, t, mask, class_weight=c, count=count, empty="nan"),
        total / count if count > 0 else torch.tensor(NAN, dtype=torch.float64),
        equal_nan=True,
    )
