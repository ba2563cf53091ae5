"""Self-checks for the book's exercises: each tells the learner right or wrong.

A check runs the learner's function (or value) against this package on
seeded random cases and the corners that matter (broadcast masks, fractional
weights, NaN padding, empty samples) and returns a :class:`Verdict`: true when
the answer is right, shown in a notebook as one line saying why. Checks never
raise: a wrong answer is a message.

Verdicts and hints are in the language set by
:func:`masked_loss.teaching.use_language` when the check runs: English, or
Chinese under ``"zh"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from masked_loss.classification import masked_cross_entropy, naive_masked_cross_entropy
from masked_loss.losses import masked_mse_loss
from masked_loss.reductions import count_valid, masked_mean
from masked_loss.teaching import current_language

CORRECT = "✓ Correct"
NOT_YET = "✗ Not yet"
#: The verdicts in each language, as the pair (right, not yet).
VERDICTS = {"en": (CORRECT, NOT_YET), "zh": ("✓ 正确", "✗ 还不对")}


@dataclass(frozen=True)
class Verdict:
    """The result of a check: true when the answer is right; shows as one line.

    ``language`` is the language the message is written in ("en" or "zh").
    """

    ok: bool
    message: str
    language: str = "en"

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        right, not_yet = VERDICTS[self.language]
        separator = "：" if self.language == "zh" else ": "
        return f"{right if self.ok else not_yet}{separator}{self.message}"


def _zh() -> bool:
    return current_language() == "zh"


def _t(en: str, zh: str) -> str:
    """The message in the language in force."""
    return zh if _zh() else en


def _verdict(ok: bool, message: str) -> Verdict:
    return Verdict(ok, message, current_language())


def _cases(seed: int = 0, count: int = 20) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(prediction (B, T, D), target, step mask (B, T)) with some empty sequences."""
    generator = torch.Generator().manual_seed(seed)
    cases = []
    for i in range(count):
        b, t, d = (int(v) for v in torch.randint(1, 6, (3,), generator=generator))
        prediction = torch.randn(b, t, d, generator=generator, dtype=torch.float64)
        target = torch.randn(b, t, d, generator=generator, dtype=torch.float64)
        mask = torch.rand(b, t, generator=generator) < 0.6
        if i % 4 == 0:
            mask[0] = False  # an empty sequence
        cases.append((prediction, target, mask))
    return cases


def _run(answer: Callable[..., Any] | None, *args: Any) -> tuple[Any, str | None]:
    if answer is None or not callable(answer):
        return None, _t(
            "define the function first (it is still None)", "请先定义这个函数（它现在还是 None）"
        )
    try:
        result = answer(*args)
    except Exception as error:  # noqa: BLE001 - any failure is feedback for the learner
        return None, _t(
            f"your function raised {type(error).__name__}: {error}",
            f"你的函数抛出了异常 `{type(error).__name__}: {error}`",
        )
    if result is None:
        return None, _t(
            "your function returned None: replace the `...` with your code",
            "你的函数返回了 None：请把 `...` 换成你的代码",
        )
    return result, None


def _close(got: Any, expected: torch.Tensor) -> bool:
    got = torch.as_tensor(got, dtype=expected.dtype)
    return got.shape == expected.shape and torch.allclose(got, expected, equal_nan=True)


def _mismatch(got: Any, expected: torch.Tensor, hint: str) -> Verdict | None:
    """A verdict naming both scalars when ``got`` is not ``expected``; None when it is."""
    if _close(got, expected):
        return None
    return _verdict(
        False,
        _t(
            f"expected {expected.item():.6f}, got {float(got):.6f} ({hint})",
            f"应为 {expected.item():.6f}，得到的是 {float(got):.6f}（{hint}）",
        ),
    )


