"""The recap of a real export, opened from disk in Chromium with the network cut off: every chart draws, nothing
is requested, nothing is logged as an error, and on a phone-sized screen nothing scrolls sideways.

Uses the system Chromium (/usr/bin/chromium, which CI installs) through Playwright; skipped where it is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.browser import DESKTOP, PHONE, require_browser
from tests.report.conftest import ERIN, ERIN_ZONE, MICA, MICA_ZONE, sample_recap
from tutti.report.html import write_recap_html

require_browser()
# Every test here opens a recap of a real export (the ``report`` fixture).
pytestmark = pytest.mark.samples


@pytest.fixture(scope="module", params=["account-with-service-file", "extended-with-skips"])
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    parts, period, zone = {
        "account-with-service-file": (ERIN, "2023", ERIN_ZONE),
        "extended-with-skips": (MICA, "2024", MICA_ZONE),
    }[request.param]
    recap = sample_recap(parts, period, zone)
    return write_recap_html(recap, tmp_path_factory.mktemp("report") / f"{request.param}.html")


@dataclass
class Visit:
    """What happened while a page was open: every request, console errors, uncaught errors."""

    page: Any
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


def open_offline(browser: Any, path: Path, viewport: dict[str, int]) -> Iterator[Visit]:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    visit = Visit(page)
    own = path.resolve().as_uri()

    def route(route: Any) -> None:
        if route.request.url == own:
            route.continue_()
        else:
            route.abort()

    context.route("**/*", route)
    page.on("request", lambda request: visit.requests.append(request.url))

    def console(message: Any) -> None:
        if message.type == "error":
            visit.console_errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: visit.page_errors.append(str(error)))
    page.goto(own)
    # vega-embed draws asynchronously; the page marks each container when its chart is drawn (or failed)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-spec]')].every(c => c.hasAttribute('data-rendered'))",
        timeout=30_000,
    )
    try:
        yield visit
    finally:
        context.close()


@pytest.fixture(params=["phone", "desktop"])
def visit(request: pytest.FixtureRequest, browser: Any, report: Path) -> Iterator[Visit]:
    yield from open_offline(browser, report, PHONE if request.param == "phone" else DESKTOP)


def test_every_chart_renders_offline_without_errors(visit: Visit, report: Path) -> None:
    charts = visit.page.eval_on_selector_all(
        "[data-spec]",
        "cs => cs.map(c => [c.id, c.getAttribute('data-rendered'), c.querySelectorAll('svg, canvas').length])",
    )
    assert len(charts) >= 4
    for chart_id, rendered, drawn in charts:
        assert rendered == "true", f"{chart_id} did not render"
        assert drawn >= 1, f"{chart_id} holds no svg or canvas"
    assert visit.requests == [report.resolve().as_uri()], "the page asked the network for something"
    assert visit.console_errors == []
    assert visit.page_errors == []


def test_nothing_scrolls_sideways(visit: Visit) -> None:
    widths = visit.page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth, document.body.scrollWidth]"
    )
    scroll_width, client_width, body_width = widths
    assert scroll_width <= client_width and body_width <= client_width, widths
    # every chart fits its card
    overflowing = visit.page.eval_on_selector_all(
        ".chart svg",
        "svgs => svgs.filter(s => s.getBoundingClientRect().right > document.documentElement.clientWidth + 1).length",
    )
    assert overflowing == 0


def test_no_word_of_the_comparison_breaks_across_lines(visit: Visit, report: Path) -> None:
    """Spotify's figures beside ours fit a phone: a cell wraps between words, never inside one."""
    split = visit.page.evaluate(
        """() => {
          const broken = [];
          for (const cell of document.querySelectorAll('.compare td, .compare th')) {
            const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
              for (const match of node.data.matchAll(/\\S+/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                const wider = range.getBoundingClientRect().width > cell.clientWidth;
                if (lines.size > 1 && !wider) broken.push(match[0]);
              }
            }
          }
          return broken;
        }"""
    )
    assert split == []
    if "account" in report.name:  # the sample with Spotify's own file: the comparison is there to check
        assert visit.page.locator(".compare").count() == 1
