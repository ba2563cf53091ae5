// Render TeX to SVG at build time, so that pages need no MathJax in the browser.
// stdin: JSON [[tex, display], ...]; stdout: JSON {svg: [...], css: "..."}.
// Called by book/_ext/book_settings.py after the HTML is written. MathJax comes
// from node_modules (pinned by package-lock.json); the SVGs carry their glyphs
// as paths (no web fonts) and hidden MathML for screen readers.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const input = JSON.parse(require("node:fs").readFileSync(0, "utf8"));

const MathJax = await require("mathjax").init({
  loader: { load: ["input/tex", "output/svg", "a11y/assistive-mml"] },
  tex: { packages: { "[+]": ["ams"] } },
  svg: { fontCache: "none" },
  startup: { typeset: false },
});
const adaptor = MathJax.startup.adaptor;
const errors = [];
const svg = input.map(([tex, display]) => {
  const node = MathJax.tex2svg(tex, { display });
  const markup = adaptor.outerHTML(node);
  if (markup.includes("data-mjx-error") || markup.includes("merror")) {
    errors.push(tex);
  }
  return markup;
});
if (errors.length) {
  console.error("TeX errors in:\n" + errors.join("\n"));
  process.exit(1);
}
const css = adaptor.textContent(MathJax.svgStylesheet());
process.stdout.write(JSON.stringify({ svg, css }));