def _channels_first_cases() -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(prediction (B, D, T), target, step mask (B, T)): random shapes plus the silent corners.

    With T == D a ``(B, T, 1)`` mask broadcasts against ``(B, D, T)`` without an
    error, and with B == D so does a bare ``(B, T)`` mask: both along the wrong
    axes. Those corners come first, so a misaligned mask cannot slip through.
    """
    generator = torch.Generator().manual_seed(6)
    cases = []
    for b, d, t in [(2, 3, 3), (3, 3, 4), (2, 4, 4), *[(0, 0, 0)] * 12]:
        if b == 0:
            b, d, t = (int(v) for v in torch.randint(1, 6, (3,), generator=generator))
        prediction = torch.randn(b, d, t, generator=generator, dtype=torch.float64)
        target = torch.randn(b, d, t, generator=generator, dtype=torch.float64)
        step_mask = torch.rand(b, t, generator=generator) < 0.6
        step_mask[0, 0] = True  # never empty: the empty case has its own chapter
        if t > 1:
            step_mask[0, -1] = False  # at least one padded step
        cases.append((prediction, target, step_mask))
    return cases


def check_step_mask(expand: Callable[[torch.Tensor], torch.Tensor] | None) -> Verdict:
    """Exercise: turn a (B, T) step mask into one that masks whole steps of (B, D, T) outputs."""
    for prediction, target, step_mask in _channels_first_cases():
        mask, problem = _run(expand, step_mask)
        if problem:
            return _verdict(False, problem)
        shapes = _t(
            f"a {tuple(step_mask.shape)} step mask over {tuple(prediction.shape)} outputs",
            f"时间步掩码形状为 {tuple(step_mask.shape)}、输出形状为 {tuple(prediction.shape)}",
        )
        try:
            got = masked_mse_loss(prediction, target, mask)
        except (TypeError, ValueError, RuntimeError) as error:
            return _verdict(
                False,
                _t(
                    f"{shapes}: masked_mse_loss refused your mask: {error}",
                    f"{shapes}：masked_mse_loss 拒绝了你的掩码：`{error}`",
                ),
            )
        expected = masked_mse_loss(prediction, target, step_mask[:, None, :])
        if not _close(got, expected):
            return _verdict(
                False,
                _t(
                    f"{shapes}: your mask was accepted but lines up with the wrong axes "
                    "(broadcasting aligns shapes from the right)",
                    f"{shapes}：掩码被接受了，但对齐到了错误的维度（广播从最右边的维度开始对齐）",
                ),
            )
    return _verdict(
        True,
        _t(
            "every channel of a valid step counts, no padded step does",
            "有效时间步的每个通道都计入，填充的时间步一个也不计入",
        ),
    )


def check_count(count: Callable[[torch.Tensor, tuple[int, ...]], Any] | None) -> Verdict:
    """Exercise: count the valid elements a mask selects after broadcasting."""
    for prediction, _, step_mask in _cases(seed=1):
        for mask in (step_mask.unsqueeze(-1), step_mask[:, :1, None], step_mask[:1, :, None]):
            got, problem = _run(count, mask, tuple(prediction.shape))
            if problem:
                return _verdict(False, problem)
            expected = count_valid(mask, prediction.shape)
            if int(torch.as_tensor(got)) != expected.item():
                return _verdict(
                    False,
                    _t(
                        f"a {tuple(mask.shape)} mask over {tuple(prediction.shape)}: "
                        f"expected {expected.item()}, got {int(torch.as_tensor(got))}",
                        f"掩码形状为 {tuple(mask.shape)}、预测形状为 {tuple(prediction.shape)}："
                        f"应为 {expected.item()}，得到的是 {int(torch.as_tensor(got))}",
                    ),
                )
    return _verdict(
        True,
        _t(
            "counts match count_valid, broadcast dimensions included",
            "计数与 count_valid 一致，广播出来的维度也算在内",
        ),
    )


def check_weighted_mse(loss: Callable[..., Any] | None) -> Verdict:
    """Exercise: sum(w * m * se) / sum(w * m), also for weights that sum to less than 1."""
    for prediction, target, step_mask in _cases(seed=2):
        generator = torch.Generator().manual_seed(prediction.numel())
        weight = torch.rand(prediction.shape, generator=generator, dtype=torch.float64) * 0.1
        mask = step_mask.unsqueeze(-1).expand_as(prediction)
        if not mask.any():
            continue  # empty batches are the subject of another chapter
        got, problem = _run(loss, prediction, target, mask, weight)
        if problem:
            return _verdict(False, problem)
        expected = masked_mse_loss(prediction, target, mask, weight=weight)
        hint = _t(
            "check the denominator: sum of the weights of valid elements",
            "检查分母：它应是有效元素的权重之和",
        )
        if (wrong := _mismatch(got, expected, hint)) is not None:
            return wrong
    return _verdict(
        True,
        _t(
            "matches masked_mse_loss(weight=...), small weight sums included",
            "与 masked_mse_loss(weight=...) 一致，权重之和很小时也一样",
        ),
    )


def _nan_padded_cases() -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(prediction, target, mask) with NaN and inf in the target's padding."""
    cases = []
    for prediction, target, step_mask in _cases(seed=3):
        mask = step_mask.unsqueeze(-1).expand_as(prediction)
        target = target.masked_fill(~mask, float("nan"))
        target.view(-1)[(~mask).reshape(-1).nonzero()[:1]] = float("inf")
        cases.append((prediction, target, mask))
    return cases


