// Mask explorer: the naive masked MSE next to the correct one, computed here in
// the browser so that it works in Jupyter, Colab and on the static site alike.
// tests/test_explorer.py checks compute() against masked_loss on random cases.

const REDUCTIONS = ["mean", "sum", "none"];

// Every word the explorer shows or reads out, per language. The widget's
// `language` ("en", "zh"; anything else: the page's <html lang>) picks one.
export const TEXT = {
  en: {
    help: "Click a cell (or focus it and press Enter or Space) to mask or unmask it.",
    grid: "Mask: one button per element",
    reduction: "Reduction",
    cell: (row, column, p, t, se, valid) =>
      `Row ${row}, column ${column}: prediction ${p}, target ${t}, `
      + `squared error ${se}, ${valid ? "valid" : "masked"}`,
    state: (valid) => (valid ? "valid (1)" : "masked (0)"),
    values: (p, t) => `pred ${p}, target ${t}`,
    squaredError: (se) => `squared error ${se}`,
    naive: (value) => `Naive F.mse_loss(p*m, t*m): ${value}`,
    correct: (value) => `Correct masked_mse_loss(p, t, m): ${value}`,
    counts: (k, n, ratio) => `k = ${k} valid of N = ${n} elements, k/N = ${ratio}`,
  },
  zh: {
    help: "点击一个单元格（或用 Tab 选中后按 Enter 或空格键），即可屏蔽或恢复该元素。",
    grid: "掩码：每个元素一个按钮",
    reduction: "归约方式（reduction）",
    cell: (row, column, p, t, se, valid) =>
      `第 ${row} 行第 ${column} 列：预测值 ${p}，目标值 ${t}，`
      + `平方误差 ${se}，${valid ? "有效" : "已屏蔽"}`,
    state: (valid) => (valid ? "有效（1）" : "已屏蔽（0）"),
    values: (p, t) => `预测值 ${p}，目标值 ${t}`,
    squaredError: (se) => `平方误差 ${se}`,
    naive: (value) => `朴素写法 F.mse_loss(p*m, t*m)：${value}`,
    correct: (value) => `正确写法 masked_mse_loss(p, t, m)：${value}`,
    counts: (k, n, ratio) => `N = ${n} 个元素中有效的 k = ${k} 个，k/N = ${ratio}`,
  },
};

/** "en" or "zh": the widget's language, or for any other value the page's. */
export function resolveLanguage(asked, pageLanguage) {
  if (asked === "en" || asked === "zh") return asked;
  return String(pageLanguage || "").toLowerCase().startsWith("zh") ? "zh" : "en";
}

/**
 * Naive and correct masked MSE for 2-D arrays.
 * naive  = F.mse_loss(p * m, t * m): 'mean' divides by all N elements.
 * correct = masked_loss.masked_mse_loss(p, t, m): 'mean' divides by the k valid
 * ones (0 when nothing is valid). For 'sum' and 'none' the two agree.
 */
export function compute(predictions, targets, mask, reduction) {
  if (!REDUCTIONS.includes(reduction)) {
    throw new Error(`unknown reduction ${reduction}`);
  }
  const squaredErrors = predictions.map((row, i) =>
    row.map((p, j) => (p - targets[i][j]) ** 2),
  );
  const masked = squaredErrors.map((row, i) => row.map((se, j) => (mask[i][j] ? se : 0)));
  let total = 0;
  let k = 0;
  let n = 0;
  masked.forEach((row, i) =>
    row.forEach((se, j) => {
      total += se;
      k += mask[i][j] ? 1 : 0;
      n += 1;
    }),
  );
  let naive;
  let correct;
  if (reduction === "mean") {
    naive = n > 0 ? total / n : NaN;
    correct = k > 0 ? total / k : 0;
  } else if (reduction === "sum") {
    naive = total;
    correct = total;
  } else {
    naive = masked;
    correct = masked;
  }
  return { squaredErrors, naive, correct, k, n, ratio: n > 0 ? k / n : NaN };
}

export function format(value) {
  if (Array.isArray(value)) {
    return "[" + value.map(format).join(", ") + "]";
  }
  if (Number.isNaN(value)) return "nan";
  return value.toFixed(4);
}

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, value);
  }
  if (text) node.textContent = text;
  return node;
}

