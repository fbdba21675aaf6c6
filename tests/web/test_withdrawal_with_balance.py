"""Through the API, a member with a balance is told what happens to it before they withdraw, and withdraws only
once they say so; without a balance nothing changes."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select

from tests.coop.conftest import CoopDb, steward_of
from tests.helpers.governance import PASSWORD
from tests.helpers.ledger import passed_sale
from tests.web.conftest import api_login, new_client
from tutti.coop.ledger import payments
from tutti.coop.models import Member, Status


def test_a_balance_is_named_before_an_api_withdrawal(app: FastAPI, founded_db: CoopDb) -> None:
    sale, ids = passed_sale(founded_db.sessions, {"ada@example.org": 100, "bo@example.org": 0}, price_minor=20_000)
    with founded_db.sessions.begin() as session:
        payments.record_payment(session, steward_of(session), sale, 20_000, "pay-1")
    ada = new_client(app)
    csrf = {"X-CSRF-Token": api_login(ada, "ada@example.org", PASSWORD)}
    told = ada.post("/api/me/withdraw", json={"confirm": "withdraw"}, headers=csrf)
    assert told.status_code == 409
    assert "on your balance" in told.json()["detail"] and "forfeit_balance" in told.json()["detail"]
    with founded_db.sessions() as session:
        assert session.get_one(Member, ids["ada@example.org"]).status is Status.ACTIVE
    gone = ada.post("/api/me/withdraw", json={"confirm": "withdraw", "forfeit_balance": True}, headers=csrf)
    assert gone.status_code == 200, gone.text
    bo = new_client(app)
    bo_csrf = {"X-CSRF-Token": api_login(bo, "bo@example.org", PASSWORD)}
    assert bo.post("/api/me/withdraw", json={"confirm": "withdraw"}, headers=bo_csrf).status_code == 200
    with founded_db.sessions() as session:
        statuses = set(session.scalars(select(Member.status).where(Member.id.in_(list(ids.values())))))
    assert statuses == {Status.WITHDRAWN}