def check_nan_safe_sum(
    masked_sse: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], Any] | None,
) -> Verdict:
    """Exercise: a masked sum of squared errors whose value *and* gradient ignore NaN padding.

    The target holds NaN (and inf) wherever the mask is false. The value must
    equal the sum over valid elements, the gradient with respect to the
    prediction must be 2 (x - y) at valid elements and 0 at padded ones, and a
    NaN in a *valid* target must still make the result NaN.
    """
    for prediction, target, mask in _nan_padded_cases():
        leaf = prediction.clone().requires_grad_()
        got, problem = _run(masked_sse, leaf, target, mask)
        if problem:
            return _verdict(False, problem)
        reference = prediction.clone().requires_grad_()
        expected = masked_mse_loss(reference, target, mask, "sum")
        (expected_grad,) = torch.autograd.grad(expected, reference)
        value = got.detach() if isinstance(got, torch.Tensor) else got
        if not _close(value, expected.detach()):
            return _verdict(
                False,
                _t(
                    "the value is wrong (or NaN) with NaN in the padding",
                    "填充位置有 NaN 时，返回的值不对（或是 NaN）",
                ),
            )
        if not isinstance(got, torch.Tensor) or not got.requires_grad:
            return _verdict(
                False,
                _t(
                    "return a tensor that is still connected to `prediction`",
                    "请返回一个仍与 `prediction` 相连（能求梯度）的张量",
                ),
            )
        (grad,) = torch.autograd.grad(got, leaf)
        if not torch.isfinite(grad).all():
            return _verdict(
                False,
                _t(
                    "the value is right, but the gradient has NaN: the backward of the square, "
                    "2 (x - y), is NaN at padded elements. Select before squaring",
                    "值是对的，但梯度里有 NaN：平方的反向传播 2 (x - y) 在填充元素处是 NaN。"
                    "请先选出有效元素，再求平方",
                ),
            )
        if not torch.allclose(grad, expected_grad):
            return _verdict(
                False,
                _t(
                    "the value is right, but the gradient is not 2 (x - y)",
                    "值是对的，但梯度不是 2 (x - y)",
                ),
            )
    # A NaN in a *valid* target is a real problem and must stay visible.
    prediction = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([1.0, float("nan"), float("nan")], dtype=torch.float64)
    got, problem = _run(masked_sse, prediction, target, torch.tensor([True, True, False]))
    if problem:
        return _verdict(False, problem)
    if not torch.isnan(torch.as_tensor(got.detach() if isinstance(got, torch.Tensor) else got)):
        return _verdict(
            False,
            _t(
                "a NaN in a valid element was hidden (nansum? nan_to_num?): only drop padding",
                "有效元素里的 NaN 被掩盖了（用了 nansum？nan_to_num？）：只应去掉填充部分",
            ),
        )
    return _verdict(
        True,
        _t(
            "value and gradient are NaN-free, and a real NaN still shows",
            "值和梯度都没有 NaN，而有效元素里真正的 NaN 仍然会显示出来",
        ),
    )


