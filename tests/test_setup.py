"""Set-up on a fresh machine: `make test` gets its Chromium, or stops first with one line.

These run the real Makefile and scripts/ensure_browser.sh with a PATH that holds
only the basic tools (no chromium), and with fake `apt-get` / `id` commands
that stand for "root on Debian" and "an ordinary user".
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
TOOLS = ("make", "bash", "sh", "env", "dirname", "cat", "rm", "mkdir", "touch", "chmod", "python3")
INSTRUCTION = "Chromium not found: run `sudo apt-get install -y chromium`"


@pytest.fixture
def fresh(tmp_path):
    """A PATH with the basic tools and no browser, and an empty home (no Playwright browsers)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": str(bin_dir),
        "HOME": str(home),
        "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "no-browsers"),
        "LANG": "C.UTF-8",
    }
    return bin_dir, env


def fake(bin_dir: pathlib.Path, name: str, body: str) -> None:
    script = bin_dir / name
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)


def test_make_test_stops_before_any_test_without_a_browser(fresh):
    # An ordinary user without apt permissions and without any Chromium.
    bin_dir, env = fresh
    fake(bin_dir, "id", "echo 1000\n")
    done = subprocess.run(
        ["make", "test"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert INSTRUCTION in output, output
    # It stopped at once: no lint, no build, no pytest.
    for later in ("ruff", "jupyter-book", "pytest", "sync_notebooks"):
        assert later not in output, output
    instruction_lines = [line for line in output.splitlines() if "Chromium not found" in line]
    assert len(instruction_lines) == 1


def test_root_on_debian_installs_chromium_with_apt(fresh, tmp_path):
    bin_dir, env = fresh
    log = tmp_path / "apt.log"
    fake(bin_dir, "id", "echo 0\n")
    # A stand-in for apt-get: records its arguments; "install" puts a chromium on PATH.
    fake(
        bin_dir,
        "apt-get",
        f'echo "$@" >> {log}\n'
        f'case "$*" in *install*chromium*)\n'
        f'  printf "#!/bin/sh\\necho Chromium 1\\n" > {bin_dir}/chromium\n'
        f"  chmod +x {bin_dir}/chromium;;\nesac\n",
    )
    done = subprocess.run(
        ["bash", "scripts/ensure_browser.sh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(bin_dir / "chromium")
    calls = log.read_text().splitlines()
    assert calls[0].startswith("update") and "install -y -qq chromium" in calls[1], calls


def test_an_installed_browser_is_used_as_is(fresh):
    bin_dir, env = fresh
    fake(bin_dir, "chromium", "echo Chromium 1\n")
    fake(bin_dir, "apt-get", "echo apt-get must not run >&2; exit 1\n")
    done = subprocess.run(
        ["bash", "scripts/ensure_browser.sh"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.strip() == str(bin_dir / "chromium")
    env["CHROMIUM"] = str(bin_dir / "chromium")
    (bin_dir / "other").symlink_to(bin_dir / "chromium")
    env["CHROMIUM"] = "other"
    done = subprocess.run(
        ["bash", "scripts/ensure_browser.sh"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.stdout.strip() == str(bin_dir / "other")


def test_readme_says_what_make_test_does_without_a_browser():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "apt-get install" in readme and "playwright install chromium" in readme
    assert "Chromium not found" in readme
    assert os.access(ROOT / "scripts" / "ensure_browser.sh", os.X_OK)
