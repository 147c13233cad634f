"""The session's one Chromium (Debian's package, driven by Playwright), shared by every
browser test module that names this plugin (`pytest_plugins = ["tests.web.browser"]`): one
launch for the whole run, one context (cookies, viewport) per test."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None


def why_skipped() -> str | None:
    if sync_playwright is None:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; `make test` does it as root)"
    return None


def skip_module_without_browser() -> None:
    why = why_skipped()
    if why:
        warnings.warn(f"BROWSER TESTS SKIPPED: {why}", stacklevel=2)
        pytest.skip(f"BROWSER TESTS SKIPPED: {why}", allow_module_level=True)


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


def watch(tab) -> list[str]:
    """Collect the page's errors (uncaught exceptions, console errors) into a list."""
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    tab.allowed_errors = []  # substrings of console errors a test provokes on purpose
    return problems


def check(tab, problems: list[str]) -> None:
    problems = [p for p in problems if not any(a in p for a in tab.allowed_errors)]
    assert not problems, problems