def check_sample_mean(mean: Callable[[torch.Tensor, torch.Tensor], Any] | None) -> Verdict:
    """Exercise: mean of per-sample means that skips fully masked samples."""
    for prediction, _, step_mask in _cases(seed=4):
        values = prediction[..., 0]
        got, problem = _run(mean, values, step_mask)
        if problem:
            return _verdict(False, problem)
        expected = masked_mean(values, step_mask, average="sample")
        hint = _t(
            "are empty samples skipped rather than counted as 0?",
            "没有有效元素的样本是被跳过了，还是被当作 0 计入了？",
        )
        if (wrong := _mismatch(got, expected, hint)) is not None:
            return wrong
    return _verdict(
        True,
        _t(
            "empty samples neither count as 0 nor produce NaN",
            "没有有效元素的样本既不按 0 计入，也不产生 NaN",
        ),
    )


def check_sample_vs_token(token_mean: float | None, sample_mean: float | None) -> Verdict:
    """Exercise: lengths 2 and 8 with summed squared errors 4 and 40."""
    token_mean, sample_mean = _number(token_mean), _number(sample_mean)
    if token_mean is None or sample_mean is None:
        return _verdict(False, _t("fill in both numbers", "请把两个数都填上"))
    target = torch.zeros(2, 8)
    mask = torch.zeros(2, 8, dtype=torch.bool)
    mask[0, :2], mask[1] = True, True
    prediction = torch.zeros(2, 8)
    prediction[0, :2] = (4 / 2) ** 0.5  # 2 elements summing to 4
    prediction[1] = (40 / 8) ** 0.5  # 8 elements summing to 40
    expected_token = masked_mse_loss(prediction, target, mask).item()
    expected_sample = masked_mse_loss(prediction, target, mask, average="sample").item()
    ok_token = abs(token_mean - expected_token) < 1e-4
    ok_sample = abs(sample_mean - expected_sample) < 1e-4
    if ok_token and ok_sample:
        return _verdict(
            True,
            _t(
                f"token mean {expected_token:.1f}, per-sample mean {expected_sample:.1f}",
                f"逐 token 均值 {expected_token:.1f}，逐样本均值 {expected_sample:.1f}",
            ),
        )
    names = _t("token mean", "逐 token 均值"), _t("per-sample mean", "逐样本均值")
    wrong = [n for n, ok in zip(names, (ok_token, ok_sample), strict=True) if not ok]
    return _verdict(
        False,
        _t(f"recheck the {' and the '.join(wrong)}", f"请重新检查{'和'.join(wrong)}"),
    )


def check_accumulation_count(count: Any) -> Verdict:
    """Exercise: the count= that three micro-batches must all pass (see the chapter's data)."""
    masks = accumulation_exercise_masks()
    expected = sum(count_valid(m, (*m.shape[:2], 3)).item() for m in masks)
    value = _number(count)
    if value is None:
        return _verdict(False, _t("fill in the number", "请填上这个数"))
    if value != expected:
        return _verdict(
            False,
            _t(
                f"{value:g} is not the number of valid elements in all three",
                f"{value:g} 不是三个微批次的有效元素总数",
            ),
        )
    return _verdict(
        True,
        _t(
            f"every micro-batch divides its masked sum by {expected}",
            f"每个微批次都把各自有效元素的误差之和除以 {expected}",
        ),
    )


def accumulation_exercise_masks() -> list[torch.Tensor]:
    """Three micro-batches of step masks ``(B, T, 1)`` over outputs with D = 3 features."""
    lengths = ([3, 1], [4, 4, 2], [1])
    return [(torch.arange(4) < torch.tensor(lens)[:, None]).unsqueeze(-1) for lens in lengths]


