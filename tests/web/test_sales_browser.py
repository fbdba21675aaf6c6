"""In Chromium: a passed sale's release is built by the server's own worker, its buyer makes a link and downloads
the file, the link is refused once it has expired, and a member finds the sale under "Uses of my data"."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select, update

from tests.helpers.browser import DESKTOP, require_browser
from tests.helpers.governance import PASSWORD
from tests.helpers.sales import PREFERENCES, members_with_histories, passed_sale, sale
from tests.web.conftest import LiveServer
from tutti.coop.models import DownloadLink, Release, utcnow

require_browser()
pytestmark = pytest.mark.samples


def log_in(browser: Any, server: LiveServer, email: str) -> Any:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard")
    page.errors = errors
    return page


def wait_until_built(server: LiveServer, proposal_id: str) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        with server.db.sessions() as session:
            status = session.scalars(select(Release.status).where(Release.proposal_id == proposal_id)).first()
        if status == "ready":
            return
        assert status != "failed"
        time.sleep(0.2)
    raise AssertionError("the server's worker did not build the release")


def test_a_buyer_downloads_the_release_until_the_link_expires(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    ids = members_with_histories(live_server.db, 3)
    proposal_id, _buyer = passed_sale(live_server.db, sale(PREFERENCES, duration_days=3660), ids)
    wait_until_built(live_server, proposal_id)

    page = log_in(browser, live_server, "data@lab.example")
    page.goto(f"{live_server.url}/sales/{proposal_id}/release")
    assert page.locator("#release-status").inner_text() == "ready"
    page.get_by_role("button", name="Make a download link").click()
    page.wait_for_selector("#release-files")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="artist_preferences.parquet").click()
    saved = tmp_path / "artist_preferences.parquet"
    downloading.value.save_as(saved)
    assert pq.read_table(saved).num_rows > 0
    page.screenshot(path=str(tmp_path / "release.png"), full_page=True)

    manifest_url = page.get_by_role("link", name="manifest.json").get_attribute("href")
    with live_server.db.sessions.begin() as session:  # the clock moves past the link's end
        session.execute(update(DownloadLink).values(expires_utc=utcnow() - timedelta(seconds=1)))
    refused = page.request.get(live_server.url + str(manifest_url))
    assert refused.status == 404 and "expired" in refused.json()["detail"]
    assert page.errors == []
    page.context.close()

    member = log_in(browser, live_server, "listener1@example.org")
    uses = member.locator("section[aria-labelledby=uses-h]").inner_text()
    assert "Listening preferences" in uses and "release built" in uses and "downloaded" in uses
    member.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    member.context.close()