function render({ model, el }) {
  const holder = el.closest ? el.closest("[lang]") : null;
  const pageLanguage = (holder && holder.getAttribute("lang")) || document.documentElement.lang;
  const language = resolveLanguage(model.get("language"), pageLanguage);
  const T = TEXT[language];
  const root = element("div", { class: "mle-root", lang: language === "zh" ? "zh-CN" : "en" });
  const heading = element("p", { class: "mle-help" }, T.help);
  const grid = element("div", { class: "mle-grid", role: "group", "aria-label": T.grid });
  const controls = element("div", { class: "mle-controls", role: "radiogroup", "aria-label": T.reduction });
  const results = element("div", { class: "mle-results", "aria-live": "polite" });
  // Grid on the left, the reduction and the numbers beside it where there is room
  // (explorer.css), so the numbers stay on screen while one clicks.
  const side = element("div", { class: "mle-side" });
  const layout = element("div", { class: "mle-layout" });
  side.append(controls, results);
  layout.append(grid, side);
  root.append(heading, layout);
  el.append(root);

  controls.append(element("span", { class: "mle-label", "aria-hidden": "true" }, "reduction="));
  const reductionButtons = REDUCTIONS.map((reduction) => {
    const button = element("button", { type: "button", class: "mle-reduction", role: "radio", "data-reduction": reduction },
      `'${reduction}'`);
    button.addEventListener("click", () => choose(reduction));
    controls.append(button);
    return button;
  });

  function choose(reduction) {
    model.set("reduction", reduction);
    model.save_changes();
  }

  // A radio group: arrow keys move the choice (and the focus) to the next or
  // previous option, wrapping around; Tab enters and leaves the group as one stop.
  controls.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    const home = { Home: 0, End: REDUCTIONS.length - 1 }[event.key];
    if (step === undefined && home === undefined) return;
    event.preventDefault();
    const current = REDUCTIONS.indexOf(model.get("reduction"));
    const next = home !== undefined ? home : (current + step + REDUCTIONS.length) % REDUCTIONS.length;
    choose(REDUCTIONS[next]);
    reductionButtons[next].focus();
  });

  function toggle(i, j) {
    const mask = model.get("mask").map((row) => row.slice());
    mask[i][j] = mask[i][j] ? 0 : 1;
    model.set("mask", mask);
    model.save_changes();
  }

  function update() {
    const predictions = model.get("predictions");
    const targets = model.get("targets");
    const mask = model.get("mask");
    const reduction = model.get("reduction");
    const out = compute(predictions, targets, mask, reduction);

    const focused = document.activeElement && grid.contains(document.activeElement)
      ? document.activeElement.dataset.cell : null;
    grid.replaceChildren();
    grid.style.gridTemplateColumns = `repeat(${predictions[0].length}, minmax(0, 1fr))`;
    predictions.forEach((row, i) =>
      row.forEach((p, j) => {
        const valid = Boolean(mask[i][j]);
        const se = out.squaredErrors[i][j];
        const cell = element("button", {
          type: "button",
          class: valid ? "mle-cell mle-valid" : "mle-cell mle-masked",
          "aria-pressed": String(valid),
          "data-cell": `${i},${j}`,
          "aria-label": T.cell(i + 1, j + 1, p, targets[i][j], format(se), valid),
        });
        cell.append(
          element("span", { class: "mle-state" }, T.state(valid)),
          element("span", {}, T.values(p, targets[i][j])),
          element("span", { class: "mle-se" }, T.squaredError(format(se))),
        );
        cell.addEventListener("click", () => toggle(i, j));
        grid.append(cell);
      }),
    );
    if (focused) {
      const again = grid.querySelector(`[data-cell="${focused}"]`);
      if (again) again.focus();
    }

    reductionButtons.forEach((button) => {
      const checked = button.dataset.reduction === reduction;
      button.setAttribute("aria-checked", String(checked));
      button.tabIndex = checked ? 0 : -1;
    });

    results.replaceChildren(
      element("p", { class: "mle-naive", "data-value": "naive" }, T.naive(format(out.naive))),
      element("p", { class: "mle-correct", "data-value": "correct" }, T.correct(format(out.correct))),
      element("p", { class: "mle-counts", "data-value": "counts" },
        T.counts(out.k, out.n, format(out.ratio))),
    );
  }

  model.on("change:mask", update);
  model.on("change:reduction", update);
  model.on("change:predictions", update);
  model.on("change:targets", update);
  update();
}

export default { render };
