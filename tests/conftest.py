"""Paths the tests share, the ``samples`` marker's rule, and one headless Chromium per test module.

A test that reads the real sample exports in ../shared/samples gets them through ``samples_path`` and carries
``@pytest.mark.samples``, so that ``-m "not samples"`` leaves out exactly the tests that need them. The rule is
checked as the tests run: ``samples_path`` fails a test without the marker, and a test that only uses a fixture
which read the samples (cached for a module or the session) needs the marker too.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
_SAMPLES = ROOT.parent / "shared" / "samples"
pytest_plugins = ["tests.helpers.smtp"]  # the ``smtp`` fixture: a real mail server

# Hypothesis fails an example slower than 200 ms by default: a timing assertion, which a loaded CI machine trips
# (the first example of a test also pays for imports and warm-up). Speed is for benchmarks/ to measure.
settings.register_profile("tutti")
settings.load_profile("tutti")

_running: list[pytest.Item] = []  # the test being run, for samples_path
_fixtures_in_setup: list[str] = []
_sample_fixtures: set[str] = set()  # fixtures seen reading the samples


def samples_path(*parts: str) -> Path:
    """A path inside ../shared/samples; the test is skipped where that folder is absent (a user's clone).

    Call it in every test that reads the samples, outside any cache: a cached helper that calls it only on its
    first use leaves later callers unchecked. Caching fixtures are fine (see the module docstring).
    """
    _sample_fixtures.update(_fixtures_in_setup)
    test = _running[-1] if _running else None
    if test is None or test.get_closest_marker("samples") is None:
        where = test.nodeid if test else "code outside any test"
        pytest.fail(f"{where} reads ../shared/samples but is not marked @pytest.mark.samples", pytrace=False)
    if not _SAMPLES.is_dir():
        pytest.skip("real sample exports (../shared/samples) are not present in this checkout")
    path = _SAMPLES.joinpath(*parts)
    assert path.exists(), f"sample missing: {path}"
    return path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.pop()


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any]) -> Generator[None, object, object]:
    _fixtures_in_setup.append(fixturedef.argname)
    try:
        return (yield)
    finally:
        _fixtures_in_setup.pop()


def pytest_runtest_call(item: pytest.Item) -> None:
    used = sorted(_sample_fixtures.intersection(getattr(item, "fixturenames", ())))
    if used and item.get_closest_marker("samples") is None:
        pytest.fail(f"{item.nodeid} uses {', '.join(used)}, which read ../shared/samples: mark it @pytest.mark.samples")


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the Spark session share one xdist worker (``--dist loadgroup``), so one JVM starts, not one
    per worker."""
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("spark"))
