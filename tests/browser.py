"""Shared set-up for the tests that drive a real Chromium through Playwright."""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium():
    """Skip on a developer machine without Chromium; in CI its absence fails."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing on CI: .ci/run should have installed it.")
        pytest.skip("Chromium is not installed (apt-get install chromium).")


@pytest.fixture
def browser(monkeypatch):
    require_chromium()
    # The live server's own static handler only knows unhashed names; let
    # WhiteNoise serve the collected, hashed files as it does in production.
    from django.contrib.staticfiles.handlers import StaticFilesHandler

    monkeypatch.setattr(StaticFilesHandler, "_should_handle", lambda self, path: False)
    # Playwright's sync API runs an event loop in this thread; the live
    # server's database work happens in its own thread.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
