"""Scoped, expiring API tokens, attacked: a token made for uploads tries everything else an account can do (make
tokens, raise its own scopes, export, withdraw, revoke, use the pages' forms), an expired one tries anything, and
a token made before scopes existed keeps working as it did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, text

from tests.coop.conftest import EmptyDb, migrated_cooperative
from tests.web.conftest import api_signup, api_token, bearer, new_client
from tutti.coop.db import upgrade
from tutti.coop.errors import InvalidInput, Unauthenticated
from tutti.coop.members import accounts, emails, tokens
from tutti.coop.models import ApiToken, Status
from tutti.coop.settings import CoopSettings

EMAIL = "ada@example.org"
WITHDRAW = {"confirm": "withdraw"}


def _member_status(app: FastAPI) -> Status:
    with app.state.sessions() as session:
        member = emails.find_member(session, app.state.settings, EMAIL)
        assert member is not None
        return member.status


def test_a_contribute_token_cannot_mint_tokens_export_or_withdraw(app: FastAPI, client: TestClient) -> None:
    csrf = api_signup(client, EMAIL)
    secret = api_token(client, csrf, "uploads")  # the default: contribute only
    [listed] = client.get("/api/tokens").json()
    assert listed["scopes"] == ["contribute"] and listed["expires_utc"] is not None
    with new_client(app) as script:
        auth = bearer(secret)
        refusals = {
            "mint": script.post("/api/tokens", json={"name": "more"}, headers=auth),
            "mint wider": script.post("/api/tokens", json={"scopes": ["account"]}, headers=auth),
            "list tokens": script.get("/api/tokens", headers=auth),
            "revoke": script.delete(f"/api/tokens/{listed['id']}", headers=auth),
            "export": script.post("/api/me/export", headers=auth),
            "withdraw": script.post("/api/me/withdraw", json=WITHDRAW, headers=auth),
            "read the profile": script.get("/api/me", headers=auth),
            "steward change": script.post(
                "/api/steward/cases/none/resolve",
                json={"owner_member_id": None, "resolution": "no-owner"},
                headers=auth,
            ),
        }
        for what, answer in refusals.items():
            assert answer.status_code == 403, (what, answer.status_code, answer.text)
            assert "scope" in answer.json()["detail"], what
        # The pages' forms need no CSRF token from a bearer token, so a token must not reach them at all.
        assert script.post("/withdraw", data={"confirm": "withdraw"}, headers=auth).status_code == 401
        assert script.post("/export", headers=auth).status_code == 401
        assert script.post("/tokens", data={"scopes": "account"}, headers=auth).status_code == 401
        # What it is for still works: an upload is taken (and checked later), and the uploader may follow it.
        upload = script.post(
            "/api/contributions", files=[("files", ("a.json", b"[]", "application/json"))], headers=auth
        )
        assert upload.status_code == 202, upload.text
        followed = script.get(f"/api/contributions/{upload.json()['contribution_id']}", headers=auth)
        assert followed.status_code == 200
    assert _member_status(app) is Status.ACTIVE
    assert len(client.get("/api/tokens").json()) == 1


def test_each_scope_opens_its_own_doors_only(app: FastAPI, client: TestClient) -> None:
    csrf = api_signup(client, EMAIL)
    read = api_token(client, csrf, "reader", scopes=["read"])
    account = api_token(client, csrf, "manager", scopes=["account"])
    with new_client(app) as script:
        assert script.get("/api/me", headers=bearer(read)).status_code == 200
        assert script.get("/api/contributions", headers=bearer(read)).status_code == 200
        assert script.post("/api/me/export", headers=bearer(read)).status_code == 403
        assert script.post("/api/tokens", json={}, headers=bearer(read)).status_code == 403
        assert (
            script.post("/api/contributions", files=[("files", ("a.txt", b"x"))], headers=bearer(read)).status_code
            == 403
        )
        made = script.post("/api/tokens", json={"scopes": ["read"], "expires_in_days": 1}, headers=bearer(account))
        assert made.status_code == 201 and made.json()["scopes"] == ["read"]
        assert script.post("/api/me/export", headers=bearer(account)).status_code == 200
        withdrawn = script.post("/api/me/withdraw", json=WITHDRAW, headers=bearer(account))
        assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"


@pytest.mark.parametrize(
    "body", [{"scopes": []}, {"scopes": ["admin"]}, {"expires_in_days": 0}, {"expires_in_days": 366}]
)
def test_tokens_without_a_scope_or_a_sensible_expiry_are_refused(client: TestClient, body: dict[str, object]) -> None:
    csrf = api_signup(client, EMAIL)
    assert client.post("/api/tokens", json=body, headers={"X-CSRF-Token": csrf}).status_code == 422


def test_a_token_stops_working_when_it_expires(app: FastAPI) -> None:
    made = datetime(2026, 3, 1, tzinfo=UTC)
    with app.state.sessions.begin() as session:
        member = accounts.signup(session, EMAIL, "kettle umbrella saxophone", now=made)
        _, secret = tokens.create_api_token(session, member, scopes=["read"], days=7, now=made)
        with pytest.raises(InvalidInput):
            tokens.create_api_token(session, member, scopes=["contribute", "everything"], now=made)
    with app.state.sessions() as session:
        assert tokens.authenticate(session, secret, now=made + timedelta(days=7, seconds=-1)).scopes == {"read"}
        with pytest.raises(Unauthenticated, match="expired"):
            tokens.authenticate(session, secret, now=made + timedelta(days=7))
    with new_client(app) as script:
        answer = script.get("/api/me", headers=bearer(secret))
        assert answer.status_code == 401 and "expired" in answer.json()["detail"]


def test_tokens_made_before_scopes_keep_every_right_and_never_expire(
    empty_db: EmptyDb, coop_settings: CoopSettings
) -> None:
    upgrade(empty_db.engine, "0004")
    secret = "tutti_" + "o" * 43
    with empty_db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO member (id, email, role, status, created_utc, pseudonym) "
                "VALUES ('m-old', 'old@example.org', 'member', 'active', CURRENT_TIMESTAMP, 'p-old')"
            )
        )
        connection.execute(
            insert(ApiToken.__table__).values(  # type: ignore[arg-type]
                member_id="m-old",
                token_hash=accounts.token_hash(secret),
                prefix=secret[:12],
                name="old script",
                created_utc=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )
    db = migrated_cooperative(empty_db, coop_settings)
    with db.sessions() as session:
        found = tokens.authenticate(session, secret, now=datetime(2036, 1, 1, tzinfo=UTC))
        assert found.member.id == "m-old"
        assert found.scopes == {"contribute", "read", "account"}
        [row] = tokens.api_tokens(session, found.member)
        assert row.expires_utc is None


def test_every_scope_is_documented() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for scope in tokens.SCOPES:
        assert f"| `{scope.name}` | {scope.description} |" in readme
