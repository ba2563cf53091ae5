"""use_language("zh"): the checks answer in Chinese, figures draw Chinese text.

Every exercise check, run with wrong answers and a right one, says the right
verdict in the language in force; the English wording stays as it was (the
English chapters' stored outputs hold it). The explorers' languages are
tested with them (tests/test_explorer.py, tests/test_training_explorer.py).
"""

from __future__ import annotations

import inspect
import io
import logging
import re
import warnings

import matplotlib as mpl
import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F

import masked_loss as ml
from masked_loss import teaching
from masked_loss.teaching import current_language, plotting, use_language
from masked_loss.teaching import exercises as ex


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    use_language("en")


def test_use_language_validates_and_sets():
    assert current_language() == "en"
    assert use_language("zh") is None  # a cell ending with the call shows nothing
    assert current_language() == "zh"
    for wrong in ("fr", "ZH", "zh-CN", "", None, 1):
        with pytest.raises(ValueError, match="language must be 'en' or 'zh'"):
            use_language(wrong)
    assert current_language() == "zh"  # a refused value changes nothing
    use_language("en")
    assert current_language() == "en"
    assert teaching.LANGUAGES == ("en", "zh")


# --- the checks ------------------------------------------------------------------------


def _raises(*args):
    raise RuntimeError("boom")


def _template(*args): ...  # an unfilled exercise: `...` in place of code


def _k_over_n(mask, shape):
    return ml.count_valid(mask, shape) / torch.Size(shape).numel()


def _per_token(logits, labels, mask):
    return F.cross_entropy(logits, labels.where(mask, 0), reduction="none")


def _denominators():
    lengths, shape = ex.denominator_exercise()
    mask = (torch.arange(shape[1]) < lengths[:, None]).unsqueeze(-1)
    return ml.count_valid(mask, shape).item(), torch.Size(shape).numel(), mask


def _accumulation_count():
    return sum(
        ml.count_valid(m, (*m.shape[:2], 3)).item() for m in ex.accumulation_exercise_masks()
    )


K, N, STEP_MASK = _denominators()
NONE = [[1, 0, 1], [0, 1, 1]]
FUNCTION_TEMPLATES = [(None,), (_template,), (_raises,)]

