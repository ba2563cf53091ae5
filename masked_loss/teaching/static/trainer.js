// Training explorer (chapter 4): trains nn.Linear(8, 1) in the browser on
// padded sequences with three losses side by side, in float64 JavaScript.
// masked_loss/teaching/trainer.py is the same loop in Python;
// tests/test_training_explorer.py checks the two agree, and the Python
// optimisers against torch.optim.

export const N_SEQUENCES = 512;
export const MAX_LENGTH = 40;
export const FEATURES = 8;
const NOISE = 0.1;
const MOMENTUM = 0.9;
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;
const CLIP_EPS = 1e-6;
export const LOSSES = ["naive", "mean", "global"];
export const MAX_STEPS = 400;

export const DEFAULTS = {
  seed: 0,
  padding: "fixed",
  optimizer: "sgd",
  lr: 0.05,
  weight_decay: 0,
  clip: 0,
  padding_percent: 50,
  batch_size: 32,
  task: "one",
};

/** mulberry32: uniform draws, multiples of 2**-32 in [0, 1). */
export function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Approximately standard normal: twelve uniforms summed, minus six. */
function normal(uniform) {
  let total = 0;
  for (let j = 0; j < 12; j++) total += uniform();
  return total - 6;
}

export function lengthRange(paddingPercent) {
  const mean = ((100 - paddingPercent) * MAX_LENGTH) / 100;
  if (mean >= (MAX_LENGTH + 1) / 2) {
    return [Math.max(1, Math.floor(2 * mean - MAX_LENGTH + 0.5)), MAX_LENGTH];
  }
  return [1, Math.min(MAX_LENGTH, Math.max(1, Math.floor(2 * mean - 1 + 0.5)))];
}

/** The data set, draw for draw as trainer.make_data makes it. */
export function makeData(seed, paddingPercent, task) {
  const uniform = generator(seed);
  const n = N_SEQUENCES;
  const [lo, hi] = lengthRange(paddingPercent);
  const lengths = new Int32Array(n);
  for (let i = 0; i < n; i++) lengths[i] = lo + Math.floor(uniform() * (hi - lo + 1));
  const weight = new Float64Array(FEATURES);
  const rule = new Float64Array(FEATURES);
  for (let f = 0; f < FEATURES; f++) weight[f] = normal(uniform);
  for (let f = 0; f < FEATURES; f++) rule[f] = normal(uniform);
  const starts = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) starts[i + 1] = starts[i] + lengths[i];
  const tokens = starts[n];
  const x = new Float64Array(tokens * FEATURES);
  const y = new Float64Array(tokens);
  const short = lo + Math.floor(0.3 * (hi - lo));
  for (let i = 0; i < n; i++) {
    const second = task === "two" && lengths[i] <= short;
    for (let s = starts[i]; s < starts[i + 1]; s++) {
      let linear = 0;
      let other = 0;
      for (let f = 0; f < FEATURES; f++) {
        const value = normal(uniform);
        x[s * FEATURES + f] = value;
        linear += value * weight[f];
        other += value * rule[f];
      }
      const noise = normal(uniform);
      y[s] = second ? other : linear + NOISE * noise;
    }
  }
  const bound = Math.sqrt(FEATURES);
  const init = new Float64Array(FEATURES + 1);
  for (let f = 0; f <= FEATURES; f++) init[f] = (2 * uniform() - 1) / bound;
  const shuffled = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  return { lengths, starts, x, y, init, shuffled, tokens };
}

/** One epoch's batches: sequence indices, padded size n (N_b), valid k (k_b). */
export function batchPlan(data, padding, batchSize) {
  let order = data.shuffled;
  if (padding === "bucketed") {
    order = Array.from(data.lengths.keys()).sort(
      (a, b) => data.lengths[a] - data.lengths[b] || a - b,
    );
  }
  const plan = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const index = order.slice(start, start + batchSize);
    let k = 0;
    let longest = 0;
    for (const i of index) {
      k += data.lengths[i];
      longest = Math.max(longest, data.lengths[i]);
    }
    const steps = padding === "fixed" ? MAX_LENGTH : longest;
    plan.push({ index, n: index.length * steps, k });
  }
  return plan;
}

