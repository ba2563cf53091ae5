"""Copy the pinned browser runtime from node_modules into the site's static files.

The site makes no request to another origin: anything it needs at run time is
served from ``_static/vendor/``. Today that is nothing: formulas are rendered
to SVG at build time (MathJax in Node.js, ``scripts/render_math.mjs``) and the
explorer is mounted from its stored state by ``book/site_assets/widgets-mount.js``
(no require.js, no ipywidgets HTML manager).
Versions come from package.json/package-lock.json (``npm ci``); each copy is
listed with its version and licence in ``vendor/VERSIONS.txt``.

    python scripts/vendor_assets.py
"""

from __future__ import annotations

import json
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "book" / "site_assets" / "vendor"

# package -> (folder under vendor/, files or folders to copy, relative to the package)
ASSETS: dict[str, tuple[str, list[str]]] = {}
LICENCE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE")


def copy_package(package: str, folder: str, patterns: list[str]) -> str:
    source = NODE_MODULES / package
    if not source.is_dir():
        raise SystemExit(f"{source} is missing: run `npm ci` first")
    target = VENDOR / folder
    for pattern in patterns:
        matches = sorted(source.glob(pattern))
        if not matches:
            raise SystemExit(f"nothing matches {package}/{pattern}")
        for path in matches:
            if path.is_dir():
                shutil.copytree(path, target, dirs_exist_ok=True)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target / path.name)
    for name in LICENCE_NAMES:
        if (source / name).exists():
            shutil.copy2(source / name, target / "LICENSE")
            break
    meta = json.loads((source / "package.json").read_text(encoding="utf-8"))
    return f"{package} {meta['version']} ({meta.get('license', 'see LICENSE')}) -> vendor/{folder}/"


def main() -> int:
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    VENDOR.mkdir(parents=True)
    lines = [copy_package(package, *spec) for package, spec in ASSETS.items()]
    (VENDOR / "VERSIONS.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
