"""Real-browser tests: pytest-playwright driving Debian's Chromium against live_server.

Playwright cannot download its own browser here, so it launches /usr/bin/chromium
(`make test` and `.ci/run` install it). Screenshots of the key pages go to
screenshots/ (git-ignored) on every run: look at them.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API keeps an event loop in the test thread; the ORM calls the
# tests make there are still synchronous, so Django may allow them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "e2e" in item.nodeid.split("/")[0]:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        # No sandbox as root in a container; no calls home on a closed network.
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def base_url():
    """No base URL: the tests build theirs from live_server.url.

    Without pytest-base-url installed, pytest-playwright (0.10) supplies this
    fixture as a session-scoped method of a plugin object, which pytest 9 warns
    is deprecated (PytestRemovedIn10Warning) on every browser test. A plain
    fixture here takes its place.
    """
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-US", "viewport": {"width": 1100, "height": 900}}


@pytest.fixture
def shoot():
    """shoot(page, "name"): a full-page screenshot into screenshots/name.png."""
    SHOTS.mkdir(exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=SHOTS / f"{name}.png", full_page=True)

    return take


@pytest.fixture
def context(context):
    context.set_default_timeout(10_000)  # fail in seconds, not half a minute
    return context