export function relativeWeights(plan) {
  const kBar = plan.reduce((sum, b) => sum + b.k, 0) / plan.length;
  return {
    naive: plan.map((b) => kBar / b.n),
    mean: plan.map((b) => kBar / b.k),
    global: plan.map(() => 1),
  };
}

/** torch.optim SGD (momentum 0.9 for "momentum"), Adam or AdamW. */
export class Optimizer {
  constructor(kind, lr, weightDecay) {
    this.kind = kind;
    this.lr = lr;
    this.decay = weightDecay;
    this.buffer = null;
    this.second = null;
    this.p1 = 1;
    this.p2 = 1;
  }

  step(params, grad) {
    const { lr, decay } = this;
    const size = params.length;
    const g = Float64Array.from(grad);
    if (this.kind === "sgd" || this.kind === "momentum") {
      if (decay !== 0) for (let i = 0; i < size; i++) g[i] = g[i] + decay * params[i];
      let direction = g;
      if (this.kind === "momentum") {
        if (this.buffer === null) this.buffer = Float64Array.from(g);
        else for (let i = 0; i < size; i++) this.buffer[i] = this.buffer[i] * MOMENTUM + g[i];
        direction = this.buffer;
      }
      for (let i = 0; i < size; i++) params[i] = params[i] - lr * direction[i];
      return;
    }
    if (this.kind === "adamw") {
      for (let i = 0; i < size; i++) params[i] = params[i] * (1 - lr * decay);
    } else if (decay !== 0) {
      for (let i = 0; i < size; i++) g[i] = g[i] + decay * params[i];
    }
    if (this.buffer === null) {
      this.buffer = new Float64Array(size);
      this.second = new Float64Array(size);
    }
    this.p1 *= BETA1;
    this.p2 *= BETA2;
    const stepSize = lr / (1 - this.p1);
    const correction = Math.sqrt(1 - this.p2);
    for (let i = 0; i < size; i++) {
      this.buffer[i] = this.buffer[i] + (1 - BETA1) * (g[i] - this.buffer[i]);
      this.second[i] = this.second[i] * BETA2 + (1 - BETA2) * g[i] * g[i];
      const denom = Math.sqrt(this.second[i]) / correction + EPS;
      params[i] = params[i] - stepSize * (this.buffer[i] / denom);
    }
  }
}

/** clip_grad_norm_ over the weight and the bias (maxNorm <= 0: off). */
export function clipGradient(grad, maxNorm) {
  if (!(maxNorm > 0)) return;
  let squares = 0;
  for (let f = 0; f < FEATURES; f++) squares += grad[f] * grad[f];
  const normW = Math.sqrt(squares);
  const total = Math.sqrt(normW ** 2 + grad[FEATURES] ** 2);
  const coef = maxNorm / (total + CLIP_EPS);
  if (coef < 1) for (let i = 0; i < grad.length; i++) grad[i] = grad[i] * coef;
}

/** The three runs of one set of settings, stepped one batch at a time. */
export class Trainer {
  constructor(settings) {
    const s = { ...DEFAULTS, ...settings };
    this.settings = s;
    this.data = makeData(Number(s.seed), Number(s.padding_percent), s.task);
    this.plan = batchPlan(this.data, s.padding, Number(s.batch_size));
    this.kBar = this.data.tokens / this.plan.length;
    this.weights = relativeWeights(this.plan);
    this.validFraction = this.data.tokens / (N_SEQUENCES * MAX_LENGTH);
    this.step = 0;
    this.runs = {};
    for (const loss of LOSSES) {
      this.runs[loss] = {
        params: Float64Array.from(this.data.init),
        optimizer: new Optimizer(s.optimizer, Number(s.lr), Number(s.weight_decay)),
        losses: [],
        trajectory: [],
      };
    }
  }