# Each check: its right answer, then wrong ones reaching each of its messages.
CASES = {
    "check_step_mask": (
        (lambda m: m.unsqueeze(1),),
        [*FUNCTION_TEMPLATES, (lambda m: m,), (lambda m: m.unsqueeze(-1),)],
    ),
    "check_count": (
        (lambda mask, shape: ml.count_valid(mask, shape),),
        [*FUNCTION_TEMPLATES, (lambda mask, shape: mask.sum(),)],
    ),
    "check_weighted_mse": (
        (lambda p, t, m, w: ml.masked_mse_loss(p, t, m, weight=w),),
        [*FUNCTION_TEMPLATES, (lambda p, t, m, w: (w * m * (p - t) ** 2).mean(),)],
    ),
    "check_nan_safe_sum": (
        (lambda p, t, m: (torch.where(m, p - t, 0.0) ** 2).sum(),),
        [
            *FUNCTION_TEMPLATES,
            (lambda p, t, m: ((p - t) ** 2 * m).sum(),),
            (lambda p, t, m: torch.where(m, (p - t) ** 2, 0.0).sum(),),
            (lambda p, t, m: (torch.where(m, p - t, 0.0) ** 2).sum().detach(),),
            (lambda p, t, m: ((p - torch.nan_to_num(t, nan=0.0, posinf=0.0)) ** 2 * m).sum(),),
            # the right value with a wrong gradient
            (lambda p, t, m: (torch.where(m, p - t, 0.0) ** 2).sum() + (p - p.detach()).sum(),),
        ],
    ),
    "check_sample_mean": (
        (lambda v, m: ml.masked_mean(v, m, average="sample"),),
        [*FUNCTION_TEMPLATES, (lambda v, m: ml.masked_mean(v, m, dim=1).mean(),)],
    ),
    "check_sample_vs_token": (
        (44 / 10, (4 / 2 + 40 / 8) / 2),
        [(None, None), (44 / 16, 3.5), (4.4, 22.0), (1.0, 1.0)],
    ),
    "check_accumulation_count": (
        (_accumulation_count(),),
        [(None,), (_accumulation_count() // 3,)],
    ),
    "check_fp16_mse": (
        (lambda p, t, m: ml.masked_mse_loss(p, t, m),),
        [
            *FUNCTION_TEMPLATES,
            (lambda p, t, m: ml.masked_mse_loss(p.float(), t.float(), m),),
            (lambda p, t, m: (torch.where(m, p - t, 0) ** 2).sum() / m.sum(),),
            (lambda p, t, m: F.mse_loss(p * m, t * m),),
        ],
    ),
    "check_tutorial_prediction": (
        (4 / 6, 4.0, NONE),
        [
            (None, None, None),
            (0.5, 1.0, [[0, 0, 1], [0, 1, 1]]),  # what the tutorial's text says
            (1.0, 4.0, NONE),  # the correct masked mean
            (0.66, 4.0, NONE),
            (4 / 6, 1.0, NONE),
            (4 / 6, 4.0, "not a list"),
            (4 / 6, 4.0, [[0, 0, 1], [0, 1, 1]]),
        ],
    ),
    "check_k_over_n": (
        (_k_over_n,),
        [
            *FUNCTION_TEMPLATES,
            (lambda mask, shape: "k/N",),
            (lambda mask, shape: mask.sum() / torch.Size(shape).numel(),),
        ],
    ),
    "check_denominators": (
        (K, N),
        [(None, None), (int(STEP_MASK.sum()), N), (K + 1, N), (K, STEP_MASK.numel()), (K, N - 1)],
    ),
    "check_completion_loss": (
        (lambda x, y, m: ml.masked_cross_entropy(x, y, m),),
        [
            *FUNCTION_TEMPLATES,
            (lambda x, y, m: (_per_token(x, y, m) * m).mean(),),
            (lambda x, y, m: ml.masked_cross_entropy(x, y, m, average="sample"),),
            (
                lambda x, y, m: F.cross_entropy(
                    x * m.unsqueeze(1), y.clamp(min=0, max=x.shape[1] - 1) * m
                ),
            ),
        ],
    ),
}

CJK = re.compile(r"[\u4e00-\u9fff]")
# Three or more English words in a row, outside `code`: an untranslated sentence.
ENGLISH = re.compile(r"(?<![\w.])[A-Za-z]+(?:\s+[A-Za-z]+){2,}(?![\w(])")


def _english_words(message: str) -> list[str]:
    return ENGLISH.findall(re.sub(r"`[^`]*`", "", message))


def _numbers(message: str) -> list[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", message))


def test_every_check_is_covered():
    checks = {name for name, _ in inspect.getmembers(ex, inspect.isfunction)}
    assert {name for name in checks if name.startswith("check_")} == set(CASES)


def _run(name, args, lang):
    use_language(lang)
    return getattr(ex, name)(*args)


@pytest.mark.parametrize("name", CASES)
def test_each_check_answers_in_the_language_in_force(name):
    right, wrongs = CASES[name]
    seen = {"en": set(), "zh": set()}
    for args, ok in [(right, True), *[(w, False) for w in wrongs]]:
        en, zh = _run(name, args, "en"), _run(name, args, "zh")
        assert bool(en) is ok and bool(zh) is ok, (name, args, repr(en))
        assert repr(en).startswith("✓ Correct: " if ok else "✗ Not yet: "), repr(en)
        assert repr(zh).startswith("✓ 正确：" if ok else "✗ 还不对："), repr(zh)
        assert not CJK.search(repr(en)), repr(en)
        assert CJK.search(zh.message), repr(zh)
        assert not _english_words(zh.message), (repr(zh), _english_words(zh.message))
        # The same numbers in both (Chinese adds "掩码为 0" where it names masked elements).
        assert _numbers(en.message) <= _numbers(zh.message), (repr(en), repr(zh))
        seen["en"].add(en.message)
        seen["zh"].add(zh.message)
    # The wrong answers reach distinct messages in both languages alike.
    assert len(seen["en"]) == len(seen["zh"]) >= 2


def test_the_english_regex_finds_english():
    # The check above could fail: it finds the English messages' sentences.
    use_language("en")
    assert _english_words(ex.check_k_over_n(None).message)
    assert _english_words(ex.check_denominators(None, None).message) == ["fill in both numbers"]
    assert not _english_words("请返回一个数（float 或 0 维张量）")
    assert not _english_words("你的函数抛出了异常 `RuntimeError: it went wrong here`")


def test_the_english_messages_are_unchanged():
    # Word for word what the English chapters' stored outputs show.
    use_language("en")
    assert repr(ex.check_tutorial_prediction(0.5, 1.0, [[0, 0, 1], [0, 1, 1]])) == (
        "✗ Not yet: 'mean' does not return 0.5 "
        "(count what 'mean' divides by: every element it is handed)"
    )
    assert repr(ex.check_tutorial_prediction(4 / 6, 4, NONE)) == (
        "✓ Correct: 4 divided by all 6 elements: 0.6667"
    )
    assert repr(ex.check_denominators(K, N)) == f"✓ Correct: {K} valid elements against {N} in all"
    assert repr(ex.check_step_mask(None)) == (
        "✗ Not yet: define the function first (it is still None)"
    )


def test_the_chinese_messages_read_as_chinese():
    use_language("zh")
    assert (
        repr(ex.check_tutorial_prediction(4 / 6, 4, NONE)) == "✓ 正确：4 除以全部 6 个元素：0.6667"
    )
    assert repr(ex.check_step_mask(None)) == "✗ 还不对：请先定义这个函数（它现在还是 None）"
    masked = ex.check_tutorial_prediction(1.0, 4.0, NONE)
    assert "根本看不到掩码" in repr(masked)
    none = ex.check_tutorial_prediction(4 / 6, 4.0, [[0, 0, 1], [0, 1, 1]])
    assert "被屏蔽（掩码为 0）的元素" in repr(none)
    # A factor below one: "only k/N of the correct value", never "smaller by ... times".
    factor = ex.check_k_over_n(lambda mask, shape: mask.sum() / torch.Size(shape).numel())
    assert "只有正确值的" in repr(factor) and "倍" not in repr(factor)
    assert "时间步掩码" in repr(ex.check_step_mask(lambda m: m))
    assert "分母" in repr(ex.check_weighted_mse(lambda p, t, m, w: (w * m * (p - t) ** 2).mean()))
    assert "微批次" in repr(ex.check_accumulation_count(1))
    # The exception's own text is quoted as code, untranslated.
    assert "`RuntimeError: boom`" in repr(ex.check_count(_raises))


def test_a_verdict_keeps_the_language_it_was_made_in():
    use_language("zh")
    verdict = ex.check_step_mask(None)
    use_language("en")
    assert repr(verdict).startswith("✗ 还不对：")
    assert repr(ex.Verdict(True, "x")) == "✓ Correct: x"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_prediction_hints_never_give_the_value_away(lang):
    use_language(lang)
    for guess in (0.5, 1.0, 0.66, 0.7, 0.6, 2.0, 0.0):
        verdict = ex.check_tutorial_prediction(guess, 4.0, NONE)
        assert not verdict
        shown = repr(verdict).replace(f"{guess:g}", "")
        for value in ("0.6667", "0.667", "0.67", "4/6", "2/3", "4 / 6", "三分之二"):
            assert value not in shown, repr(verdict)


# --- figures ---------------------------------------------------------------------------


def _settings() -> dict:
    """rcParams but the backend, which matplotlib resolves on first use."""
    return {key: value for key, value in mpl.rcParams.items() if key != "backend"}


def _chinese_figure():
    fig, axes = plotting.figure(nrows=2)
    axes[0].plot([0, 1], [0, 1], label="朴素写法")
    axes[0].legend()
    plotting.label(axes[0], "朴素写法的损失只有正确值的 k/N", "有效元素比例 k/N", "损失")
    axes[1].plot([1, 2], [1, 2], label=r"token 均值，固定计数 $\bar{k}$")
    axes[1].legend()
    axes[1].set_xticks([1, 2], ["第一批", "第二批"])
    fig.suptitle("每个批次")
    return fig


def _draw(fig, caplog):
    """Draws ``fig``; the missing-glyph complaints of text and of mathtext."""
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        caplog.clear()
        fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    missing += [r.getMessage() for r in caplog.records if "does not have a glyph" in r.getMessage()]
    return missing


def test_a_chinese_figure_draws_every_character(caplog):
    font = plotting.find_cjk_font()
    assert font, "no CJK font: apt-get install fonts-noto-cjk (CI's .ci/run installs it)"
    rc = _settings()
    use_language("zh")
    fig = _chinese_figure()
    assert _draw(fig, caplog) == []
    families = {tuple(t.get_fontfamily()) for t in fig.findobj(mpl.text.Text) if t.get_text()}
    assert all(font in f for f in families), families
    assert _settings() == rc  # nothing leaked into the session's settings
    # The same figure under "en" has no CJK font: the check above can fail.
    use_language("en")
    english = _chinese_figure()
    assert any("missing from font" in m for m in _draw(english, caplog))
    plt.close("all")


def test_an_english_figure_is_unchanged():
    fig, ax = plotting.figure()
    ax.set_title("title")
    fig.canvas.draw()
    assert fig.cjk_font is None
    # A notebook shows the figure's text/plain as matplotlib's own (nbval compares it).
    assert repr(fig) == "<Figure size 640x340 with 1 Axes>"
    assert all(
        plotting.find_cjk_font() not in t.get_fontfamily() for t in fig.findobj(mpl.text.Text)
    )
    plt.close("all")


def test_without_a_cjk_font_it_warns_once_and_draws(monkeypatch, caplog):
    monkeypatch.setattr(plotting, "find_cjk_font", lambda: None)
    monkeypatch.setattr(plotting, "_warned", False)
    rc = _settings()
    use_language("zh")
    with pytest.warns(UserWarning, match=r"apt-get install fonts-noto-cjk"):
        fig = _chinese_figure()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        again, _ = plotting.figure()  # once per session
    assert fig.cjk_font is None and again.cjk_font is None
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.savefig(buffer, format="png")  # drawn anyway, with boxes for the characters
    assert buffer.getvalue().startswith(b"\x89PNG")
    assert _settings() == rc
    plt.close("all")
