import asyncio
import contextlib
import json
import os
import pathlib
import shutil
import subprocess

import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@contextlib.contextmanager
def sync_playwright():
    """Playwright's sync API, started even where an earlier test left an event loop marked running.

    A worker runs many test files in one process; one that leaves asyncio's
    running-loop marker set (no coroutine of ours is running while a fixture
    sets up) makes the sync API refuse to start. The marker is cleared for the
    start and restored after.
    """
    from playwright.sync_api import sync_playwright as start

    try:
        stale = asyncio.get_running_loop()
    except RuntimeError:
        stale = None
    asyncio.events._set_running_loop(None)
    try:
        with start() as playwright:
            yield playwright
    finally:
        asyncio.events._set_running_loop(stale)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, for the pages of one test file (test_site.py has its own)."""
    pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    assert pathlib.Path(chromium).exists(), "the browser test needs /usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        yield browser
        browser.close()


@pytest.fixture
def english_afterwards():
    """``use_language``, with the teaching helpers set back to English after the test."""
    from masked_loss.teaching import use_language

    yield use_language
    use_language("en")


def run_node(script: str, payload: object = None, timeout: float = 600) -> object:
    """Run an ES module in Node.js, ``payload`` as JSON on stdin; return what it prints, as JSON."""
    node = shutil.which("node")
    assert node, "these tests need Node.js (apt-get install nodejs)"
    done = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=None if payload is None else json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    )
    return json.loads(done.stdout)


WIDGET_TEXTS = """
import { TEXT } from %s;
const calls = %s;
const flat = (table) => Object.fromEntries(Object.entries(table).map(([key, value]) => [
  key,
  typeof value === "function" ? calls.map((args) => value(...args))
    : typeof value === "object" ? Object.values(value) : [value],
]));
console.log(JSON.stringify({ en: flat(TEXT.en), zh: flat(TEXT.zh) }));
"""


def widget_texts(path: pathlib.Path, calls: list[list]) -> dict[str, dict[str, list[str]]]:
    """Every text of a widget's TEXT table in each language; its functions called with ``calls``."""
    return run_node(WIDGET_TEXTS % (json.dumps(path.as_uri()), json.dumps(calls)))
