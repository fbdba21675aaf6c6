from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SAMPLES = ROOT.parent / "shared" / "samples"


def samples_path(*parts: str) -> Path:
    """A path inside ../shared/samples; the test is skipped where that folder is absent (a user's clone)."""
    if not SAMPLES.is_dir():
        pytest.skip("real sample exports (../shared/samples) are not present in this checkout")
    path = SAMPLES.joinpath(*parts)
    assert path.exists(), f"sample missing: {path}"
    return path


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (see tests/helpers/browser.py)."""
    from tests.helpers.browser import ARGS, CHROMIUM, require_browser

    sync_api = require_browser()
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()
