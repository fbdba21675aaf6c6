"""Headless Chromium for the browser tests: the system build (/usr/bin/chromium, which CI installs) through
Playwright, started with no background networking. Never a browser download."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def require_browser() -> ModuleType:
    """Playwright's sync API, or a skip of the calling test module with the reason."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (CI installs it)", allow_module_level=True)
    module: ModuleType = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    return module
