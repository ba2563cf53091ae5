"""Chapter 4's training explorer: the browser computes what the Python loop computes.

* ``static/trainer.js`` under Node against :mod:`masked_loss.teaching.trainer`
  on random settings: every loss and parameter trajectory over 200 steps;
* the Python loop's losses and optimisers against ``masked_loss`` and
  ``torch.optim`` in float64, step for step;
* the widget in Chromium: it renders, steps, plays, answers the keyboard, fits
  360 px and requests nothing from the network.
"""

from __future__ import annotations

import json
import pathlib
import random
import re

import numpy as np
import pytest
import torch
from conftest import run_node, widget_texts

import masked_loss as ml
from masked_loss.teaching import trainer

STATIC = pathlib.Path(ml.__file__).parent / "teaching" / "static"
TRAINER_JS = STATIC / "trainer.js"
STEPS = 200
TOLERANCE = 1e-9
CHOICES = {
    "padding": trainer.PADDINGS,
    "optimizer": trainer.OPTIMIZERS,
    "lr": (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2),
    "weight_decay": (0.0, 0.001, 0.01, 0.1, 0.5),
    "clip": (0.0, 0.1, 0.5, 1.0, 5.0),
    "padding_percent": (10, 20, 30, 40, 50, 60, 70, 80, 90),
    "batch_size": (8, 16, 32, 64, 128),
    "task": trainer.TASKS,
}


READ_STDIN = """
const payload = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
}));
"""


def js_simulate(settings: list[dict]) -> list[dict]:
    script = (
        f"import {{ simulate }} from {json.dumps(TRAINER_JS.as_uri())};"
        + READ_STDIN
        + f"console.log(JSON.stringify(payload.map((s) => simulate(s, {STEPS}))));"
    )
    return run_node(script, settings)


def random_settings(count: int, seed: int = 20) -> list[dict]:
    rng = random.Random(seed)
    settings = []
    for _ in range(count):
        s = {name: rng.choice(values) for name, values in CHOICES.items()}
        s["seed"] = rng.randrange(100_000)
        settings.append(s)
    return settings


def as_array(values: list) -> np.ndarray:
    # JSON writes NaN and infinity as null.
    return np.array([np.nan if v is None else v for v in np.ravel(values)], dtype=float)


def difference(js: list, python: list) -> float:
    """Largest |js - python|, relative where |python| > 1; inf if finiteness differs."""
    a, b = as_array(js), np.ravel(np.asarray(python, dtype=float))
    assert a.shape == b.shape
    finite = np.isfinite(b)
    if not np.array_equal(np.isfinite(a), finite):
        return float("inf")
    if not finite.any():
        return 0.0
    return float(np.max(np.abs(a[finite] - b[finite]) / np.maximum(1, np.abs(b[finite]))))


def test_the_generator_and_the_data_are_the_same_bits_in_both_languages():
    script = (
        f"import {{ generator }} from {json.dumps(TRAINER_JS.as_uri())};"
        + READ_STDIN
        + "console.log(JSON.stringify(payload.map((s) => {"
        + "const u = generator(s); return Array.from({length: 1000}, u); })));"
    )
    seeds = [0, 1, 123_456, 4_294_967_295]
    for seed, js in zip(seeds, run_node(script, seeds), strict=True):
        draws = trainer.uniforms(seed, 0, 1000)
        assert js == draws.tolist()
        assert 0.45 < draws.mean() < 0.55 and len(set(js)) == 1000
    script = (
        f"import {{ makeData }} from {json.dumps(TRAINER_JS.as_uri())};"
        + READ_STDIN
        + "console.log(JSON.stringify(payload.map(([s, p, t]) => {"
        + "const d = makeData(s, p, t);"
        + "return {lengths: Array.from(d.lengths), x: Array.from(d.x),"
        + " y: Array.from(d.y), init: Array.from(d.init), order: d.shuffled};"
        + "})));"
    )
    cases = [(0, 50, "one"), (7, 10, "two"), (99_999, 90, "two"), (4_294_967_295, 70, "one")]
    for (seed, percent, task), js in zip(cases, run_node(script, cases), strict=True):
        data = trainer.make_data(seed, percent, task)
        assert js["lengths"] == data.lengths.tolist()
        assert js["x"] == data.x[data.mask].ravel().tolist()  # bit for bit
        assert js["y"] == data.y[data.mask].tolist()
        assert js["init"] == data.init.tolist()
        assert js["order"] == data.shuffled.tolist()
        lo, hi = trainer.length_range(percent)
        assert data.lengths.min() >= lo and data.lengths.max() <= hi
        padding = 1 - data.mask.mean()
        assert abs(padding - percent / 100) < 0.05, "the padding fraction is about as set"


