"""The training explorer of chapter 4: its loop in Python, float64.

The explorer (``static/trainer.js``) trains the chapter's model, one
``nn.Linear(8, 1)``, on the chapter's kind of data, variable-length sequences
with a per-step linear target padded with zeros, in the browser. It cannot use
torch's random numbers, so both sides draw from the same small generator
(mulberry32) written in both languages; this module is the reference the
JavaScript is tested against (``tests/test_training_explorer.py``), and its
optimisers are tested step for step against ``torch.optim``.

Three runs train side by side from the same initial weights on the same
batches; they differ only in the loss of a batch ``b``, its sum of squared
errors over the valid elements divided by

* ``naive``: ``N_b``, every element of the padded batch
  (``F.mse_loss(pred * mask, target * mask)``);
* ``mean``: ``k_b``, the batch's valid elements
  (``masked_mse_loss(pred, target, mask)``);
* ``global``: ``k_bar = K / batches``, the same in every batch
  (``masked_mse_loss(pred, target, mask, count=k_bar)``).

After every step each run records the token mean over all the data.
"""

from __future__ import annotations

import math
import pathlib
from dataclasses import dataclass
from typing import Any

import anywidget
import numpy as np
import traitlets

from masked_loss.teaching import _widget_language

N_SEQUENCES = 512
MAX_LENGTH = 40
FEATURES = 8
NOISE = 0.1
MOMENTUM = 0.9
BETAS = (0.9, 0.999)
EPS = 1e-8
CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_ divides by norm + 1e-6
LOSSES = ("naive", "mean", "global")
PADDINGS = ("fixed", "shuffled", "bucketed")
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
TASKS = ("one", "two")

#: The explorer's first settings: the chapter's (512 sequences of 1 to 40
#: steps, batches of 32, fixed padding, SGD at 0.05).
DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "padding": "fixed",
    "optimizer": "sgd",
    "lr": 0.05,
    "weight_decay": 0.0,
    "clip": 0.0,
    "padding_percent": 50,
    "batch_size": 32,
    "task": "one",
}

_STATIC = pathlib.Path(__file__).parent / "static"
_WEYL = 0x6D2B79F5
_MASK32 = 0xFFFFFFFF


def uniforms(seed: int, start: int, count: int) -> np.ndarray:
    """Draws ``start + 1`` to ``start + count`` of mulberry32 seeded with ``seed``.

    mulberry32's state is a counter that grows by a constant, so the ``i``-th
    draw is a function of ``i`` alone and a block of draws is one array
    operation. Each draw is a multiple of 2**-32 in [0, 1).
    """
    i = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    a = ((seed & _MASK32) + i * _WEYL) & _MASK32
    t = a.astype(np.uint32)
    t = (t ^ (t >> np.uint32(15))) * (t | np.uint32(1))
    t = t ^ (t + (t ^ (t >> np.uint32(7))) * (t | np.uint32(61)))
    t = t ^ (t >> np.uint32(14))
    return t.astype(np.float64) / 4294967296.0


def normals(draws: np.ndarray) -> np.ndarray:
    """Approximately standard normal: twelve uniforms summed, minus six."""
    rows = draws.reshape(-1, 12)
    total = rows[:, 0].copy()
    for j in range(1, 12):
        total = total + rows[:, j]
    return total - 6.0


def length_range(padding_percent: int) -> tuple[int, int]:
    """Lengths drawn uniformly from ``[lo, hi]``: about ``padding_percent``% padding.

    The mean length is ``(1 - p) * MAX_LENGTH``; at 50% this is the chapter's
    range, 1 to 40 (or 1 to 39: the nearest whole bound).
    """
    mean = (100 - padding_percent) * MAX_LENGTH / 100
    if mean >= (MAX_LENGTH + 1) / 2:
        return max(1, math.floor(2 * mean - MAX_LENGTH + 0.5)), MAX_LENGTH
    return 1, min(MAX_LENGTH, max(1, math.floor(2 * mean - 1 + 0.5)))


@dataclass
class Data:
    lengths: np.ndarray  # (n,) int
    x: np.ndarray  # (n, MAX_LENGTH, FEATURES), zeros where padded
    y: np.ndarray  # (n, MAX_LENGTH), zeros where padded
    mask: np.ndarray  # (n, MAX_LENGTH) bool
    weight: np.ndarray  # (FEATURES,), the rule behind y
    init: np.ndarray  # (FEATURES + 1,), the model's first weights and bias
    shuffled: np.ndarray  # (n,) a permutation


