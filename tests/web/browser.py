"""The session's one Chromium (Debian's package, driven by Playwright), shared by every
browser test module that names this plugin (`pytest_plugins = ["tests.web.browser"]`): one
launch for the whole run, one context (cookies, viewport) per test. Helpers live in
`tests.web.browser_support` (importing this module from a test module would load it before
pytest registers it as a plugin)."""

from __future__ import annotations

import os

import pytest

from tests.web.browser_support import ARGS, CHROMIUM, SHOTS, sync_playwright


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API keeps an event loop on this thread; Django would take the ORM
    # calls of the test itself for async code without this.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
