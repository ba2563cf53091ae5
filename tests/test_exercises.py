"""Each exercise check accepts right answers and rejects at least two typical wrong ones."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import masked_loss as ml
from masked_loss.teaching import exercises as ex


def rejected(verdict, *fragments):
    """The verdict says no, and its message names what to look at."""
    assert not verdict, repr(verdict)
    for fragment in fragments:
        assert fragment in repr(verdict), repr(verdict)
    return True


# --- ex-step-mask: a (B, T) step mask over channels-first (B, D, T) outputs ---------------


@pytest.mark.parametrize(
    "answer", [lambda m: m.unsqueeze(1), lambda m: m[:, None, :], lambda m: m.unsqueeze(-2)]
)
def test_step_mask_accepts(answer):
    assert ex.check_step_mask(answer)


def test_step_mask_rejects_the_bare_mask():
    assert rejected(ex.check_step_mask(lambda m: m), "refused your mask")


def test_step_mask_rejects_the_trailing_dimension_of_the_other_layout():
    # (B, T, 1) is right for (B, T, D) outputs; over (B, D, T) with T == D it is
    # accepted silently and masks channels instead of steps.
    assert rejected(ex.check_step_mask(lambda m: m.unsqueeze(-1)), "wrong axes")


def test_step_mask_rejects_a_leading_dimension():
    assert rejected(ex.check_step_mask(lambda m: m.unsqueeze(0)))


def test_step_mask_reports_a_missing_answer():
    verdict = ex.check_step_mask(None)
    assert not verdict
    assert repr(verdict).startswith("✗ Not yet: define the function")


# --- ex-count ---------------------------------------------------------------------------


def test_count():
    assert ex.check_count(lambda mask, shape: ml.count_valid(mask, shape))
    assert ex.check_count(lambda mask, shape: mask.expand(shape).sum())
    assert rejected(ex.check_count(lambda mask, shape: mask.sum()))  # before broadcasting
    assert rejected(ex.check_count(lambda mask, shape: mask.expand(shape).numel()))  # all
    assert rejected(ex.check_count(lambda mask, shape: mask.sum() * shape[-1]))  # only D


# --- ex-weighted ------------------------------------------------------------------------


def test_weighted_mse():
    assert ex.check_weighted_mse(lambda p, t, m, w: ml.masked_mse_loss(p, t, m, weight=w))

    def clamped(p, t, m, w):
        return (w * m * (p - t) ** 2).sum() / (w * m).sum().clamp(min=1)

    def nonzero(p, t, m, w):
        return (w * m * (p - t) ** 2).sum() / (w * m).count_nonzero()

    def mean(p, t, m, w):
        return (w * m * (p - t) ** 2).mean()

    for wrong in (clamped, nonzero, mean):
        assert rejected(ex.check_weighted_mse(wrong), "denominator")


# --- ex-nan: value and gradient free of NaN padding ---------------------------------------

RIGHT_SSE = {
    "where before squaring": lambda p, t, m: (torch.where(m, p - t, 0.0) ** 2).sum(),
    "boolean index": lambda p, t, m: ((p[m] - t[m]) ** 2).sum(),
    "the package": lambda p, t, m: ml.masked_mse_loss(p, t, m, "sum"),
}

WRONG_SSE = {
    # NaN * 0 = NaN: the value itself is NaN.
    "multiply by the mask": (lambda p, t, m: ((p - t) ** 2 * m).sum(), "value is wrong"),
    # Right value; the backward of the square, 2 (p - t), is NaN at padded elements.
    "where after squaring": (
        lambda p, t, m: torch.where(m, (p - t) ** 2, 0.0).sum(),
        "gradient has NaN",
    ),
    "masked_fill after squaring": (
        lambda p, t, m: ((p - t) ** 2).masked_fill(~m, 0.0).sum(),
        "gradient has NaN",
    ),
    "nansum": (lambda p, t, m: ((p - t) ** 2 * m).nansum(), "gradient has NaN"),
    "nan_to_num after": (
        lambda p, t, m: torch.nan_to_num((p - t) ** 2 * m, posinf=0.0).sum(),
        "gradient has NaN",
    ),
    # Sanitises every NaN, including a real one in a valid element.
    "nan_to_num on the target": (
        lambda p, t, m: ((p - torch.nan_to_num(t, nan=0.0, posinf=0.0)) ** 2 * m).sum(),
        "was hidden",
    ),
    "detached result": (
        lambda p, t, m: (torch.where(m, p - t, 0.0) ** 2).sum().detach(),
        "still connected",
    ),
}


@pytest.mark.parametrize("name", RIGHT_SSE)
def test_nan_safe_sum_accepts(name):
    assert ex.check_nan_safe_sum(RIGHT_SSE[name])


@pytest.mark.parametrize("name", WRONG_SSE)
def test_nan_safe_sum_rejects(name):
    answer, reason = WRONG_SSE[name]
    assert rejected(ex.check_nan_safe_sum(answer), reason)


# --- ex-sample-mean ---------------------------------------------------------------------


def test_sample_mean():
    assert ex.check_sample_mean(lambda v, m: ml.masked_mean(v, m, average="sample"))
    # empty samples count as 0
    assert rejected(ex.check_sample_mean(lambda v, m: ml.masked_mean(v, m, dim=1).mean()))
    # the token mean instead of the per-sample mean
    assert rejected(ex.check_sample_mean(lambda v, m: ml.masked_mean(v, m)))


# --- ex-two-means -----------------------------------------------------------------------


def test_sample_vs_token():
    token, sample = 44 / 10, (4 / 2 + 40 / 8) / 2
    assert ex.check_sample_vs_token(token, sample)
    assert rejected(ex.check_sample_vs_token(sample, token))  # swapped
    assert rejected(ex.check_sample_vs_token(44 / 16, sample), "token mean")  # padding counted
    assert rejected(ex.check_sample_vs_token(token, (4 + 40) / 2), "per-sample mean")  # sums
    assert rejected(ex.check_sample_vs_token(None, None), "fill in")


# --- ex-accumulation --------------------------------------------------------------------


def test_accumulation_count():
    masks = ex.accumulation_exercise_masks()
    expected = sum(ml.count_valid(m, (*m.shape[:2], 3)).item() for m in masks)
    assert ex.check_accumulation_count(expected)
    assert rejected(ex.check_accumulation_count(expected // 3))  # steps, not elements
    assert rejected(ex.check_accumulation_count(ml.count_valid(masks[0], (2, 4, 3)).item()))
    assert rejected(ex.check_accumulation_count(sum(m.numel() * 3 for m in masks)))  # padding


# --- ex-fp16 ----------------------------------------------------------------------------


def test_fp16_mse():
    assert ex.check_fp16_mse(lambda p, t, m: ml.masked_mse_loss(p, t, m))

    def naive_rescaled(p, t, m):
        return F.mse_loss(p * m, t * m) * m.numel() / m.sum()

    def float16_arithmetic(p, t, m):
        return (torch.where(m, p - t, 0) ** 2).sum() / m.sum()

    def float32_result(p, t, m):
        return ml.masked_mse_loss(p.float(), t.float(), m)

    assert rejected(ex.check_fp16_mse(naive_rescaled))
    assert rejected(ex.check_fp16_mse(float16_arithmetic), "overflowed")
    assert rejected(ex.check_fp16_mse(float32_result), "float16")


def test_checks_report_exceptions_instead_of_raising():
    def broken(*args):
        raise RuntimeError("boom")

    verdict = ex.check_weighted_mse(broken)
    assert not verdict
    assert "raised RuntimeError: boom" in repr(verdict)


# --- ex-completion: token-mean cross-entropy of the completion tokens (chapter 15) --------


def _per_token(logits, labels, mask):
    safe = labels.where(mask, 0)
    return F.cross_entropy(logits, safe, reduction="none")


@pytest.mark.parametrize(
    "answer",
    [
        lambda x, y, m: ml.masked_cross_entropy(x, y, m),
        lambda x, y, m: F.cross_entropy(x, y.masked_fill(~m, -100), ignore_index=-100),
        lambda x, y, m: (_per_token(x, y, m) * m).sum() / m.sum(),
        lambda x, y, m: _per_token(x, y, m)[m].mean(),
    ],
    ids=["package", "ignore-index", "sum-over-count", "boolean-index"],
)
def test_completion_loss_accepts(answer):
    assert ex.check_completion_loss(answer)


def test_completion_loss_rejects_the_zeroed_logits():
    def naive(x, y, m):
        return F.cross_entropy(x * m.unsqueeze(1), y.clamp(min=0, max=x.shape[1] - 1) * m)

    assert rejected(ex.check_completion_loss(naive), "log C")


def test_completion_loss_rejects_the_mean_over_all_tokens():
    assert rejected(
        ex.check_completion_loss(lambda x, y, m: (_per_token(x, y, m) * m).mean()),
        "valid tokens, not all",
    )


def test_completion_loss_rejects_a_mean_of_sequence_means():
    def per_sequence(x, y, m):
        return ml.masked_cross_entropy(x, y, m, average="sample")

    assert rejected(ex.check_completion_loss(per_sequence), "token mean")


def test_completion_loss_rejects_labels_used_where_masked():
    # Without the mask, out-of-range labels in the padding make F.cross_entropy raise.
    answer = ex.check_completion_loss(lambda x, y, m: F.cross_entropy(x, y))
    assert rejected(answer, "raised")


def test_completion_loss_reports_a_missing_answer():
    assert repr(ex.check_completion_loss(None)).startswith("✗ Not yet: define the function")
