"""The money in headless Chromium against the real server: a steward records a sale's payment on the finance page;
a member sees their share and downloads a receipt that verifies, gives an IBAN; the steward makes a payout batch,
downloads its SEPA file (valid pain.001), marks it sent and the line paid; the member's balance is back to zero.
Every page at phone width, nothing loaded from elsewhere, no browser error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import sepaxml
import xmlschema

from tests.helpers.browser import PHONE, require_browser
from tests.helpers.governance import PASSWORD
from tests.helpers.ledger import passed_sale
from tests.web.conftest import STEWARD_EMAIL, STEWARD_PASSWORD, LiveServer
from tutti.coop.audit import transparency
from tutti.coop.ledger import payout_files, receipts

require_browser()
PAIN_001 = Path(sepaxml.__file__).parent / "schemas" / f"{payout_files.SEPA_SCHEMA}.xsd"


class Visitor:
    """One logged-in browser context, recording requests to other hosts and errors."""

    def __init__(self, browser: Any, server: LiveServer, email: str, password: str) -> None:
        self.context = browser.new_context(viewport=PHONE, accept_downloads=True)
        self.page = self.context.new_page()
        self.server = server
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: None if r.url.startswith(server.url) else self.foreign.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.goto("/login")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url("**/dashboard")

    def goto(self, path: str) -> None:
        self.page.goto(self.server.url + path)
        assert self.page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"], path

    def download(self, click: Any) -> bytes:
        with self.page.expect_download() as caught:
            click()
        return Path(caught.value.path()).read_bytes()


def test_a_payment_is_shared_received_and_paid_out(browser: Any, live_server: LiveServer) -> None:
    # Query access: no release to wait for (the members here have points but no plays in the pool).
    sale, _ = passed_sale(
        live_server.db.sessions,
        {"ada@example.org": 3, "bo@example.org": 1},
        price_minor=40_000,
        delivery="query",
        data_kind="aggregates",
        recipe={"name": "aggregate-statistics", "version": 1, "parameters": {"k": 2}},
    )
    steward = Visitor(browser, live_server, STEWARD_EMAIL, STEWARD_PASSWORD)
    steward.goto("/finance")
    steward.page.get_by_role("button", name="Record payment").click()
    steward.page.wait_for_url("**/finance")
    assert steward.page.locator("#receivables").get_by_text("paid", exact=True).is_visible()

    ada = Visitor(browser, live_server, "ada@example.org", PASSWORD)
    ada.goto("/earnings")
    assert ada.page.locator("#balance").inner_text() == "270.00 EUR"
    row = ada.page.locator("#receipts tbody tr").first
    assert "included" in row.inner_text() and "3 of 4" in row.inner_text()
    receipt = ada.download(lambda: row.get_by_role("link", name="Receipt").click())
    key = transparency.pinned_verifier_key(live_server.db.settings.data_dir)
    assert receipts.verify_receipt(orjson.loads(receipt), key).body["proposal_id"] == sale
    ada.page.get_by_label("Account holder").fill("Ada Listener")
    ada.page.get_by_label("IBAN or email").fill("DE89 3704 0044 0532 0130 00")
    ada.page.get_by_role("button", name="Save payout details").click()
    ada.page.wait_for_url("**/earnings")
    assert "DE•• •••• 3000" in ada.page.locator("#payout-details").inner_text()

    steward.goto("/finance")
    steward.page.get_by_role("button", name="Make a batch").click()
    steward.page.wait_for_url("**/finance")
    steward.page.get_by_label("Paying IBAN").fill("FR14 2004 1010 0505 0001 3M02 606")
    xml = steward.download(lambda: steward.page.get_by_role("button", name="Download the payout file").click())
    xmlschema.XMLSchema(str(PAIN_001)).validate(xml.decode())
    assert b"<IBAN>DE89370400440532013000</IBAN>" in xml
    steward.page.get_by_role("button", name="Mark sent").click()
    steward.page.wait_for_url("**/finance")
    steward.page.get_by_role("button", name="Paid", exact=True).click()
    steward.page.wait_for_url("**/finance")
    assert steward.page.locator(".batch-status").first.inner_text() == "closed"

    ada.goto("/earnings")
    assert ada.page.locator("#balance").inner_text() == "0.00 EUR"
    history = ada.page.get_by_role("heading", name="History").locator("..").inner_text()
    assert "payout\n-270.00 EUR" in history and "payment\n270.00 EUR" in history
    for visitor in (steward, ada):
        assert visitor.foreign == [] and visitor.errors == []
        visitor.context.close()