def make_data(seed: int, padding_percent: int = 50, task: str = "one") -> Data:
    """The explorer's data set, draw for draw as ``trainer.js`` makes it.

    ``task="two"``: the short sequences (the shortest 30% of the length range)
    follow a second linear rule without noise, as in the chapter's two-rule task.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    n, used = N_SEQUENCES, 0

    def draw(count: int) -> np.ndarray:
        nonlocal used
        values = uniforms(seed, used, count)
        used += count
        return values

    lo, hi = length_range(padding_percent)
    lengths = lo + np.floor(draw(n) * (hi - lo + 1)).astype(np.int64)
    weight = normals(draw(12 * FEATURES))
    rule = normals(draw(12 * FEATURES))
    tokens = int(lengths.sum())
    z = normals(draw(12 * tokens * (FEATURES + 1))).reshape(tokens, FEATURES + 1)
    xv = z[:, :FEATURES]
    short = lo + math.floor(0.3 * (hi - lo))
    token_short = np.repeat(lengths <= short, lengths) & (task == "two")
    linear, second = np.zeros(tokens), np.zeros(tokens)
    for f in range(FEATURES):
        linear = linear + xv[:, f] * weight[f]
        second = second + xv[:, f] * rule[f]
    yv = np.where(token_short, second, linear + NOISE * z[:, FEATURES])
    bound = math.sqrt(FEATURES)
    init = (2 * draw(FEATURES + 1) - 1) / bound
    swaps = draw(n - 1)
    order = list(range(n))
    for step, i in enumerate(range(n - 1, 0, -1)):
        j = math.floor(swaps[step] * (i + 1))
        order[i], order[j] = order[j], order[i]
    mask = np.arange(MAX_LENGTH) < lengths[:, None]
    x = np.zeros((n, MAX_LENGTH, FEATURES))
    y = np.zeros((n, MAX_LENGTH))
    x[mask], y[mask] = xv, yv
    return Data(lengths, x, y, mask, weight, init, np.array(order))


def batch_plan(data: Data, padding: str, batch_size: int) -> list[dict[str, Any]]:
    """One epoch's batches: sequence indices, padded size ``N_b``, valid ``k_b``."""
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
    if padding == "bucketed":
        order = np.argsort(data.lengths, kind="stable")
    else:
        order = data.shuffled
    plan = []
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        lengths = data.lengths[index]
        steps = MAX_LENGTH if padding == "fixed" else int(lengths.max())
        plan.append({"index": index, "n": len(index) * steps, "k": int(lengths.sum())})
    return plan


