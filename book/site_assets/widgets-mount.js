// Mounts the notebooks' anywidgets (the mask explorer) on the static site.
//
// A notebook stores each widget's state, its JavaScript module (`_esm`) and
// style (`_css`) included, in the page. This script, a few kilobytes, gives
// each widget view a small in-page model and calls the module's `render`, as
// anywidget does in Jupyter; no Python kernel, no 3.6 MB ipywidgets HTML
// manager, no require.js. Loaded with `defer`: it never blocks first paint.
(() => {
  const STATE = 'script[type="application/vnd.jupyter.widget-state+json"]';
  const VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';

  function readState() {
    const models = {};
    for (const script of document.querySelectorAll(STATE)) {
      Object.assign(models, JSON.parse(script.textContent).state || {});
    }
    return models;
  }

  // The part of anywidget's model interface a front-end module uses.
  function inPageModel(values) {
    const handlers = new Map();
    const pending = new Set();
    return {
      get: (name) => values[name],
      set(name, value) {
        values[name] = value;
        pending.add(name);
      },
      save_changes() {
        const changed = [...pending];
        pending.clear();
        for (const name of changed) {
          for (const handler of handlers.get(`change:${name}`) || []) handler();
        }
        for (const handler of handlers.get("change") || []) handler();
      },
      on(event, handler) {
        if (!handlers.has(event)) handlers.set(event, []);
        handlers.get(event).push(handler);
      },
      off(event, handler) {
        if (!event) return handlers.clear();
        const list = handlers.get(event) || [];
        handlers.set(event, handler ? list.filter((h) => h !== handler) : []);
      },
      send() {},
      widget_manager: null,
    };
  }

  const modules = new Map();
  function load(esm) {
    if (!modules.has(esm)) {
      const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
      modules.set(esm, import(url));
    }
    return modules.get(esm);
  }

  async function mount(view, models) {
    const { model_id: id } = JSON.parse(view.textContent);
    const model = models[id];
    const el = document.createElement("div");
    el.className = "widget-mount";
    view.after(el);
    const state = model && model.state;
    if (!state || typeof state._esm !== "string") {
      el.textContent = "(This widget needs a running notebook.)";
      return;
    }
    if (state._css) {
      const style = document.createElement("style");
      style.textContent = state._css;
      document.head.append(style);
    }
    const module = await load(state._esm);
    const widget = module.default || module;
    const values = { ...state };
    const instance = inPageModel(values);
    if (typeof widget.initialize === "function") await widget.initialize({ model: instance });
    await widget.render({ model: instance, el });
  }

  const views = document.querySelectorAll(VIEW);
  if (!views.length) return;
  const models = readState();
  for (const view of views) {
    mount(view, models).catch((error) => console.error("widget:", error));
  }
})();