def check_fp16_mse(
    loss: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], Any] | None,
) -> Verdict:
    """Exercise: a masked MSE of float16 tensors whose squared errors overflow float16."""
    generator = torch.Generator().manual_seed(5)
    prediction = torch.randn(8, 64, generator=generator).to(torch.float16)
    prediction[0, 0] = 300.0  # its squared error, 90000, is beyond float16's 65504
    target = torch.zeros(8, 64, dtype=torch.float16)
    mask = torch.rand(8, 64, generator=generator) < 0.7
    mask[0, 0] = True
    got, problem = _run(loss, prediction, target, mask)
    if problem:
        return _verdict(False, problem)
    if not isinstance(got, torch.Tensor) or got.dtype != torch.float16:
        return _verdict(
            False,
            _t(
                "return a float16 tensor, like F.mse_loss does for float16 input",
                "请返回 float16 张量，和 F.mse_loss 对 float16 输入的做法一样",
            ),
        )
    expected = masked_mse_loss(prediction.double(), target.double(), mask)
    if not torch.isfinite(got):
        return _verdict(
            False,
            _t(
                f"got {got.item()}: a squared error overflowed float16",
                f"得到的是 {got.item()}：有平方误差超出了 float16 的表示范围（溢出）",
            ),
        )
    error = abs(got.double().item() - expected.item()) / expected.item()
    if error > 1e-3:
        return _verdict(
            False,
            _t(
                f"relative error {error:.2%} against a float64 reference",
                f"与 float64 参考值的相对误差为 {error:.2%}",
            ),
        )
    return _verdict(
        True,
        _t(
            f"{got.item():.1f}, within float16 rounding of the float64 value",
            f"{got.item():.1f}，与 float64 的值只差 float16 的舍入误差",
        ),
    )


# --- Part 1: the bug (chapters 2, 3 and 5) ------------------------------------


def _number(value: Any) -> float | None:
    """``value`` as a float, or None for an unfilled template (None, ``...``) or a non-number."""
    if value is None or value is Ellipsis:
        return None
    try:
        return float(torch.as_tensor(value, dtype=torch.float64).reshape(()))
    except (TypeError, ValueError, RuntimeError):
        return None


def tutorial_example() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The tutorial's two rows of three predictions, targets and 0/1 mask."""
    inputs = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    targets = torch.tensor([[2.0, 3.0, 4.0], [3.0, 4.0, 5.0]])
    mask = torch.tensor([[1, 0, 1], [0, 1, 1]])
    return inputs, targets, mask


# How far a predicted number may be from the value: half a unit in the second decimal.
PREDICTION_TOLERANCE = 0.005


def check_tutorial_prediction(mean: Any, total: Any, elementwise: Any) -> Verdict:
    """Exercise: predict what the tutorial's code prints for 'mean', 'sum' and 'none'."""
    from masked_loss.losses import naive_masked_mse_loss

    inputs, targets, mask = tutorial_example()
    expected = {r: naive_masked_mse_loss(inputs, targets, mask, r) for r in ("mean", "sum", "none")}
    guess_mean, guess_total = _number(mean), _number(total)
    if guess_mean is None or guess_total is None or elementwise is None or elementwise is ...:
        return _verdict(
            False,
            _t(
                "fill in all three predictions (a 2 x 3 list for 'none')",
                "请填上全部三个预测（'none' 填一个 2 x 3 的嵌套列表）",
            ),
        )
    correct_mean = masked_mse_loss(inputs, targets, mask).item()
    # A prediction rounded to two decimals (0.67) is as right as 0.667 or 4 / 6.
    # A hint never states the value asked for: it says where to look.
    if abs(guess_mean - expected["mean"].item()) > PREDICTION_TOLERANCE:
        if abs(guess_mean - correct_mean) <= PREDICTION_TOLERANCE:
            hint = _t(
                "that is the correct masked mean, but MSELoss never sees the mask",
                "这是正确的掩码均值，但 MSELoss 根本看不到掩码",
            )
        else:
            hint = _t(
                "count what 'mean' divides by: every element it is handed",
                "数一数 'mean' 除以的是什么：交给它的每一个元素",
            )
        return _verdict(
            False,
            _t(
                f"'mean' does not return {guess_mean:g} ({hint})",
                f"'mean' 返回的不是 {guess_mean:g}（{hint}）",
            ),
        )
    if abs(guess_total - expected["sum"].item()) > PREDICTION_TOLERANCE:
        return _verdict(
            False,
            _t(
                "recheck 'sum': add the squared errors of the valid elements",
                "请重新检查 'sum'：把有效元素的平方误差加起来",
            ),
        )
    try:
        guess_none = torch.as_tensor(elementwise, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError):
        return _verdict(
            False,
            _t(
                "give 'none' as a 2 x 3 nested list of numbers",
                "'none' 请填一个由数字组成的 2 x 3 嵌套列表",
            ),
        )
    same_shape = guess_none.shape == expected["none"].shape
    if not same_shape or not torch.allclose(guess_none, expected["none"]):
        return _verdict(
            False,
            _t(
                "recheck 'none': one squared error per element, 0 where masked",
                "请重新检查 'none'：每个元素一个平方误差，被屏蔽（掩码为 0）的元素处为 0",
            ),
        )
    total_value, mean_value = expected["sum"].item(), expected["mean"].item()
    return _verdict(
        True,
        _t(
            f"{total_value:g} divided by all {mask.numel()} elements: {mean_value:.4f}",
            f"{total_value:g} 除以全部 {mask.numel()} 个元素：{mean_value:.4f}",
        ),
    )


