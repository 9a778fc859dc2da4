"""Headless Chromium (Debian's package) driven by Playwright, for browser tests."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = os.environ.get("VITRINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def chromium(monkeypatch):
    """A browser of the test's own, closed at its end."""
    if not shutil.which(CHROMIUM):
        from tests.services import missing

        missing("Chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    # Playwright's sync API keeps an event loop in this thread, which Django takes
    # for an async context; the test's own ORM calls are still plain sync code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        # Connections opened while the loop ran belong to its context: closed
        # here, or they keep the test database open to the end of the run.
        connections.close_all()
        browser.close()


@pytest.fixture
def page(chromium, request) -> Iterator:
    """A fresh browser page; its screenshot is kept under test-artifacts/."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)
    context.close()
