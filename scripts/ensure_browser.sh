#!/usr/bin/env bash
# Find (or install) the Chromium that the browser tests and the PDF need, and print its path.
#
#   1. $CHROMIUM, or `chromium` / `chromium-browser` on PATH;
#   2. otherwise, on Debian/Ubuntu where we may (root, or password-less sudo):
#      apt-get install chromium;
#   3. otherwise Playwright's own Chromium, if `playwright install chromium` put one here;
#   4. otherwise stop with one line that says what to run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON_BIN:-.venv/bin/python}

find_browser() {
  local candidate found
  for candidate in "${CHROMIUM:-}" chromium chromium-browser; do
    [ -n "$candidate" ] || continue
    if found=$(command -v "$candidate" 2>/dev/null) && [ -x "$found" ]; then
      echo "$found"
      return 0
    fi
  done
  return 1
}

find_browser && exit 0

if command -v apt-get >/dev/null 2>&1; then
  sudo=none
  if [ "$(id -u)" = 0 ]; then
    sudo=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  fi
  if [ "$sudo" != none ]; then
    echo "Installing Debian's chromium for the browser tests (apt-get install chromium)" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
    find_browser && exit 0
  fi
fi

if [ -x "$PYTHON" ] && found=$("$PYTHON" - 2>/dev/null <<'PY'
import os
from playwright.sync_api import sync_playwright

with sync_playwright() as p:
    path = p.chromium.executable_path
print(path if os.path.exists(path) else "")
PY
) && [ -n "$found" ]; then
  echo "$found"
  exit 0
fi

echo "Chromium not found: run \`sudo apt-get install -y chromium\` (Debian/Ubuntu) or \`.venv/bin/playwright install chromium\`, then run make again." >&2
exit 1