def test_the_javascript_loop_matches_the_python_reference():
    settings = random_settings(60)
    results = js_simulate(settings)
    worst, finite_runs = 0.0, 0
    for s, js in zip(settings, results, strict=True):
        python = trainer.simulate(s, STEPS)
        for loss in trainer.LOSSES:
            assert len(js["loss"][loss]) == len(python["loss"][loss]) == STEPS
            gap = max(
                difference(js["loss"][loss], python["loss"][loss]),
                difference(js["params"][loss], python["params"][loss]),
            )
            assert gap <= TOLERANCE, (s, loss, gap)
            worst = max(worst, gap)
            finite_runs += bool(np.isfinite(python["loss"][loss]).all())
        assert js["weights"] == python["weights"]
        assert js["valid_fraction"] == python["valid_fraction"]
    # Nearly all runs stay finite: the comparison is not of infinities.
    assert finite_runs >= 0.9 * 3 * len(settings)
    print(f"{len(settings)} settings x 3 losses x {STEPS} steps: largest gap {worst:.1e}")


def torch_run(settings: dict, loss_name: str, steps: int) -> tuple[list, list]:
    """The explorer's loop with torch: masked_loss's losses, torch.optim, float64."""
    s = {**trainer.DEFAULTS, **settings}
    data = trainer.make_data(s["seed"], s["padding_percent"], s["task"])
    plan = trainer.batch_plan(data, s["padding"], s["batch_size"])
    k_bar = sum(b["k"] for b in plan) / len(plan)
    x = torch.tensor(data.x)
    y = torch.tensor(data.y).unsqueeze(-1)
    mask = torch.tensor(data.mask).unsqueeze(-1)
    model = torch.nn.Linear(trainer.FEATURES, 1).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor(data.init[: trainer.FEATURES]).view(1, -1))
        model.bias.copy_(torch.tensor(data.init[trainer.FEATURES :]))
    lr, decay = s["lr"], s["weight_decay"]
    opt = {
        "sgd": lambda p: torch.optim.SGD(p, lr=lr, weight_decay=decay),
        "momentum": lambda p: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=decay),
        "adam": lambda p: torch.optim.Adam(p, lr=lr, weight_decay=decay),
        "adamw": lambda p: torch.optim.AdamW(p, lr=lr, weight_decay=decay),
    }[s["optimizer"]](model.parameters())
    losses = {
        "naive": ml.naive_masked_mse_loss,
        "mean": ml.masked_mse_loss,
        "global": lambda p, t, m: ml.masked_mse_loss(p, t, m, count=k_bar),
    }
    history, trajectory = [], []
    for step in range(steps):
        batch = plan[step % len(plan)]
        index = torch.tensor(batch["index"])
        length = batch["n"] // len(batch["index"])  # the padded length N_b / B
        xb, yb, mb = x[index, :length], y[index, :length], mask[index, :length]
        assert yb.numel() == batch["n"]
        opt.zero_grad()
        losses[loss_name](model(xb), yb, mb).backward()
        if s["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), s["clip"])
        opt.step()
        with torch.no_grad():
            history.append(ml.masked_mse_loss(model(x), y, mask).item())
            trajectory.append(torch.cat([model.weight.flatten(), model.bias]).tolist())
    return history, trajectory


TORCH_CASES = [
    {"optimizer": opt, "weight_decay": decay, "clip": clip, "padding": padding, "lr": lr}
    for opt, lr in (("sgd", 0.05), ("momentum", 0.01), ("adam", 0.05), ("adamw", 0.05))
    for decay in (0.0, 0.1)
    for clip, padding in ((0.0, "bucketed"), (0.5, "fixed"))
]


@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda c: "-".join(map(str, c.values())))
def test_the_python_loop_matches_masked_loss_and_torch_optim(case):
    settings = {**case, "task": "two", "seed": 3}
    python = trainer.simulate(settings, 100)
    for loss in trainer.LOSSES:
        history, trajectory = torch_run(settings, loss, 100)
        assert difference(history, python["loss"][loss]) <= TOLERANCE, loss
        assert difference(trajectory, python["params"][loss]) <= TOLERANCE, loss


def test_clipping_and_decay_are_exercised_by_the_torch_cases():
    # The clip of 0.5 acts (the raw gradient is larger) and weight decay moves
    # the result: the torch comparison checks code paths that do something.
    base = {"optimizer": "adam", "task": "two", "seed": 3, "padding": "fixed"}
    plain = trainer.simulate(base, 50)["loss"]["naive"]
    clipped = trainer.simulate({**base, "clip": 0.5}, 50)["loss"]["naive"]
    decayed = trainer.simulate({**base, "weight_decay": 0.1}, 50)["loss"]["naive"]
    assert max(abs(a - b) for a, b in zip(plain, clipped, strict=True)) > 1e-3
    assert max(abs(a - b) for a, b in zip(plain, decayed, strict=True)) > 1e-3