  /** The token mean over all the data. */
  allDataLoss(params) {
    const { x, y, tokens } = this.data;
    let total = 0;
    for (let s = 0; s < tokens; s++) {
      let prediction = params[FEATURES];
      for (let f = 0; f < FEATURES; f++) prediction += x[s * FEATURES + f] * params[f];
      const error = prediction - y[s];
      total += error * error;
    }
    return total / tokens;
  }

  advance() {
    const batch = this.plan[this.step % this.plan.length];
    const { x, y, starts } = this.data;
    for (const loss of LOSSES) {
      const run = this.runs[loss];
      const divisor = loss === "naive" ? batch.n : loss === "mean" ? batch.k : this.kBar;
      const grad = new Float64Array(FEATURES + 1);
      const p = run.params;
      for (const i of batch.index) {
        for (let s = starts[i]; s < starts[i + 1]; s++) {
          let prediction = p[FEATURES];
          for (let f = 0; f < FEATURES; f++) prediction += x[s * FEATURES + f] * p[f];
          const scaled = (2 * (prediction - y[s])) / divisor;
          for (let f = 0; f < FEATURES; f++) grad[f] += x[s * FEATURES + f] * scaled;
          grad[FEATURES] += scaled;
        }
      }
      clipGradient(grad, Number(this.settings.clip));
      run.optimizer.step(p, grad);
      run.losses.push(this.allDataLoss(p));
      run.trajectory.push(Array.from(p));
    }
    this.step += 1;
  }
}

/** What trainer.simulate returns, for the tests. */
export function simulate(settings, steps) {
  const trainer = new Trainer(settings);
  for (let i = 0; i < steps; i++) trainer.advance();
  const result = { loss: {}, params: {} };
  for (const loss of LOSSES) {
    result.loss[loss] = trainer.runs[loss].losses;
    result.params[loss] = trainer.runs[loss].trajectory;
  }
  result.weights = trainer.weights;
  result.valid_fraction = trainer.validFraction;
  result.batches = trainer.plan.length;
  return result;
}

// ---- The page: controls, two charts, play / pause / step / reset ----------

