"""Part 1's exercise checks: each accepts the right answer, rejects typical wrong ones,
and answers an unfilled template with "not yet" instead of raising."""

from __future__ import annotations

import pathlib
import re

import pytest
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
    # The hint never gives away the value the student is asked to predict.
    for shown in ("0.6667", "0.667", "0.67", "4/6", "2/3"):
        assert shown not in repr(printed), repr(printed)
    # Rounded to two or three decimals, 2/3 is right; 0.66 and 0.7 are not.
    for rounded in (0.67, 0.667, 0.6667):
        assert ex.check_tutorial_prediction(rounded, 4, none), rounded
    for wrong in (0.66, 0.7, 0.6):
        verdict = ex.check_tutorial_prediction(wrong, 4, none)
        assert _not_yet(verdict)
        assert "0.66" not in repr(verdict).replace(f"{wrong:g}", "")
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


CHEATSHEET = pathlib.Path(__file__).resolve().parent.parent / "book" / "cheatsheet.md"


def run_cheatsheet_calls(page: str) -> int:
    """Run every call in the tables of ``page``; return how many ran.

    A call followed by `` with `setup` `` runs after its set-up statement.
    Micro-batches have different shapes, as the last one of an epoch often
    does, so a count taken against the wrong shape fails here.
    """
    B, T, D = 3, 4, 2
    generator = torch.Generator().manual_seed(0)
    lengths = torch.tensor([3, 1, 0])
    micro_lengths = [torch.tensor([3, 1, 0]), torch.tensor([6, 2])]  # (3, 4) and (2, 6) steps
    micro_masks = [
        (torch.arange(steps) < n[:, None]).unsqueeze(-1)
        for n, steps in zip(micro_lengths, (T, 6), strict=True)
    ]
    namespace = {name: getattr(ml, name) for name in ml.__all__} | {
        "torch": torch,
        "T": T,
        "lengths": lengths,
        "pred": torch.randn(B, T, D, generator=generator, requires_grad=True),
        "target": torch.randn(B, T, D, generator=generator),
        "mask": (torch.arange(T) < lengths[:, None]).unsqueeze(-1),
        "step_mask": torch.arange(T) < lengths[:, None],
        "micro_masks": micro_masks,
        "micro_targets": [torch.randn(*m.shape[:2], D, generator=generator) for m in micro_masks],
        "values": torch.randn(B, T, D, generator=generator),
        "w": torch.rand(B, T, 1, generator=generator),
        "C": 5.0,
    }
    ran = 0
    rows = [line for line in page.splitlines() if line.startswith("|")]
    for cell in (cell for row in rows for cell in row.split("|")):
        head, with_, setup = cell.partition("` with `")  # a call, then its set-up
        head, setup = head + "`" * bool(with_), "`" * bool(with_) + setup
        statements = re.findall(r"`([^`]+)`", setup) + [
            s for s in re.findall(r"`([^`]+)`", head) if "(" in s[1:]
        ]
        for statement in statements:
            try:
                exec(statement, namespace)
            except Exception as error:  # pragma: no cover - the message names the call
                raise AssertionError(f"cheat sheet call fails: {statement!r}: {error}") from error
            ran += 1
    if "total" in namespace:  # the gradient-accumulation count: every micro-batch's valid elements
        expected = D * sum(int(n.sum()) for n in micro_lengths)
        assert int(namespace["total"]) == expected, f"total = {namespace['total']}, not {expected}"
    return ran


def test_cheatsheet_calls_run():
    """Every call in the cheat sheet's tables runs with the package as it is."""
    page = CHEATSHEET.read_text(encoding="utf-8")
    assert run_cheatsheet_calls(page) >= 16
    assert "total = sum(" in page  # the accumulation row is there; its total was checked


def test_cheatsheet_check_can_fail():
    """A count against the current micro-batch's shape, not each one's own, is caught."""
    old = (
        "| gradient accumulation | | `masked_mse_loss(pred, target, mask, count=total)` with "
        "`total = sum(count_valid(m, pred.shape) for m in micro_masks)` | |"
    )
    with pytest.raises(AssertionError, match="cheat sheet call fails"):
        run_cheatsheet_calls(old)
    summed_steps = old.replace("count_valid(m, pred.shape)", "m.sum()")  # steps, not elements
    with pytest.raises(AssertionError, match="total = "):
        run_cheatsheet_calls(summed_steps)


def test_cheatsheet_options_that_do_not_apply_raise():
    """count=, empty= and average= are for reduction='mean'; count= excludes average='sample'."""
    page = CHEATSHEET.read_text(encoding="utf-8")
    assert '`count=`, `empty=` and `average=` apply to `reduction="mean"`' in page
    pred, target = torch.randn(3, 4, 2), torch.randn(3, 4, 2)
    mask = torch.rand(3, 4, 1) < 0.5
    for option in ({"count": 5.0}, {"empty": "nan"}, {"average": "sample"}):
        ml.masked_mse_loss(pred, target, mask, **option)  # fine with the mean
        for reduction in ("sum", "none"):
            with pytest.raises(ValueError):
                ml.masked_mse_loss(pred, target, mask, reduction, **option)
    with pytest.raises(ValueError, match="average='sample'"):
        ml.masked_mse_loss(pred, target, mask, count=5.0, average="sample")
