// The widget runtime is self-hosted. Point require.js at this site's copy of
// anywidget, so @jupyter-widgets/html-manager never falls back to a CDN, and
// tell the manager where its own fonts live.
(function () {
  var base = new URL(".", document.currentScript.src).href;
  window.requirejs.config({
    paths: {
      anywidget: base + "vendor/anywidget/index",
      // Modules bundled in embed-amd.js resolve their fonts against this id.
      "@jupyter-widgets/html-manager/dist": base + "vendor/html-manager",
    },
  });
  window.__jupyter_widgets_assets_path__ = base + "vendor/html-manager/";
})();
