import os
import time
from pathlib import Path

import pytest

from tests.markers import CHROMIUM

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from the test are safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "test-results"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Every page a browser test opens reports Content-Security-Policy violations here, across navigations.
REPORT_CSP = """
document.addEventListener("securitypolicyviolation", (event) => {
  const what = event.blockedURI || "inline";
  const where = `${event.sourceFile}:${event.lineNumber} ${event.sample}`;
  window.reportCspViolation(`${event.violatedDirective} blocked ${what} on ${location.pathname} (${where})`);
});
"""


@pytest.fixture
def page(browser):
    """A fresh browser tab; the test fails if any page it opened broke the Content-Security-Policy."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    violations: list[str] = []
    context.expose_function("reportCspViolation", lambda text: violations.append(text))
    context.add_init_script(REPORT_CSP)
    page = context.new_page()
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and violations.append(message.text[:160]),
    )
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert not violations, f"Content-Security-Policy violations: {violations}"


def wait_until(page, predicate: str, timeout: float = 15.0) -> None:
    """Poll a JavaScript predicate (an arrow function) until it is true. Playwright's wait_for_function compiles
    its predicate with eval inside the page, which the Content-Security-Policy rightly refuses; evaluate() does not."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {predicate}")
        time.sleep(0.05)


def sign_in(page, live_server, email: str, password: str = "a-long-test-password") -> None:
    """Sign in through the login page as `email` (the factories' password unless told), leaving any earlier
    session behind, and wait for the dashboard."""
    page.context.clear_cookies()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Projects").wait_for()


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
