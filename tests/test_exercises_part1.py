"""Part 1's exercise checks: each accepts the right answer, rejects typical wrong ones,
and answers an unfilled template with "not yet" instead of raising."""

from __future__ import annotations

import torch

import masked_loss as ml
from masked_loss.teaching import exercises as ex


def _not_yet(verdict: ex.Verdict) -> bool:
    return not verdict and repr(verdict).startswith(ex.NOT_YET)


def test_tutorial_prediction():
    none = [[1, 0, 1], [0, 1, 1]]
    assert ex.check_tutorial_prediction(4 / 6, 4, none)
    assert ex.check_tutorial_prediction(torch.tensor(0.6667), 4.0, torch.tensor(none))
    # What the tutorial prints:
    printed = ex.check_tutorial_prediction(0.5, 1.0, [[0, 0, 1], [0, 1, 1]])
    assert _not_yet(printed)
    assert "0.6667" in repr(printed)
    # The correct masked mean, which MSELoss cannot know:
    masked = ex.check_tutorial_prediction(1.0, 4.0, none)
    assert _not_yet(masked)
    assert "never sees the mask" in repr(masked)
    # Right mean and sum, 'none' as the tutorial prints it (0 in the first, valid, place):
    assert _not_yet(ex.check_tutorial_prediction(4 / 6, 4, [[0, 0, 1], [0, 1, 1]]))
    assert _not_yet(ex.check_tutorial_prediction(4 / 6, 4, [1, 0, 1, 0, 1, 1]))  # wrong shape
    assert _not_yet(ex.check_tutorial_prediction(4 / 6, 1.0, none))


def test_tutorial_prediction_template():
    for answer in ((None, None, None), (..., ..., ...), (4 / 6, None, None), ("a", "b", "c")):
        verdict = ex.check_tutorial_prediction(*answer)
        assert _not_yet(verdict)
        assert "fill in" in repr(verdict)
    assert _not_yet(ex.check_tutorial_prediction(4 / 6, 4, "not a list"))


def test_k_over_n():
    def k_over_n(mask, shape):
        return ml.count_valid(mask, shape) / torch.Size(shape).numel()

    assert ex.check_k_over_n(k_over_n)
    assert ex.check_k_over_n(lambda mask, shape: mask.double().mean())  # broadcasting keeps k/N
    assert _not_yet(ex.check_k_over_n(lambda mask, shape: torch.Size(shape).numel() / mask.sum()))
    # k counted before broadcasting the (B, T, 1) mask:
    assert _not_yet(ex.check_k_over_n(lambda mask, shape: mask.sum() / torch.Size(shape).numel()))
    assert _not_yet(ex.check_k_over_n(lambda mask, shape: 1 - mask.double().mean()))


def test_k_over_n_template():
    def template(mask, shape): ...  # your code here

    for answer in (None, template):
        assert _not_yet(ex.check_k_over_n(answer))
    assert "raised" in repr(ex.check_k_over_n(lambda mask, shape: 1 / 0))
    assert _not_yet(ex.check_k_over_n(lambda mask, shape: "k/N"))


def test_denominators():
    lengths, shape = ex.denominator_exercise()
    mask = (torch.arange(shape[1]) < lengths[:, None]).unsqueeze(-1)
    right = ml.count_valid(mask, shape).item(), torch.Size(shape).numel()
    assert ex.check_denominators(*right)
    assert ex.check_denominators(torch.tensor(right[0]), float(right[1]))
    steps = ex.check_denominators(int(lengths.sum()), right[1])  # valid steps, not elements
    assert _not_yet(steps)
    assert "valid steps" in repr(steps)
    mask_size = ex.check_denominators(right[0], mask.numel())  # the mask's own size
    assert _not_yet(mask_size)
    assert "mask's size" in repr(mask_size)
    assert _not_yet(ex.check_denominators(right[1], right[0]))  # swapped


def test_denominators_template():
    for answer in ((None, None), (..., ...), (None, 24), ("16", None)):
        verdict = ex.check_denominators(*answer)
        assert _not_yet(verdict)
        assert "fill in" in repr(verdict)


def test_cheatsheet_calls_run():
    """Every call in the cheat sheet's tables runs with the package as it is."""
    import pathlib
    import re

    page = pathlib.Path(__file__).resolve().parent.parent / "book" / "cheatsheet.md"
    rows = [line for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    calls = [s for row in rows for s in re.findall(r"`([^`]+)`", row) if "(" in s[1:]]
    assert len(calls) >= 15
    B, T, D = 3, 4, 2
    generator = torch.Generator().manual_seed(0)
    lengths = torch.tensor([3, 1, 0])
    namespace = {name: getattr(ml, name) for name in ml.__all__} | {
        "torch": torch,
        "T": T,
        "lengths": lengths,
        "pred": torch.randn(B, T, D, generator=generator, requires_grad=True),
        "target": torch.randn(B, T, D, generator=generator),
        "mask": (torch.arange(T) < lengths[:, None]).unsqueeze(-1),
        "step_mask": torch.arange(T) < lengths[:, None],
        "micro_masks": [torch.ones(B, T, 1, dtype=torch.bool)] * 2,
        "values": torch.randn(B, T, D, generator=generator),
        "w": torch.rand(B, T, 1, generator=generator),
        "C": 5.0,
        "total": torch.tensor(12),
    }
    for call in calls:
        statement = call.split(" with ")[0]
        try:
            exec(statement, namespace)
        except Exception as error:  # pragma: no cover - the message names the call
            raise AssertionError(f"cheat sheet call fails: {statement!r}: {error}") from error
