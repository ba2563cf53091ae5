"""Each exercise check accepts a right answer and rejects the tempting wrong one."""

from __future__ import annotations

import torch
import torch.nn.functional as F

import masked_loss as ml
from masked_loss.teaching import exercises as ex


def test_step_mask():
    assert ex.check_step_mask(lambda m: m.unsqueeze(-1))
    assert not ex.check_step_mask(lambda m: m)  # (B, T) misaligns with (B, T, D)
    verdict = ex.check_step_mask(None)
    assert not verdict
    assert repr(verdict).startswith("✗ Not yet: define the function")


def test_count():
    assert ex.check_count(lambda mask, shape: ml.count_valid(mask, shape))
    assert not ex.check_count(lambda mask, shape: mask.sum())  # counts before broadcasting


def test_weighted_mse():
    assert ex.check_weighted_mse(lambda p, t, m, w: ml.masked_mse_loss(p, t, m, weight=w))
    clamped = lambda p, t, m, w: (w * m * (p - t) ** 2).sum() / (w * m).sum().clamp(min=1)  # noqa: E731
    assert not ex.check_weighted_mse(clamped)
    nonzero = lambda p, t, m, w: (w * m * (p - t) ** 2).sum() / (w * m).count_nonzero()  # noqa: E731
    assert not ex.check_weighted_mse(nonzero)


def test_nan_safe_sum():
    assert ex.check_nan_safe_sum(lambda v, m: torch.where(m, v, 0).sum())
    assert not ex.check_nan_safe_sum(lambda v, m: (v * m).sum())
    assert not ex.check_nan_safe_sum(lambda v, m: (v * m).nansum())  # right value, NaN gradient


def test_sample_mean():
    assert ex.check_sample_mean(lambda v, m: ml.masked_mean(v, m, average="sample"))
    assert not ex.check_sample_mean(lambda v, m: ml.masked_mean(v, m, dim=1).mean())


def test_sample_vs_token():
    assert ex.check_sample_vs_token(44 / 10, (4 / 2 + 40 / 8) / 2)
    assert not ex.check_sample_vs_token((4 / 2 + 40 / 8) / 2, 44 / 10)
    assert not ex.check_sample_vs_token(None, None)


def test_accumulation_count():
    expected = sum(
        ml.count_valid(m, (*m.shape[:2], 3)).item() for m in ex.accumulation_exercise_masks()
    )
    assert ex.check_accumulation_count(expected)
    assert not ex.check_accumulation_count(expected // 3)


def test_fp16_mse():
    def upcast(p, t, m):
        return ml.masked_mse_loss(p, t, m)

    assert ex.check_fp16_mse(upcast)
    assert not ex.check_fp16_mse(lambda p, t, m: F.mse_loss(p * m, t * m) * m.numel() / m.sum())


def test_checks_report_exceptions_instead_of_raising():
    def broken(*args):
        raise RuntimeError("boom")

    verdict = ex.check_weighted_mse(broken)
    assert not verdict
    assert "raised RuntimeError: boom" in repr(verdict)
