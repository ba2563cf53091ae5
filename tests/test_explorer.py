"""The explorer's JavaScript computes what masked_loss computes (node runs the JS)."""

from __future__ import annotations

import json
import pathlib
import random
import re

import pytest
import torch
from conftest import run_node, widget_texts

import masked_loss as ml
from masked_loss.teaching.widget import TUTORIAL_EXAMPLE, MaskExplorer, random_example

EXPLORER_JS = pathlib.Path(ml.__file__).parent / "teaching" / "static" / "explorer.js"
RUNNER = """
import { compute } from %s;
const cases = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
}));
const results = cases.map((c) => compute(c.predictions, c.targets, c.mask, c.reduction));
console.log(JSON.stringify(results));
"""


def run_js(cases):
    return run_node(RUNNER % json.dumps(EXPLORER_JS.as_uri()), cases)


def random_cases(count, seed=0):
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        shape = (rng.randint(1, 5), rng.randint(1, 6))
        predictions, targets, mask = random_example(shape, seed=i)
        if i % 10 == 0:  # all masked, the empty corner
            mask = [[0] * shape[1] for _ in range(shape[0])]
        cases.append(
            {
                "predictions": predictions,
                "targets": targets,
                "mask": mask,
                "reduction": rng.choice(["mean", "sum", "none"]),
            }
        )
    return cases


def test_js_compute_matches_masked_loss_on_random_cases():
    cases = random_cases(300)
    js_results = run_js(cases)
    assert len(js_results) == 300
    for case, js in zip(cases, js_results, strict=True):
        p = torch.tensor(case["predictions"])
        t = torch.tensor(case["targets"])
        m = torch.tensor(case["mask"], dtype=torch.bool)
        reduction = case["reduction"]
        expected_naive = ml.naive_masked_mse_loss(p, t, m, reduction)
        expected_correct = ml.masked_mse_loss(p, t, m, reduction)
        torch.testing.assert_close(
            torch.tensor(js["naive"], dtype=torch.float32), expected_naive, rtol=1e-5, atol=1e-5
        )
        torch.testing.assert_close(
            torch.tensor(js["correct"], dtype=torch.float32), expected_correct, rtol=1e-5, atol=1e-5
        )
        assert js["k"] == ml.count_valid(m, p.shape).item()
        assert js["n"] == p.numel()
        assert js["ratio"] == pytest.approx(js["k"] / js["n"])


def test_js_tutorial_example():
    predictions, targets, mask = TUTORIAL_EXAMPLE
    case = {"predictions": predictions, "targets": targets, "mask": mask, "reduction": "mean"}
    (result,) = run_js([case])
    assert result["naive"] == pytest.approx(4 / 6)
    assert result["correct"] == pytest.approx(1.0)
    assert (result["k"], result["n"]) == (4, 6)


def test_python_results_match_tutorial():
    explorer = MaskExplorer()
    results = explorer.results()
    assert results["naive"] == pytest.approx(4 / 6)
    assert results["correct"] == pytest.approx(1.0)
    assert (results["k"], results["n"]) == (4, 6)
    explorer.reduction = "none"
    assert explorer.results()["correct"] == [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]


def test_random_explorer_is_seeded():
    a = MaskExplorer(shape=(3, 4), seed=7)
    b = MaskExplorer(shape=(3, 4), seed=7)
    assert (a.predictions, a.targets, a.mask) == (b.predictions, b.targets, b.mask)
    assert len(a.mask) == 3 and len(a.mask[0]) == 4


# --- the language: English or Chinese labels, kept in the widget's state ---------------

MOUNT_JS = pathlib.Path(__file__).parents[1] / "book" / "site_assets" / "widgets-mount.js"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Three or more English words in a row: an untranslated phrase (code has no spaces).
ENGLISH = re.compile(r"(?<![\w.])[A-Za-z]+(?:\s+[A-Za-z]+){2,}(?![\w(])")


def js_texts(path: pathlib.Path) -> dict[str, dict[str, list[str]]]:
    """Every text of a widget's TEXT table, its functions called on sample values."""
    return widget_texts(
        path, [[2, 3, 1.5, 2.5, "0.2500", True], [2, 3, 1.5, 2.5, "0.2500", False], [False]]
    )


def assert_chinese_table(texts: dict[str, dict[str, list[str]]]) -> None:
    assert texts["en"].keys() == texts["zh"].keys()
    for key, values in texts["zh"].items():
        for value in values:
            assert CJK.search(value), (key, value)
            assert not ENGLISH.findall(value), (key, value)
    for key, values in texts["en"].items():
        assert not any(CJK.search(v) for v in values), (key, values)