export const TEXT = {
  en: {
    title: "Training explorer",
    note:
      "Trains nn.Linear(8, 1) in your browser, in float64, three times side by side " +
      "from the same start on the same batches: only the loss differs. The same loop " +
      "in Python (masked_loss.teaching.trainer) is tested to give the same numbers to " +
      "1e-9. The data are the chapter's kind (512 sequences of up to 40 steps) drawn " +
      "by the explorer's own seeded generator, not torch's: the numbers differ from " +
      "the chapter's runs.",
    task: "Task",
    tasks: { one: "one rule", two: "two rules (short sequences differ)" },
    padding: "Padding",
    paddings: { fixed: "fixed (40 steps)", shuffled: "dynamic, shuffled", bucketed: "dynamic, bucketed by length" },
    optimizer: "Optimiser",
    optimizers: { sgd: "SGD", momentum: "SGD, momentum 0.9", adam: "Adam", adamw: "AdamW" },
    lr: "Learning rate",
    weight_decay: "Weight decay",
    clip: "Clip gradient norm at",
    off: "off",
    padding_percent: "Padding fraction",
    batch_size: "Batch size",
    seed: "Seed",
    losses: "Losses",
    names: {
      naive: "naive F.mse_loss(p*m, t*m)",
      mean: "per-batch masked mean",
      global: "token mean, fixed count k̄",
    },
    play: "Play",
    pause: "Pause",
    stepOnce: "One step",
    reset: "Reset",
    lossTitle: "Token mean over all the data, after each step",
    lossX: "step",
    weightTitle: "Weight of each valid element, per batch (× 1/k̄)",
    weightX: "batch in epoch",
    status: (step, epoch, batch, batches) =>
      `step ${step} · epoch ${epoch}, batch ${batch} of ${batches}`,
    valid: (fraction) => `valid fraction ${fraction}`,
    diverged: "diverged",
    reading: (name, value) => `${name} ${value}`,
    list: "; ",
    sentences: (first, second) => `${first}. ${second}`,
    lossSummary: (step, values) =>
      step === 0 ? "No step taken yet." : `After step ${step}: ${values}.`,
    weightSummary: (spreadNaive, spreadMean) =>
      `Largest over smallest weight: naive ${spreadNaive}, per-batch mean ${spreadMean}, fixed count 1.`,
  },
  zh: {
    title: "训练演示",
    note:
      "在你的浏览器中以 float64 精度训练 nn.Linear(8, 1)，三个模型并排训练：初始权重相同、" +
      "批次相同，只有损失函数不同。同一训练循环的 Python 版本（masked_loss.teaching.trainer）" +
      "经测试与这里的数值相差不超过 1e-9。数据与本章同类（512 条序列，最长 40 步），" +
      "但由演示自带的带种子随机数生成器产生，而不是 torch 的，所以数值与本章的运行结果不同。",
    task: "任务",
    tasks: { one: "单一规则", two: "两条规则（短序列的规则不同）" },
    padding: "填充方式",
    paddings: { fixed: "固定长度（40 步）", shuffled: "动态填充，随机打乱", bucketed: "动态填充，按长度分桶" },
    optimizer: "优化器",
    optimizers: { sgd: "SGD", momentum: "SGD，动量 0.9", adam: "Adam", adamw: "AdamW" },
    lr: "学习率",
    weight_decay: "权重衰减",
    clip: "梯度范数裁剪阈值",
    off: "关闭",
    padding_percent: "填充比例",
    batch_size: "批次大小",
    seed: "随机种子",
    losses: "损失",
    names: {
      naive: "朴素写法 F.mse_loss(p*m, t*m)",
      mean: "逐批次均值",
      global: "token 均值，固定计数 k̄",
    },
    play: "播放",
    pause: "暂停",
    stepOnce: "单步",
    reset: "重置",
    lossTitle: "每一步之后全部数据上的 token 均值",
    lossX: "步数",
    weightTitle: "每个批次中每个有效元素的权重（× 1/k̄）",
    weightX: "一个 epoch 中的第几个批次",
    status: (step, epoch, batch, batches) =>
      `第 ${step} 步 · 第 ${epoch} 个 epoch，第 ${batch}/${batches} 个批次`,
    valid: (fraction) => `有效元素比例 ${fraction}`,
    diverged: "发散",
    reading: (name, value) => `${name} ${value}`,
    list: "；",
    sentences: (first, second) => `${first}。${second}`,
    lossSummary: (step, values) =>
      step === 0 ? "还没有训练。" : `第 ${step} 步之后：${values}。`,
    weightSummary: (spreadNaive, spreadMean) =>
      `最大权重与最小权重之比：朴素写法 ${spreadNaive}，逐批次均值 ${spreadMean}，固定计数 1。`,
  },
};

const CHOICES = {
  lr: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
  weight_decay: [0, 0.001, 0.01, 0.05, 0.1, 0.5],
  clip: [0, 0.1, 0.2, 0.5, 1, 2, 5],
  padding_percent: [10, 20, 30, 40, 50, 60, 70, 80, 90],
  batch_size: [8, 16, 32, 64, 128],
};
const SVG = "http://www.w3.org/2000/svg";

function node(tag, attributes = {}, text = "") {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  if (text) el.textContent = text;
  return el;
}

function svgNode(tag, attributes = {}, text = "") {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, String(value));
  if (text) el.textContent = text;
  return el;
}

function nearestIndex(values, value) {
  let best = 0;
  values.forEach((v, i) => {
    if (Math.abs(v - value) < Math.abs(values[best] - value)) best = i;
  });
  return best;
}

export function formatNumber(value) {
  if (!Number.isFinite(value)) return "—";
  if (value !== 0 && (Math.abs(value) >= 1e4 || Math.abs(value) < 1e-3)) {
    return value.toExponential(2);
  }
  return Number(value.toPrecision(4)).toString();
}