def test_the_widget_checks_its_arguments():
    widget = trainer.TrainingExplorer("zh", padding="bucketed")
    assert widget.settings["padding"] == "bucketed" and widget.language == "zh"
    assert (
        widget.simulate(3)["loss"]["naive"] == trainer.simulate(widget.settings, 3)["loss"]["naive"]
    )
    assert trainer.TrainingExplorer().language == "auto"
    with pytest.raises(ValueError, match="language must be"):
        trainer.TrainingExplorer("fr")
    with pytest.raises(ValueError, match="unknown settings"):
        trainer.TrainingExplorer(learning_rate=0.1)
    with pytest.raises(ValueError, match="task must be"):
        trainer.make_data(0, 50, "three")
    with pytest.raises(ValueError, match="optimizer must be"):
        trainer.simulate({"optimizer": "rmsprop"}, 1)


PAGE = """<!doctype html><html lang="{page_lang}" data-theme="{theme}"><head>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{css}</style></head><body><div id="el"></div><script type="module">
const url = URL.createObjectURL(new Blob([{js}], {{ type: "text/javascript" }}));
const module = await import(url);
const values = {{ language: "{lang}", settings: {{}} }};
module.default.render({{ model: {{ get: (name) => values[name] }},
  el: document.getElementById("el") }});
window.mounted = true;
</script></body></html>"""


def open_page(browser, lang: str, width: int, theme: str = "light", page_lang: str = "en"):
    page = browser.new_page(viewport={"width": width, "height": 800})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    html = PAGE.format(
        lang=lang,
        page_lang=page_lang,
        theme=theme,
        css=(STATIC / "trainer.css").read_text(encoding="utf-8"),
        js=json.dumps(TRAINER_JS.read_text(encoding="utf-8")),
    )
    page.set_content(html)
    page.wait_for_function("window.mounted === true")
    return page, requests


@pytest.mark.parametrize("lang, width", [("en", 360), ("zh", 1280)])
def test_the_widget_renders_steps_and_answers_the_keyboard(browser, lang, width):
    page, requests = open_page(browser, lang, width)
    labels = {"en": ("Play", "Pause", "One step"), "zh": ("播放", "暂停", "单步")}[lang]
    status = page.get_by_role("status")
    assert ("step 0" if lang == "en" else "第 0 步") in status.inner_text()
    # Keyboard only: Tab reaches the step button; Enter and Space each take a step.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == labels[2]:
            break
    assert page.evaluate("document.activeElement.textContent") == labels[2]
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    assert ("step 2" if lang == "en" else "第 2 步") in status.inner_text()
    curve = page.locator("path.mlt-line.mlt-naive").first
    assert curve.get_attribute("d").count("L") == 1  # two points drawn
    # The readout is the reference's loss after two steps.
    python = trainer.simulate({}, 2)["loss"]["naive"][-1]
    reading = page.locator(".mlt-reading").first.inner_text()
    assert abs(float(reading) - python) <= 5e-4 * python
    # A slider moves with the arrow keys, and a new setting starts again.
    slider = page.locator("input[type=range]").first
    slider.focus()
    before = slider.get_attribute("aria-valuetext")
    page.keyboard.press("ArrowRight")
    assert slider.get_attribute("aria-valuetext") != before
    assert ("step 0" if lang == "en" else "第 0 步") in status.inner_text()
    # Play runs on its own; the same button pauses.
    play = page.get_by_role("button", name=labels[0])
    play.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelector('.mlt-line.mlt-naive').getAttribute('d').split('L').length > 20"
    )
    page.get_by_role("button", name=labels[1]).click()
    stopped = status.inner_text()
    page.wait_for_timeout(300)
    assert status.inner_text() == stopped
    # Fits the width; every control a finger can hit; nothing from the network.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for box in page.locator(".mlt-buttons button").all():
        assert box.bounding_box()["height"] >= 44
    assert all(url.startswith(("about:", "blob:", "data:")) for url in requests), requests
    page.close()


@pytest.mark.parametrize(
    "lang, page_lang, title",
    [
        ("auto", "zh-CN", "训练演示"),
        ("auto", "en", "Training explorer"),
        ("en", "zh-CN", "Training explorer"),
    ],
)
def test_the_labels_take_the_page_language(browser, lang, page_lang, title):
    page, _ = open_page(browser, lang, 390, page_lang=page_lang)
    assert page.locator(".mlt-title").inner_text() == title
    page.close()