def check_k_over_n(factor: Callable[[torch.Tensor, tuple[int, ...]], Any] | None) -> Verdict:
    """Exercise: the factor naive / correct for a mask broadcast over ``shape``, derived."""
    from masked_loss.losses import naive_masked_mse_loss

    for prediction, target, step_mask in _cases(seed=6):
        for mask in (step_mask.unsqueeze(-1), step_mask.unsqueeze(-1).expand_as(prediction)):
            correct = masked_mse_loss(prediction, target, mask)
            if not mask.any():
                continue  # nothing valid: the ratio is undefined
            expected = naive_masked_mse_loss(prediction, target, mask) / correct
            got, problem = _run(factor, mask, tuple(prediction.shape))
            if problem:
                return _verdict(False, problem)
            value = _number(got)
            if value is None:
                return _verdict(
                    False,
                    _t(
                        "return one number (a float or a 0-d tensor)",
                        "请返回一个数（float 或 0 维张量）",
                    ),
                )
            if abs(value - expected.item()) > 1e-6:
                return _verdict(
                    False,
                    _t(
                        f"a {tuple(mask.shape)} mask over {tuple(prediction.shape)}: "
                        f"the naive loss is {expected.item():.4f} times the correct one, "
                        f"you gave {value:.4f} "
                        "(k counts valid elements after broadcasting; N counts every element)",
                        f"掩码形状为 {tuple(mask.shape)}、预测形状为 {tuple(prediction.shape)}："
                        f"朴素写法的损失只有正确值的 {expected.item():.4f}，"
                        f"你给出的是 {value:.4f}"
                        "（k 是广播之后的有效元素个数，N 是全部元素个数）",
                    ),
                )
    return _verdict(
        True,
        _t(
            "the naive loss is the correct one times k/N, broadcast masks included",
            "朴素写法的损失只有正确值的 k/N，掩码经过广播时也是如此",
        ),
    )


def denominator_exercise() -> tuple[torch.Tensor, tuple[int, int, int]]:
    """Sequence lengths and the prediction shape ``(B, T, D)`` of the denominator exercise."""
    return torch.tensor([3, 1, 4]), (3, 4, 2)


