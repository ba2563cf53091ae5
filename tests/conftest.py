import asyncio
import contextlib
import os
import pathlib
import shutil

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