/** Ticks for a log axis between lo and hi (both > 0). */
export function logTicks(lo, hi) {
  const ticks = [];
  const steps = Math.log10(hi / lo) < 2.6 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of steps) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(Number(v.toPrecision(3)));
    }
  }
  return ticks;
}

function chart(svg, { xMax, xLabel, series, xStart = 0, highlight = null }) {
  // One user unit per CSS pixel where the figure is narrow: text stays 13px.
  const W = Math.round(Math.max(280, Math.min(560, svg.parentNode.clientWidth || 560)));
  const H = W < 420 ? 210 : 250;
  const left = 48;
  const right = 12;
  const top = 10;
  const bottom = 40;
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const values = series.flatMap((s) => s.values.filter((v) => Number.isFinite(v) && v > 0));
  let lo = values.length ? Math.min(...values) : 0.01;
  let hi = values.length ? Math.max(...values) : 10;
  if (hi / lo < 3) {
    const middle = Math.sqrt(hi * lo);
    lo = middle / 1.8;
    hi = middle * 1.8;
  }
  lo /= 1.15;
  hi *= 1.15;
  const xs = (v) => left + ((v - xStart) / (xMax - xStart || 1)) * (W - left - right);
  const ys = (v) => top + (1 - Math.log(v / lo) / Math.log(hi / lo)) * (H - top - bottom);
  const g = svgNode("g", { class: "mlt-axes" });
  for (const t of logTicks(lo, hi)) {
    g.append(svgNode("line", { x1: left, x2: W - right, y1: ys(t), y2: ys(t), class: "mlt-grid" }));
    g.append(svgNode("text", { x: left - 6, y: ys(t) + 4, "text-anchor": "end" }, formatNumber(t)));
  }
  const span = xMax - xStart;
  const xStep = (span <= 20 ? 2 : span <= 60 ? 10 : xMax <= 200 ? 50 : 100) * (W < 420 && span <= 20 ? 2 : 1);
  for (let t = xStart; t <= xMax; t += xStep) {
    g.append(svgNode("text", { x: xs(t), y: H - bottom + 16, "text-anchor": "middle" }, String(t)));
  }
  g.append(svgNode("line", { x1: left, x2: W - right, y1: H - bottom, y2: H - bottom, class: "mlt-axis" }));
  g.append(svgNode("line", { x1: left, x2: left, y1: top, y2: H - bottom, class: "mlt-axis" }));
  g.append(svgNode("text", { x: (left + W - right) / 2, y: H - 6, "text-anchor": "middle" }, xLabel));
  svg.append(g);
  if (highlight !== null) {
    const width = (W - left - right) / (xMax - xStart || 1);
    svg.append(
      svgNode("rect", {
        x: xs(highlight) - width / 2,
        y: top,
        width: Math.max(width, 3),
        height: H - top - bottom,
        class: "mlt-current",
      }),
    );
  }
  for (const s of series) {
    let d = "";
    let pen = false;
    s.values.forEach((v, i) => {
      if (!(Number.isFinite(v) && v > 0) || v > hi * 10) {
        pen = false;
        return;
      }
      const point = `${xs(s.x0 + i).toFixed(1)},${ys(Math.min(v, hi)).toFixed(1)}`;
      d += (pen ? "L" : "M") + point;
      pen = true;
    });
    svg.append(svgNode("path", { d, class: `mlt-line mlt-${s.key}` }));
    if (s.marker) {
      s.values.forEach((v, i) => {
        if (!(Number.isFinite(v) && v > 0)) return;
        const cx = xs(s.x0 + i);
        const cy = ys(v);
        const shape =
          s.marker === "circle"
            ? svgNode("circle", { cx, cy, r: 3.5 })
            : svgNode("rect", { x: cx - 3.2, y: cy - 3.2, width: 6.4, height: 6.4 });
        shape.setAttribute("class", `mlt-marker mlt-${s.key}`);
        svg.append(shape);
      });
    }
  }
}

