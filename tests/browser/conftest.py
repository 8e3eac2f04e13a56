"""Headless Chromium (Debian's package) driven by Playwright for Python; no browser download."""

import os

import pytest

from tests.conftest import missing_service

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# beside it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_service("playwright is not installed (make test installs it)")
    if not os.path.exists(CHROMIUM):
        missing_service("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def page_without_javascript(browser):
    """A page in a context with JavaScript off: what the plain HTML alone does."""
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
