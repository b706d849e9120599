"""Browser-test harness: Playwright (sync API) driving Debian's chromium against Django's live server.

Fixtures: `browser` (one headless chromium per test session), `page` (a fresh browser context per
test, so cookies never leak between tests), and `log_in` (logs a user in through the real login
form). Tests outside tests/e2e use them with
`from tests.e2e.conftest import browser, log_in, page  # noqa: F401` (in the test module or the app's
conftest.py); every importer shares the one chromium. Mark browser tests with `@pytest.mark.browser`.
The live server runs the test settings with a transactional database: create rows in the test before
opening pages.

Every page opened through `page` must raise no Content-Security-Policy violation (chromium reports each
one in the console): the fixture fails the test after it ran otherwise.

Without /usr/bin/chromium the browser tests are skipped with the reason shown (under CI=true they fail
instead, so CI never passes without running them).
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
# synchronous, so Django's async-safety guard is switched off for this test process.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 15_000


# One chromium for the whole run, however many test modules import these fixtures (each import makes
# its own copy of a session fixture, and Playwright's sync API cannot be started twice at once).
_shared: dict = {"users": 0, "playwright": None, "browser": None}


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run browser tests"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}. CI must run them (.ci/run installs it).")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    if _shared["users"] == 0:
        playwright = sync_playwright().start()
        try:
            _shared["browser"] = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        except Exception:
            playwright.stop()
            raise
        _shared["playwright"] = playwright
    _shared["users"] += 1
    try:
        yield _shared["browser"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            _shared["browser"].close()
            _shared["playwright"].stop()
            _shared.update(playwright=None, browser=None)


@pytest.fixture
def page(browser, live_server) -> Iterator:
    """A fresh page; after the test, no Content-Security-Policy violation may have been reported on it."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    opened = context.new_page()
    violations: list[str] = []
    opened.on("console", lambda message: _csp_violation(message.text, violations))
    try:
        yield opened
    finally:
        context.close()
    assert violations == [], "Content-Security-Policy violations in the browser console"


def _csp_violation(text: str, violations: list[str]) -> None:
    if "Content Security Policy" in text:
        violations.append(text)


@pytest.fixture
def log_in(page, live_server) -> Callable[[str, str], None]:
    """log_in(username, password): submit the real login form and wait for the page that follows."""

    def _log_in(username: str, password: str) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()

    return _log_in
