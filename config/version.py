"""The app's version: pyproject's `version`, plus the git commit when the deployment says
it (`APP_COMMIT`, e.g. set by the image build or the CI). Shown in the page footer and sent
as `X-App-Version` on every API response."""

from __future__ import annotations

import functools
import os
import re
import tomllib
from importlib import metadata
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
DISTRIBUTION = "cdmo-journey"


@functools.cache
def app_version() -> str:
    """From the source tree's pyproject.toml (always current), else the installed metadata."""
    try:
        with PYPROJECT.open("rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def app_commit() -> str:
    """The first 12 characters of `APP_COMMIT` when it looks like a commit ('' otherwise)."""
    commit = os.environ.get("APP_COMMIT", "").strip()
    return commit[:12] if re.fullmatch(r"[0-9a-fA-F]{7,64}", commit) else ""


def version_label() -> str:
    """`0.1.0`, or `0.1.0+abc123def456` with the commit (a PEP 440 local version)."""
    commit = app_commit()
    return f"{app_version()}+{commit}" if commit else app_version()


def context(request) -> dict[str, str]:
    """Template context processor: the footer's version."""
    return {"app_version": app_version(), "app_commit": app_commit()}
