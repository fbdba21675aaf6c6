"""The ledger's API and pages on both databases: a steward records a payment (once, however often it is sent),
members see their share and fetch a receipt that verifies, give payout details, and a batch is paid line by line
once; members cannot touch the stewards' side."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers.governance import PASSWORD
from tests.helpers.ledger import passed_sale
from tests.web.conftest import STEWARD_EMAIL, STEWARD_PASSWORD, api_login, form_token, new_client
from tutti.coop.audit import transparency
from tutti.coop.ledger import accounts, receipts, statements


def _login(app: FastAPI, email: str, password: str) -> tuple[TestClient, dict[str, str]]:
    client = new_client(app)
    return client, {"X-CSRF-Token": api_login(client, email, password)}


def test_payments_earnings_receipts_and_payouts_through_the_api(app: FastAPI) -> None:
    sale, _ = passed_sale(app.state.sessions, {"ada@example.org": 3, "bo@example.org": 1}, price_minor=40_000)
    steward, s_h = _login(app, STEWARD_EMAIL, STEWARD_PASSWORD)
    ada, a_h = _login(app, "ada@example.org", PASSWORD)
    body = {"amount_minor": 40_000, "key": "invoice-1"}
    payments = f"/api/ledger/sales/{sale}/payments"
    assert ada.post(payments, json=body, headers=a_h).status_code == 403
    first = steward.post(payments, json=body, headers=s_h)
    assert first.status_code == 201 and first.json()["replayed"] is False, first.text
    again = steward.post(payments, json=body, headers=s_h)
    assert again.json() == {**first.json(), "replayed": True}
    changed = steward.post(payments, json={**body, "amount_minor": 1}, headers=s_h)
    assert changed.status_code == 409 and "used for another transfer" in changed.json()["detail"]
    negative = steward.post(payments, json={**body, "amount_minor": -5, "key": "x"}, headers=s_h)
    assert negative.status_code == 422
    unknown = steward.post("/api/ledger/sales/nothing/payments", json={**body, "key": "y"}, headers=s_h)
    assert unknown.status_code == 404
    refund = steward.post(f"/api/ledger/payments/{first.json()['transfer_id']}/refunds",
                          json={"amount_minor": 4_000, "key": "credit-1"}, headers=s_h)  # fmt: skip
    assert refund.status_code == 201 and refund.json()["kind"] == "refund"

    earnings = ada.get("/api/me/earnings").json()
    assert (earnings["currency"], earnings["balance_minor"]) == ("EUR", 27_000 - 2_700)
    refunded, mine = earnings["receipts"]
    assert (mine["reason"], mine["weight"], mine["share_minor"]) == ("included", 3, 27_000)
    # A refund's receipt weighs by what the payment gave: 27,000 of its 40,000.
    assert (refunded["transfer_kind"], refunded["share_minor"]) == ("refund", -2_700)
    assert (refunded["reason"], refunded["weight"], refunded["total_weight"]) == ("included", 27_000, 40_000)
    receipt = ada.get(f"/api/me/receipts/{mine['receipt_id']}")
    assert receipt.status_code == 200
    key = transparency.pinned_verifier_key(app.state.settings.data_dir)
    assert receipts.verify_receipt(receipt.json(), key).body["share"] == 27_000
    assert steward.get(f"/api/me/receipts/{mine['receipt_id']}").status_code == 404

    assert "243.00 EUR on your balance" in ada.get("/withdraw").text  # told before withdrawing
    bad = {"method": "iban", "name": "Ada", "account": "DE00 0000 0000 0000 0000 00"}
    assert ada.put("/api/me/payout-details", json=bad, headers=a_h).status_code == 400
    good = {"method": "iban", "name": "Ada", "account": "DE89 3704 0044 0532 0130 00"}
    saved = ada.put("/api/me/payout-details", json=good, headers=a_h)
    assert saved.json() == {"method": "iban", "name": "Ada", "masked": "DE•• •••• 3000"}

    assert ada.post("/api/ledger/batches", json={"method": "iban"}, headers=a_h).status_code == 403
    batch = steward.post("/api/ledger/batches", json={"method": "iban"}, headers=s_h).json()
    assert [line["amount_minor"] for line in batch["lines"]] == [24_300]
    sent = steward.post(f"/api/ledger/batches/{batch['batch_id']}/sent", headers=s_h)
    assert sent.json()["status"] == "sent"
    line = batch["lines"][0]["line_id"]
    paid = steward.post(f"/api/ledger/lines/{line}", json={"outcome": "paid"}, headers=s_h)
    assert paid.json()["status"] == "closed"
    twice = steward.post(f"/api/ledger/lines/{line}", json={"outcome": "paid"}, headers=s_h)
    assert twice.status_code == 409
    assert ada.get("/api/me/earnings").json()["balance_minor"] == 0
    exported = steward.get("/api/ledger/export")
    assert exported.status_code == 200 and exported.text.startswith("posted_utc,")
    assert ada.get("/api/ledger/export").status_code == 403
    assert steward.get("/api/ledger/receivables").json()[0]["outstanding_minor"] == 4_000

    assert ada.get("/earnings").status_code == 200 and "0.00 EUR" in ada.get("/earnings").text
    assert ada.get("/finance").status_code == 403
    assert "Receivables" in steward.get("/finance").text
    assert ada.get("/earnings/statement/2026").text.startswith("year,currency")
    year = ada.get("/api/me/statements/2026").json()
    assert (year["opening_minor"], year["earned_minor"], year["paid_out_minor"], year["closing_minor"]) == (
        0, 27_000 - 2_700, 24_300, 0
    )  # fmt: skip
    assert [m["kind"] for m in year["movements"]] == ["payment", "refund", "payout"]


def test_the_finance_forms_record_once_however_often_they_are_sent(app: FastAPI) -> None:
    sale, ids = passed_sale(app.state.sessions, {"ada@example.org": 1}, price_minor=10_000)
    steward, _ = _login(app, STEWARD_EMAIL, STEWARD_PASSWORD)
    page = steward.get("/finance").text
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key is not None
    # Amounts in the sale's currency as people write them: the whole price is what the form holds at first.
    assert '<td data-label="Price" class="num">100.00 EUR</td>' in page and 'name="amount"' in page
    assert 'value="100.00" inputmode="decimal"' in page
    form = {"csrf_token": form_token(steward, "/finance", "/finance/payments"), "sale_id": sale, "key": key.group(1)}
    for _ in range(2):  # a double click
        sent = steward.post("/finance/payments", data={**form, "amount": "100.00"}, follow_redirects=False)
        assert sent.status_code == 303, sent.text
    with app.state.sessions() as session:
        assert accounts.member_balance(session, ids["ada@example.org"]) == 9_000
        [payment] = statements.payments_made(session)
    action = f"/finance/payments/{payment.transfer_id}/refunds"
    refund = {"csrf_token": form_token(steward, "/finance", action), "key": "refund-form-1", "amount": "10"}
    assert steward.post(action, data=refund, follow_redirects=False).status_code == 303
    too_much = steward.post(action, data={**refund, "key": "refund-form-2", "amount": "90.01"})
    assert too_much.status_code == 409 and "90.00 EUR left to refund" in too_much.text
    cents = steward.post(action, data={**refund, "key": "refund-form-3", "amount": "1.001"})
    assert cents.status_code == 400 and "the amount must be a number with at most 2 decimals in EUR" in cents.text
    with app.state.sessions() as session:
        assert accounts.member_balance(session, ids["ada@example.org"]) == 8_100
