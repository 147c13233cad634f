"""Helpers of the browser tests (Chromium's path, screenshots, the skip without Playwright,
collecting page errors). The session's browser fixture is in `tests.web.browser`, a plugin the
browser test modules name in `pytest_plugins`."""

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
