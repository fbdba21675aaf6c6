"""A member's whole visit in headless Chromium against the real server (uvicorn on 127.0.0.1, with a background
worker): signup, the upload of a real export with its progress, the validation's progress and the report, the
dashboard, withdrawal with its proof. Every page is checked
at phone width for sideways scrolling, and the browser must never ask another host for anything nor log an
error (a Content-Security-Policy violation would be one).

Uses the system Chromium (/usr/bin/chromium, which CI installs) through Playwright; skipped where it is absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.browser import DESKTOP, PHONE, require_browser
from tests.web.conftest import MICA_PLAYS, LiveServer, mailed_link, sample

require_browser()


class Visit:
    """One browser context on the live server, recording foreign requests and errors."""

    def __init__(self, browser: Any, server: LiveServer, viewport: dict[str, int], shots: Path) -> None:
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.server = server
        self.width = viewport["width"]
        self.shots = shots
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", self._request)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _request(self, request: Any) -> None:
        if not request.url.startswith(self.server.url):
            self.foreign.append(request.url)

    def goto(self, path: str) -> None:
        self.page.goto(self.server.url + path)

    def check(self, name: str) -> None:
        """No sideways scrolling, one h1; a screenshot to look at when something fails."""
        self.page.screenshot(path=str(self.shots / f"{self.width}-{name}.png"), full_page=True)
        assert self.page.evaluate("document.scrollingElement.scrollWidth") <= self.width, name
        assert self.page.locator("h1").count() == 1, name


def confirm_address(visit: Visit, live_server: LiveServer, address: str) -> None:
    """The link mailed to ``address``, and the button of the page it opens."""
    page = visit.page
    page.goto(mailed_link(live_server.db.settings, address))
    visit.check("confirm")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/login?confirmed=1")
    assert page.get_by_role("status").inner_text().startswith("Your address is confirmed")


@pytest.mark.samples
def test_a_member_joins_contributes_and_withdraws(browser: Any, live_server: LiveServer, tmp_path: Path) -> None:
    visit = Visit(browser, live_server, PHONE, tmp_path)
    page = visit.page
    visit.goto("/")
    visit.check("home")
    page.get_by_role("link", name="Join the cooperative").click()
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password").fill("a long enough passphrase")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/login?joined=1")
    assert page.get_by_role("status").inner_text().startswith("Thank you.")
    # Not before the address is confirmed: the mailed link opens a page whose button confirms it.
    confirm_address(visit, live_server, "ada@example.org")
    page.get_by_label("Password").fill("a long enough passphrase")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard")
    assert page.get_by_text("No uploads yet").is_visible()
    visit.check("dashboard-empty")

    page.get_by_role("link", name="Upload an export").click()
    page.wait_for_url("**/contribute")
    page.get_by_label("Export files").set_input_files(str(sample()))
    assert page.get_by_text(sample().name).is_visible()  # the chosen file is listed before uploading
    page.evaluate(
        "window.uploadProgress = []; document.addEventListener('htmx:xhr:progress',"
        " e => window.uploadProgress.push([e.detail.loaded, e.detail.total]))"
    )
    page.get_by_role("button", name="Upload and check").click()
    # The server answers at once; the page then shows the validation's progress until the report replaces it.
    page.wait_for_selector("article.pending", timeout=60_000)
    page.wait_for_selector(".verdict", timeout=60_000)
    assert page.locator("article.pending").count() == 0
    assert page.locator(".verdict h2").inner_text().startswith("Accepted")
    progress = page.evaluate("window.uploadProgress")
    assert any(loaded == total > sample().stat().st_size for loaded, total in progress), progress
    assert page.locator("[data-progress]").is_hidden()
    assert page.url.endswith("/contributions/" + page.url.rsplit("/", 1)[-1])  # htmx pushed the report's address
    for text in (sample().name, "Overfull hours", "Copy check", "Diversity"):
        assert page.get_by_text(text, exact=False).first.is_visible(), text
    visit.check("report")

    visit.goto("/dashboard")
    assert page.locator(".stat .value").nth(1).inner_text() == f"{MICA_PLAYS:,}"
    assert page.get_by_text("No uses yet", exact=False).is_visible()
    visit.check("dashboard")

    visit.goto("/withdraw")
    visit.check("withdraw")
    page.get_by_label("Type withdraw to confirm").fill("withdraw")
    page.get_by_role("button", name="Withdraw and erase my data").click()
    page.wait_for_selector("text=Your data is erased")
    rows = page.locator("table.proof tbody tr").first.locator("td").all_inner_texts()
    assert rows == [f"{MICA_PLAYS:,}", "0"]
    assert page.get_by_text("Data key destroyed: yes").is_visible()
    visit.check("withdrawn")

    visit.goto("/dashboard")
    page.wait_for_url("**/login?next=/dashboard")
    assert visit.foreign == [] and visit.errors == []
    visit.context.close()


def test_pages_fit_a_desktop_and_load_nothing_from_elsewhere(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    visit = Visit(browser, live_server, DESKTOP, tmp_path)
    page = visit.page
    visit.goto("/signup")
    visit.check("signup")
    page.get_by_label("Email").fill("bo@example.org")
    page.get_by_label("Password").fill("a long enough passphrase")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/login?joined=1")
    assert page.get_by_role("status").inner_text().startswith("Thank you.")
    # Not before the address is confirmed: the mailed link opens a page whose button confirms it.
    confirm_address(visit, live_server, "bo@example.org")
    page.get_by_label("Password").fill("a long enough passphrase")
    page.get_by_label("Email").fill("bo@example.org")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard")
    for path in ("/dashboard", "/contribute", "/tokens"):
        visit.goto(path)
        visit.check(path.strip("/"))
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Make token").click()
    assert page.locator("#new-token").input_value().startswith("tutti_")
    assert visit.foreign == [] and visit.errors == []
    visit.context.close()