def relative_weights(plan: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Per batch, each valid element's weight in units of ``1/k_bar``."""
    k_bar = sum(b["k"] for b in plan) / len(plan)
    return {
        "naive": [k_bar / b["n"] for b in plan],
        "mean": [k_bar / b["k"] for b in plan],
        "global": [1.0 for _ in plan],
    }


class Optimizer:
    """``torch.optim`` SGD (with momentum 0.9), Adam or AdamW, in float64."""

    def __init__(self, kind: str, lr: float, weight_decay: float) -> None:
        if kind not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {kind!r}")
        self.kind, self.lr, self.weight_decay = kind, lr, weight_decay
        self.step_count = 0
        self.buffer: np.ndarray | None = None  # momentum, or Adam's first moment
        self.second: np.ndarray | None = None
        self.beta_powers = (1.0, 1.0)

    def step(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        self.step_count += 1
        lr, decay = self.lr, self.weight_decay
        if self.kind in ("sgd", "momentum"):
            if decay != 0:
                grad = grad + decay * params
            if self.kind == "momentum":
                if self.buffer is None:
                    self.buffer = grad.copy()
                else:
                    self.buffer = self.buffer * MOMENTUM + grad
                grad = self.buffer
            return params - lr * grad
        beta1, beta2 = BETAS
        if self.kind == "adamw":
            params = params * (1 - lr * decay)
        elif decay != 0:
            grad = grad + decay * params
        if self.buffer is None:
            self.buffer, self.second = np.zeros_like(params), np.zeros_like(params)
        self.buffer = self.buffer + (1 - beta1) * (grad - self.buffer)
        self.second = self.second * beta2 + (1 - beta2) * grad * grad
        p1, p2 = self.beta_powers
        self.beta_powers = (p1 * beta1, p2 * beta2)
        step_size = lr / (1 - self.beta_powers[0])
        denom = np.sqrt(self.second) / math.sqrt(1 - self.beta_powers[1]) + EPS
        return params - step_size * (self.buffer / denom)


def clip_gradient(grad: np.ndarray, max_norm: float) -> np.ndarray:
    """``clip_grad_norm_`` over the weight and the bias (``max_norm <= 0``: off)."""
    if max_norm <= 0:
        return grad
    norm_w = math.sqrt(float(np.sum(grad[:FEATURES] ** 2)))
    total = math.sqrt(norm_w**2 + float(grad[FEATURES]) ** 2)
    coef = max_norm / (total + CLIP_EPS)
    return grad * coef if coef < 1 else grad


def simulate(settings: dict[str, Any], steps: int) -> dict[str, Any]:
    """Train the three runs for ``steps`` steps; the explorer's numbers.

    Returns the token mean over all the data after each step and the
    parameters (8 weights, then the bias) after each step, per loss, with
    the per-batch weights and the data's valid fraction.
    """
    s = {**DEFAULTS, **settings}
    data = make_data(int(s["seed"]), int(s["padding_percent"]), s["task"])
    plan = batch_plan(data, s["padding"], int(s["batch_size"]))
    k_total = int(data.lengths.sum())
    k_bar = k_total / len(plan)
    xs = [data.x[b["index"]][data.mask[b["index"]]] for b in plan]
    ys = [data.y[b["index"]][data.mask[b["index"]]] for b in plan]
    x_all, y_all = data.x[data.mask], data.y[data.mask]
    result: dict[str, Any] = {"loss": {}, "params": {}}
    for loss in LOSSES:
        params = data.init.copy()
        opt = Optimizer(s["optimizer"], float(s["lr"]), float(s["weight_decay"]))
        losses, trajectory = [], []
        for step in range(steps):
            b = step % len(plan)
            x, y = xs[b], ys[b]
            divisor = {"naive": plan[b]["n"], "mean": plan[b]["k"]}.get(loss, k_bar)
            residual = x @ params[:FEATURES] + params[FEATURES] - y
            scaled = 2 * residual / divisor
            grad = np.append(x.T @ scaled, scaled.sum())
            grad = clip_gradient(grad, float(s["clip"]))
            params = opt.step(params, grad)
            error = x_all @ params[:FEATURES] + params[FEATURES] - y_all
            losses.append(float(np.mean(error**2)))
            trajectory.append(params.tolist())
        result["loss"][loss] = losses
        result["params"][loss] = trajectory
    result["weights"] = relative_weights(plan)
    result["valid_fraction"] = k_total / (N_SEQUENCES * MAX_LENGTH)
    result["batches"] = len(plan)
    return result


class TrainingExplorer(anywidget.AnyWidget):
    """Chapter 4's training explorer: :func:`simulate`, in the browser.

    Args:
        language: ``"en"`` or ``"zh"``, the labels' language; ``"auto"``
            takes the page's, so that one line of code serves the English and
            the Chinese chapter. Default: ``"zh"`` under
            ``use_language("zh")``, else ``"auto"``. It is part of the widget's
            state: the static page shows the language the notebook ran in.
        **settings: the first settings (the keys of :data:`DEFAULTS`).
    """

    _esm = _STATIC / "trainer.js"
    _css = _STATIC / "trainer.css"
    language = traitlets.Unicode("auto").tag(sync=True)
    settings = traitlets.Dict().tag(sync=True)

    def __init__(self, language: str | None = None, **settings: Any) -> None:
        language = _widget_language(language)
        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}")
        super().__init__(language=language, settings={**DEFAULTS, **settings})

    def __repr__(self) -> str:
        return f"TrainingExplorer(language={self.language!r})"

    def simulate(self, steps: int) -> dict[str, Any]:
        """The numbers the explorer shows after ``steps`` steps of its settings."""
        return simulate(self.settings, steps)
