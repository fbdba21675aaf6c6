"""A sale from application to execution in headless Chromium against the real server, on both databases: a buyer
applies, a steward approves, the buyer drafts a sale, the steward opens its vote, two members vote (one changes
their vote with the receipt, the other opts out), the vote closes, the tally and the ballots are published, a
member finds their ballot, and the sale moves to execution. Every page is checked at phone width for sideways
scrolling, and the browser never asks another host for anything nor logs an error."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.helpers.browser import PHONE, require_browser
from tests.helpers.governance import PASSWORD
from tests.web.conftest import STEWARD_EMAIL, STEWARD_PASSWORD, LiveServer
from tutti.coop.governance import ballots, closing
from tutti.coop.members import accounts
from tutti.coop.models import Proposal

require_browser()


class Person:
    """One logged-in browser context, recording requests to other hosts and errors."""

    def __init__(self, browser: Any, server: LiveServer, email: str, password: str, shots: Path) -> None:
        self.context = browser.new_context(viewport=PHONE)
        self.page = self.context.new_page()
        self.server, self.shots, self.name = server, shots, email.split("@")[0]
        self.problems: list[str] = []
        self.page.on("request", lambda r: None if r.url.startswith(server.url) else self.problems.append(r.url))
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.open("/login")
        self.page.get_by_label("Email", exact=True).fill(email)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url("**/dashboard")

    def open(self, path: str) -> None:
        self.page.goto(self.server.url + path)

    def looks_right(self, what: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{self.name}-{what}.png"), full_page=True)
        assert self.page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"], what
        assert self.page.locator("h1").count() == 1, what


def test_a_sale_from_buyer_application_to_execution(browser: Any, live_server: LiveServer, tmp_path: Path) -> None:
    with live_server.db.sessions.begin() as session:
        for email in ("data@lab.example", "ada@example.org", "bo@example.org"):
            accounts.signup(session, email, PASSWORD)
    lab = Person(browser, live_server, "data@lab.example", PASSWORD, tmp_path)
    lab.open("/buyers/apply")
    lab.page.get_by_label("Organisation", exact=True).fill("Listening Lab")
    lab.page.get_by_label("What you want data for", exact=True).fill("Train a recommender on what listeners prefer.")
    lab.page.get_by_role("button", name="Apply").click()
    assert lab.page.locator("[data-application-status]").inner_text() == "pending"
    lab.looks_right("applied")

    steward = Person(browser, live_server, STEWARD_EMAIL, STEWARD_PASSWORD, tmp_path)
    steward.open("/steward/governance")
    steward.looks_right("governance")
    steward.page.get_by_role("button", name="Approve Listening Lab").click()
    steward.page.wait_for_selector("text=No application is waiting")

    lab.open("/proposals/new")
    form = lab.page
    form.get_by_label("Title", exact=True).fill("Artist preferences for a recommender")
    form.get_by_label("Price", exact=True).fill("1250.00")
    form.get_by_label("Purpose, in plain words", exact=True).fill("Train a music recommendation model.")
    form.get_by_label("Kind of purpose", exact=True).select_option("ai-training")
    form.get_by_label("What leaves the cooperative", exact=True).select_option("per-member")
    form.get_by_label("Recipe", exact=True).fill("artist-preferences")
    form.get_by_label("Privacy settings (name=value, comma separated)", exact=True).fill("top=20, k=20")
    lab.looks_right("draft-form")
    form.get_by_role("button", name="Save the draft").click()
    form.wait_for_url("**/proposals/*")
    proposal_path = form.url.removeprefix(live_server.url)
    assert form.get_by_text("Listening Lab pays 1,250.00 EUR", exact=False).is_visible()
    assert form.get_by_text("Preview: computed when the vote opens", exact=False).is_visible()

    steward.open(proposal_path)
    steward.page.get_by_role("button", name="Open the vote").click()
    steward.page.wait_for_selector("text=Cast my secret ballot")

    ada = Person(browser, live_server, "ada@example.org", PASSWORD, tmp_path)
    ada.open(proposal_path)
    ada.page.get_by_label("no", exact=True).check()
    ada.page.get_by_role("button", name="Cast my secret ballot").click()
    ada.page.wait_for_selector("#receipt-code")
    ada.looks_right("receipt")
    code, secret = ada.page.locator("#receipt-code").input_value(), ada.page.locator("#receipt-secret").input_value()
    ada.page.get_by_text("Change my ballot with my receipt").click()
    ada.page.locator("#change-code").fill(code)
    ada.page.locator("#change-secret").fill(secret)
    ada.page.get_by_label("New choice", exact=True).select_option("yes")
    ada.page.get_by_role("button", name="Change my ballot").click()
    ada.page.wait_for_selector("text=Your ballot is changed")
    assert ada.page.locator("[data-receipt-choice]").inner_text() == "yes"

    bo = Person(browser, live_server, "bo@example.org", PASSWORD, tmp_path)
    bo.open("/dashboard")
    assert bo.page.get_by_text("you have not voted").is_visible()
    bo.open(proposal_path)
    bo.page.get_by_label("yes", exact=True).check()
    bo.page.get_by_role("button", name="Cast my secret ballot").click()
    bo.page.wait_for_selector("#receipt-code")
    bo.page.get_by_role("button", name="Opt out of this sale").click()
    bo.page.wait_for_selector("text=You opted out")
    bo.looks_right("opted-out")

    proposal_id = proposal_path.rsplit("/", 1)[-1]
    with live_server.db.sessions.begin() as session:  # the window ends; the close-vote job's function runs
        closes = session.get_one(Proposal, proposal_id).closes_utc
        assert closes is not None
        closing.close(session, proposal_id, now=closes + timedelta(seconds=1))
    ballots.scrub(live_server.db.engine)

    ada.open(proposal_path)
    assert ada.page.locator("#result-h").inner_text() == "Result: passed"
    tally = {k: ada.page.locator(f"[data-tally={k}]").inner_text() for k in ("yes", "no", "abstain")}
    assert tally == {"yes": "2", "no": "0", "abstain": "0"}
    assert ada.page.locator("table.ballots tbody tr").count() == 2
    ada.page.get_by_label("Find my ballot", exact=True).fill(code)
    ada.page.get_by_role("button", name="Find").click()
    assert ada.page.locator("[data-found]").inner_text() == f"Your ballot {code} is counted as yes."
    assert ada.page.get_by_text("This sale includes your data.").is_visible()
    ada.looks_right("result")
    bo.open(proposal_path)
    assert bo.page.get_by_text("This sale does not include your data.").is_visible()
    lab.open(proposal_path)
    assert lab.page.get_by_text("Sale · executed (passed)", exact=False).is_visible()
    for person in (lab, steward, ada, bo):
        assert person.problems == [], person.name
        person.context.close()
