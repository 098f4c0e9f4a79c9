"""Headless Chromium for the page tests: Debian's binary driven by Playwright, never a browser
Playwright downloads. Skipped on a user's clone that lacks either; a failure in CI, which has both
(.ci/run sets REQUIRE_BROWSER_TEST).

Playwright gives up waiting after 30 s (navigation, actions) and 5 s (``expect``), times a page
can reach on CI's two loaded cores with nothing wrong; here every wait fails only past the hang
guard, as everywhere in the tests: open pages with ``new_page``."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from server import HANG_GUARD_S

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

HANG_GUARD_MS = HANG_GUARD_S * 1000

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable(reason: str) -> NoReturn:
    """Skip on a user's clone; fail in CI, which has everything."""
    if os.environ.get("REQUIRE_BROWSER_TEST"):
        pytest.fail(f"the browser test must run here: {reason}")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        unavailable(f"no Chromium at {CHROMIUM} (Debian package 'chromium'; .ci/run installs it)")
    if importlib.util.find_spec("playwright") is None:
        unavailable("playwright is not installed (a dev extra: pip install -e '.[dev]')")
    from playwright import sync_api

    sync_api.expect.set_options(timeout=HANG_GUARD_MS)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=HANG_GUARD_MS
        )
        yield launched
        launched.close()


def new_page(browser: Browser, **options: Any) -> Page:
    """A page (``options`` as for Browser.new_page) whose waits fail only past the hang guard."""
    page = browser.new_page(**options)
    page.set_default_timeout(HANG_GUARD_MS)
    page.set_default_navigation_timeout(HANG_GUARD_MS)
    return page


# Collects the page's content-security-policy violations in window.__violations, for a test to read.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""