def test_the_dark_theme_changes_the_panel(browser):
    page, _ = open_page(browser, "en", 390, theme="dark")
    background = page.evaluate(
        "getComputedStyle(document.querySelector('.mlt-root')).backgroundColor"
    )
    text = page.evaluate("getComputedStyle(document.querySelector('.mlt-root')).color")
    assert background == "rgb(30, 34, 38)" and text == "rgb(232, 232, 232)"
    page.close()


# --- the language: under use_language("zh"), and on the static page ---------------------

MOUNT_JS = pathlib.Path(__file__).parents[1] / "book" / "site_assets" / "widgets-mount.js"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Three or more English words in a row: an untranslated phrase (code has no spaces).
ENGLISH = re.compile(r"(?<![\w.])[A-Za-z]+(?:\s+[A-Za-z]+){2,}(?![\w(])")
CODE_WORDS = {"SGD", "Adam", "AdamW"}


def test_the_explorer_speaks_the_language_in_force(english_afterwards):
    use_language = english_afterwards
    assert trainer.TrainingExplorer().language == "auto"
    use_language("zh")
    widget = trainer.TrainingExplorer(batch_size=16)
    assert widget.language == "zh" and widget.get_state()["language"] == "zh"
    assert repr(widget) == "TrainingExplorer(language='zh')"
    assert trainer.TrainingExplorer("en").language == "en"  # an explicit language wins
    with pytest.raises(ValueError, match="language must be 'auto', 'en' or 'zh'"):
        trainer.TrainingExplorer("zh-CN")


def test_every_label_has_a_chinese_version():
    texts = widget_texts(TRAINER_JS, [[0, 1, 2, 16, 0.5], [3, 1, 4, 16, 0.5]])
    assert texts["en"].keys() == texts["zh"].keys()
    for key, values in texts["zh"].items():
        for value in values:
            assert not ENGLISH.findall(value), (key, value)
            words = set(re.findall(r"[A-Za-z]{2,}", value))
            assert CJK.search(value) or words <= CODE_WORDS, (key, value)
            # 批次, never "batch"; 时间步 for steps; 朴素写法 for the naive form.
            assert "batch" not in value.lower(), (key, value)
    assert texts["zh"]["status"][1] == "第 3 步 · 第 1 个 epoch，第 4/16 个批次"
    assert texts["zh"]["sentences"][0] == "0。1"
    assert texts["en"]["sentences"][0] == "0. 1"


STATIC_PAGE = """<!doctype html><html lang="{page_lang}"><head>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>
<script type="application/vnd.jupyter.widget-view+json">{{"model_id": "m1"}}</script>
</main>
<script type="application/vnd.jupyter.widget-state+json">{state}</script>
<script>{mount}</script></body></html>"""


@pytest.mark.parametrize("width", [390, 1280])
def test_the_static_page_shows_the_chinese_explorer(browser, english_afterwards, width):
    english_afterwards("zh")
    stored = trainer.TrainingExplorer().get_state()  # what the Chinese chapter stores
    stored = {k: v for k, v in stored.items() if isinstance(v, str | dict)}
    state = {"state": {"m1": {"model_name": "AnyModel", "state": stored}}}
    page = browser.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_content(
        STATIC_PAGE.format(
            page_lang="en",  # the stored language decides, whatever the page's
            state=json.dumps(state).replace("</", "<\\/"),
            mount=MOUNT_JS.read_text(encoding="utf-8"),
        )
    )
    page.wait_for_selector(".mlt-title")
    root = page.locator(".mlt-root")
    assert root.get_attribute("lang") == "zh-CN"
    assert root.get_attribute("aria-label") == "训练演示"
    for name in ("播放", "单步", "重置"):
        assert page.get_by_role("button", name=name).count() == 1
    page.get_by_role("button", name="单步").click()
    assert "第 1 步 · 第 1 个 epoch，第 2/16 个批次" in page.get_by_role("status").inner_text()
    labels = page.eval_on_selector_all("[aria-label]", "els => els.map(e => e.ariaLabel)")
    assert any(
        label.startswith("每一步之后全部数据上的 token 均值。第 1 步之后：") for label in labels
    )
    shown = [root.inner_text(), *labels]
    shown += page.eval_on_selector_all("option", "els => els.map(e => e.textContent)")
    shown += page.eval_on_selector_all("[aria-valuetext]", "els => els.map(e => e.ariaValueText)")
    for text in shown:
        assert not ENGLISH.findall(text), text
    assert "batch" not in root.inner_text().lower()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert all(url.startswith(("about:", "blob:", "data:")) for url in requests), requests
    page.close()