def check_denominators(correct: Any, naive: Any) -> Verdict:
    """Exercise: what the correct and the naive mean divide by, for the exercise's batch."""
    lengths, shape = denominator_exercise()
    mask = (torch.arange(shape[1]) < lengths[:, None]).unsqueeze(-1)
    expected_correct = count_valid(mask, shape).item()
    expected_naive = torch.Size(shape).numel()
    got_correct, got_naive = _number(correct), _number(naive)
    if got_correct is None or got_naive is None:
        return _verdict(False, _t("fill in both numbers", "请把两个数都填上"))
    if got_correct != expected_correct:
        if got_correct == mask.sum().item():
            hint = _t(
                "that counts valid steps; each step holds several features",
                "这是有效时间步的个数；每个时间步有多个特征",
            )
        else:
            hint = _t(
                "count valid elements after broadcasting the mask to the predictions",
                "先把掩码广播到预测的形状，再数有效元素",
            )
        return _verdict(
            False,
            _t(
                f"the correct mean does not divide by {got_correct:g} ({hint})",
                f"正确均值的分母不是 {got_correct:g}（{hint}）",
            ),
        )
    if got_naive != expected_naive:
        if got_naive == mask.numel():
            hint = _t(
                "that is the mask's size; F.mse_loss sees the zeroed predictions",
                "这是掩码的元素个数；F.mse_loss 拿到的是置零后的预测",
            )
        else:
            hint = _t(
                "'mean' divides by every element it is handed, padding included",
                "'mean' 除以交给它的全部元素个数，填充也算在内",
            )
        return _verdict(
            False,
            _t(
                f"the naive mean does not divide by {got_naive:g} ({hint})",
                f"朴素写法求均值时的分母不是 {got_naive:g}（{hint}）",
            ),
        )
    return _verdict(
        True,
        _t(
            f"{expected_correct} valid elements against {expected_naive} in all",
            f"有效元素 {expected_correct} 个，全部元素 {expected_naive} 个",
        ),
    )


# --- Part 2: classification losses (chapter 15) --------------------------------


def _completion_cases(seed: int = 15) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(logits (B, C, T), labels (B, T), completion mask (B, T)) of completion-only batches.

    Prompt tokens are masked and labelled ``-100``; padding after the
    completion is masked and holds an id out of range. Prompts and
    completions differ in length, so a mean of per-sequence means differs
    from the token mean; every batch has at least one valid token.
    """
    generator = torch.Generator().manual_seed(seed)
    cases = []
    for _ in range(12):
        b, c, t = (int(v) for v in torch.randint(2, 7, (3,), generator=generator))
        logits = torch.randn(b, c, t, generator=generator, dtype=torch.float64) * 2
        labels = torch.randint(0, c, (b, t), generator=generator)
        prompt = torch.randint(0, t, (b, 1), generator=generator)
        end = torch.randint(1, t + 1, (b, 1), generator=generator).maximum(prompt + 1)
        steps = torch.arange(t)
        mask = (steps >= prompt) & (steps < end)
        labels = torch.where(steps < prompt, -100, labels)
        labels = torch.where(steps >= end, c + 7, labels)
        cases.append((logits, labels, mask))
    return cases


def check_completion_loss(loss: Callable[..., Any] | None) -> Verdict:
    """Exercise: the token-mean cross-entropy of the completion tokens only."""
    for logits, labels, mask in _completion_cases():
        got, problem = _run(loss, logits, labels, mask)
        if problem:
            return _verdict(False, problem)
        expected = masked_cross_entropy(logits, labels, mask)
        k, n = int(mask.sum()), mask.numel()
        classes = logits.shape[1]
        hints = (
            (
                naive_masked_cross_entropy(logits, labels.clamp(0, classes - 1), mask),
                _t(
                    f"the masked tokens still count: a zeroed logit row costs log C = "
                    f"{math.log(classes):.4f}, and the mean divides by all {n} tokens",
                    f"被屏蔽（掩码为 0）的 token 仍然计入了：置零的一行 logits 的损失是 "
                    f"log C = {math.log(classes):.4f}，而均值除以全部 {n} 个 token",
                ),
            ),
            (
                expected * k / n,
                _t(
                    f"divide by the {k} valid tokens, not all {n}",
                    f"分母应是 {k} 个有效 token，而不是全部 {n} 个",
                ),
            ),
        )
        if _close(got, expected):
            continue
        for wrong, hint in hints:
            if _close(got, wrong):
                return _verdict(False, hint)
        return _verdict(
            False,
            _t(
                f"expected {expected.item():.6f}, got {float(got):.6f} (a token mean over the "
                "completion: every valid token weighs the same, whatever its sequence)",
                f"应为 {expected.item():.6f}，得到的是 {float(got):.6f}（对补全部分取 token 均值："
                "每个有效 token 的权重相同，不论它在哪个序列里）",
            ),
        )
    return _verdict(
        True,
        _t(
            "a token mean over the completion tokens, whatever the labels elsewhere",
            "对补全部分的 token 取 token 均值，其他位置的标签是什么都不影响结果",
        ),
    )