def test_the_explorer_takes_a_language(english_afterwards):
    use_language = english_afterwards
    assert MaskExplorer().language == "auto"  # follows the page it is shown on
    assert repr(MaskExplorer()) == "MaskExplorer(2x3, reduction='mean')"
    use_language("zh")
    explorer = MaskExplorer()
    assert explorer.language == "zh"
    assert repr(explorer) == "MaskExplorer(2x3, reduction='mean', language='zh')"
    # In the state the notebook stores: the static page shows it (widgets-mount.js).
    assert explorer.get_state()["language"] == "zh"
    assert MaskExplorer(language="en").language == "en"  # an explicit language wins
    use_language("en")
    assert MaskExplorer(language="zh").get_state()["language"] == "zh"
    with pytest.raises(ValueError, match="language must be 'auto', 'en' or 'zh'"):
        MaskExplorer(language="fr")


def test_every_label_has_a_chinese_version():
    texts = js_texts(EXPLORER_JS)
    assert_chinese_table(texts)
    # The English labels are the ones the English chapter has always shown.
    assert texts["en"]["counts"][0] == "k = 2 valid of N = 3 elements, k/N = 1.5"
    assert texts["zh"]["counts"][0] == "N = 3 个元素中有效的 k = 2 个，k/N = 1.5"
    assert texts["zh"]["state"][0::2] == ["有效（1）", "已屏蔽（0）"]


STATIC_PAGE = """<!doctype html><html lang="{page_lang}"><head>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>
<script type="application/vnd.jupyter.widget-view+json">{{"model_id": "m1"}}</script>
</main>
<script type="application/vnd.jupyter.widget-state+json">{state}</script>
<script>{mount}</script></body></html>"""


def open_static_page(browser, widget_state: dict, page_lang: str, width: int, root: str):
    """The widget as the static site mounts it: stored state, widgets-mount.js, no kernel."""
    state = {"state": {"m1": {"model_name": "AnyModel", "state": widget_state}}}
    page = browser.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_content(
        STATIC_PAGE.format(
            page_lang=page_lang,
            state=json.dumps(state).replace("</", "<\\/"),
            mount=MOUNT_JS.read_text(encoding="utf-8"),
        )
    )
    page.wait_for_selector(root)
    assert all(url.startswith(("about:", "blob:", "data:")) for url in requests), requests
    return page


def _state(**kwargs) -> dict:
    state = MaskExplorer(**kwargs).get_state()
    return {k: v for k, v in state.items() if isinstance(v, str | int | float | list)}


@pytest.mark.parametrize("width", [390, 1280])
def test_the_static_page_shows_the_chinese_explorer(browser, width):
    page = open_static_page(browser, _state(language="zh"), "zh-CN", width, ".mle-root")
    root = page.locator(".mle-root")
    assert root.get_attribute("lang") == "zh-CN"
    text = root.inner_text()
    assert "点击一个单元格" in text and "朴素写法 F.mse_loss(p*m, t*m)：0.6667" in text
    assert "正确写法 masked_mse_loss(p, t, m)：1.0000" in text
    assert "N = 6 个元素中有效的 k = 4 个，k/N = 0.6667" in text
    assert page.locator(".mle-grid").get_attribute("aria-label") == "掩码：每个元素一个按钮"
    assert page.locator(".mle-controls").get_attribute("aria-label") == "归约方式（reduction）"
    first = page.locator(".mle-cell").first
    assert first.get_attribute("aria-label") == (
        "第 1 行第 1 列：预测值 1，目标值 2，平方误差 1.0000，有效"
    )
    # A click masks the cell: the labels and the numbers change, still in Chinese.
    first.click()
    assert page.locator(".mle-cell").first.get_attribute("aria-label").endswith("已屏蔽")
    assert "N = 6 个元素中有效的 k = 3 个" in root.inner_text()
    # No English sentence anywhere in what the reader sees or hears.
    labels = page.eval_on_selector_all("[aria-label]", "els => els.map(e => e.ariaLabel)")
    for shown in [root.inner_text(), *labels]:
        assert not ENGLISH.findall(shown), shown
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.close()


@pytest.mark.parametrize(
    "language, page_lang, help_text",
    [
        (None, "zh-CN", "点击一个单元格"),  # a state stored before the explorer had a language
        ("auto", "zh-CN", "点击一个单元格"),
        ("auto", "en", "Click a cell"),
        ("en", "zh-CN", "Click a cell"),
        ("zh", "en", "点击一个单元格"),
    ],
)
def test_the_explorer_language_or_the_page_language(browser, language, page_lang, help_text):
    state = _state()
    if language is None:
        del state["language"]
    else:
        state["language"] = language
    page = open_static_page(browser, state, page_lang, 390, ".mle-root")
    assert page.locator(".mle-help").inner_text().startswith(help_text)
    page.close()