function render({ model, el }) {
  // "auto": the language of the page (the Chinese chapters are lang="zh-CN").
  const asked = model.get("language");
  const holder = el.closest ? el.closest("[lang]") : null;
  const pageLanguage = (holder && holder.getAttribute("lang")) || document.documentElement.lang || "";
  const chinese = asked === "zh" || (asked !== "en" && pageLanguage.toLowerCase().startsWith("zh"));
  const language = chinese ? "zh" : "en";
  const T = TEXT[language];
  const settings = { ...DEFAULTS, ...(model.get("settings") || {}) };
  const shown = { naive: true, mean: true, global: true };
  let trainer = new Trainer(settings);
  let playing = false;
  let frame = null;

  const root = node("section", { class: "mlt-root", lang: language === "zh" ? "zh-CN" : "en" });
  root.setAttribute("aria-label", T.title);
  const heading = node("p", { class: "mlt-title" }, T.title);
  const note = node("p", { class: "mlt-note" }, T.note);

  const form = node("div", { class: "mlt-controls" });
  const uid = Math.random().toString(36).slice(2, 8);
  const inputs = {};

  function field(name, control, output) {
    const id = `mlt-${uid}-${name}`;
    control.id = id;
    const wrap = node("div", { class: "mlt-field" });
    const label = node("label", { for: id }, T[name]);
    if (output) label.append(" ", output);
    wrap.append(label, control);
    form.append(wrap);
    inputs[name] = control;
  }

  function select(name, options) {
    const control = node("select");
    for (const [value, text] of Object.entries(options)) {
      const option = node("option", { value }, text);
      if (String(settings[name]) === value) option.selected = true;
      control.append(option);
    }
    control.addEventListener("change", () => update(name, control.value));
    field(name, control);
  }

  function slider(name, show) {
    const values = CHOICES[name];
    const output = node("span", { class: "mlt-value" });
    const control = node("input", {
      type: "range",
      min: 0,
      max: values.length - 1,
      step: 1,
      value: nearestIndex(values, Number(settings[name])),
    });
    const refresh = () => {
      const value = values[Number(control.value)];
      output.textContent = show(value);
      control.setAttribute("aria-valuetext", show(value));
    };
    refresh();
    control.addEventListener("input", () => {
      refresh();
      update(name, values[Number(control.value)]);
    });
    field(name, control, output);
  }

  select("task", T.tasks);
  select("padding", T.paddings);
  select("optimizer", T.optimizers);
  slider("lr", String);
  slider("weight_decay", String);
  slider("clip", (v) => (v === 0 ? T.off : String(v)));
  slider("padding_percent", (v) => `${v}%`);
  slider("batch_size", String);
  const seed = node("input", { type: "number", min: 0, max: 99999, step: 1, value: settings.seed, inputmode: "numeric" });
  seed.addEventListener("change", () => {
    const value = Math.max(0, Math.min(99999, Math.floor(Number(seed.value) || 0)));
    seed.value = value;
    update("seed", value);
  });
  field("seed", seed);

  const legend = node("fieldset", { class: "mlt-legend" });
  legend.append(node("legend", {}, T.losses));
  for (const loss of LOSSES) {
    const id = `mlt-${uid}-show-${loss}`;
    const box = node("input", { type: "checkbox", id });
    box.checked = true;
    box.addEventListener("change", () => {
      shown[loss] = box.checked;
      draw();
    });
    const label = node("label", { for: id, class: "mlt-check" });
    label.append(box, node("span", { class: `mlt-swatch mlt-${loss}`, "aria-hidden": "true" }));
    const value = node("span", { class: "mlt-reading" });
    label.append(node("span", {}, T.names[loss]), value);
    legend.append(label);
    inputs[`value-${loss}`] = value;
  }

  const buttons = node("div", { class: "mlt-buttons" });
  const play = node("button", { type: "button", class: "mlt-primary" }, T.play);
  const once = node("button", { type: "button" }, T.stepOnce);
  const reset = node("button", { type: "button" }, T.reset);
  buttons.append(play, once, reset);
  const status = node("p", { class: "mlt-status", role: "status", "aria-live": "polite" });

  const lossFigure = node("figure", { class: "mlt-figure" });
  const lossSvg = document.createElementNS(SVG, "svg");
  lossSvg.setAttribute("role", "img");
  lossFigure.append(node("figcaption", {}, T.lossTitle), lossSvg);
  const weightFigure = node("figure", { class: "mlt-figure" });
  const weightSvg = document.createElementNS(SVG, "svg");
  weightSvg.setAttribute("role", "img");
  weightFigure.append(node("figcaption", {}, T.weightTitle), weightSvg);

  const charts = node("div", { class: "mlt-charts" });
  charts.append(lossFigure, weightFigure);
  const panel = node("div", { class: "mlt-panel" });
  panel.append(form);
  root.append(heading, buttons, status, charts, legend, panel, note);
  el.replaceChildren(root);

  function update(name, value) {
    settings[name] = value;
    trainer = new Trainer(settings);
    draw();
  }

  function draw() {
    const step = trainer.step;
    const batches = trainer.plan.length;
    const xMax = Math.min(MAX_STEPS, Math.max(100, Math.ceil((step + 1) / 100) * 100));
    const series = LOSSES.filter((loss) => shown[loss]).map((loss) => ({
      key: loss,
      x0: 1,
      values: trainer.runs[loss].losses,
    }));
    chart(lossSvg, { xMax, xLabel: T.lossX, series });
    const readings = [];
    for (const loss of LOSSES) {
      const values = trainer.runs[loss].losses;
      const last = values.length ? values[values.length - 1] : trainer.allDataLoss(trainer.data.init);
      const text = Number.isFinite(last) && last < 1e12 ? formatNumber(last) : T.diverged;
      inputs[`value-${loss}`].textContent = text;
      readings.push(T.reading(T.names[loss], text));
    }
    lossSvg.setAttribute("aria-label", T.sentences(T.lossTitle, T.lossSummary(step, readings.join(T.list))));
    const w = trainer.weights;
    const next = step % batches;
    chart(weightSvg, {
      xMax: batches,
      xStart: 1,
      xLabel: T.weightX,
      highlight: next + 1,
      series: [
        { key: "global", x0: 1, values: w.global },
        { key: "naive", x0: 1, values: w.naive, marker: "circle" },
        { key: "mean", x0: 1, values: w.mean, marker: "square" },
      ].filter((s) => shown[s.key]),
    });
    const spread = (v) => formatNumber(Math.max(...v) / Math.min(...v));
    weightSvg.setAttribute(
      "aria-label",
      T.sentences(T.weightTitle, T.weightSummary(spread(w.naive), spread(w.mean))),
    );
    const epoch = Math.floor(step / batches) + 1;
    status.textContent =
      `${T.status(step, epoch, next + 1, batches)} · ` +
      T.valid(trainer.validFraction.toFixed(3));
    play.textContent = playing ? T.pause : T.play;
    play.setAttribute("aria-pressed", playing ? "true" : "false");
    once.disabled = trainer.step >= MAX_STEPS;
  }

  function tick() {
    if (!playing) return;
    for (let i = 0; i < 2 && trainer.step < MAX_STEPS; i++) trainer.advance();
    if (trainer.step >= MAX_STEPS) playing = false;
    draw();
    frame = playing ? requestAnimationFrame(tick) : null;
  }

  play.addEventListener("click", () => {
    playing = !playing;
    if (playing && trainer.step >= MAX_STEPS) trainer = new Trainer(settings);
    draw();
    if (playing && frame === null) frame = requestAnimationFrame(tick);
  });
  once.addEventListener("click", () => {
    playing = false;
    if (trainer.step < MAX_STEPS) trainer.advance();
    draw();
  });
  reset.addEventListener("click", () => {
    playing = false;
    trainer = new Trainer(settings);
    draw();
  });
  draw();
  return () => {
    playing = false;
    if (frame !== null) cancelAnimationFrame(frame);
  };
}

export default { render };
