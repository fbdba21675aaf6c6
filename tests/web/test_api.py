"""The JSON API on SQLite and PostgreSQL: accounts, CSRF, tokens, rate limits, the waitlist, a real upload and its
report, the dashboard's counts, the export, withdrawal and the stewards' views."""

from __future__ import annotations

import io
import zipfile

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers.governance import pass_policy
from tests.web.conftest import (
    MICA_PLAYS,
    PASSWORD,
    STEWARD_EMAIL,
    STEWARD_PASSWORD,
    api_login,
    api_signup,
    api_token,
    bearer,
    confirm_by_mail,
    new_client,
    run_jobs,
    sample,
    upload,
)
from tutti.coop.models import utcnow


def test_openapi_describes_the_api_and_no_page_loads_a_cdn(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["info"]["title"] == "Tutti cooperative"
    upload_op = schema["paths"]["/api/contributions"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    # Every answer it can give: a rule's refusal, no login, not allowed, a conflict, too large, malformed, too often.
    assert set(upload_op["responses"]) == {"202", "400", "401", "403", "409", "413", "422", "429"}
    assert "ErrorPublic" in str(upload_op["responses"]["401"]) and "HTTPValidationError" in str(
        upload_op["responses"]["422"]
    )
    assert "ContributionPublic" in str(upload_op["responses"]["202"]) and "pending" in str(upload_op["responses"])
    followed = schema["paths"]["/api/contributions/{contribution_id}"]["get"]
    assert "ContributionPublic" in str(followed["responses"]["200"])
    public = schema["components"]["schemas"]["ContributionPublic"]["properties"]
    assert {"status", "progress", "report"} <= set(public)
    assert not any(path.startswith(("/dashboard", "/signup")) for path in schema["paths"])
    # The interactive docs would fetch their scripts from a CDN.
    assert client.get("/docs").status_code == 404


def test_signup_then_login_sets_a_protected_cookie(app: FastAPI) -> None:
    with new_client(app) as plain, new_client(app, https=True) as secure:
        response = plain.post("/api/signup", json={"email": "Ada@Example.org", "password": PASSWORD})
        assert response.status_code == 202 and "set-cookie" not in response.headers
        # Not before the address is confirmed: the right password then answers as a wrong one, or an unknown
        # address, does.
        early = plain.post("/api/session", json={"email": "ada@example.org", "password": PASSWORD})
        wrong = plain.post("/api/session", json={"email": "ada@example.org", "password": "not the password"})
        unknown = plain.post("/api/session", json={"email": "nobody@example.org", "password": PASSWORD})
        assert early.status_code == wrong.status_code == unknown.status_code == 401
        assert early.json() == wrong.json() == unknown.json()
        assert sorted(early.headers) == sorted(wrong.headers) == sorted(unknown.headers)
        confirm_by_mail(plain, "ada@example.org")
        login = plain.post("/api/session", json={"email": "ada@example.org", "password": PASSWORD})
        assert login.json()["member"]["status"] == "active"
        assert login.json()["member"]["email"] == "ada@example.org"
        cookie = login.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
        assert secure.post("/api/signup", json={"email": "bo@example.org", "password": PASSWORD}).status_code == 202
        confirm_by_mail(secure, "bo@example.org")
        over_https = secure.post("/api/session", json={"email": "bo@example.org", "password": PASSWORD})
        assert "; secure" in over_https.headers["set-cookie"].lower()
        assert plain.get("/api/me").json()["email"] == "ada@example.org"


def test_signup_refusals_name_the_problem(client: TestClient) -> None:
    weak = client.post("/api/signup", json={"email": "ada@example.org", "password": "short"})
    assert weak.status_code == 400 and "at least 10 characters" in weak.json()["detail"]
    bad = client.post("/api/signup", json={"email": "not an address", "password": PASSWORD})
    assert bad.status_code == 400 and "not an email address" in bad.json()["detail"]


def test_login_failure_reads_the_same_whether_or_not_the_account_exists(client: TestClient) -> None:
    api_signup(client, "ada@example.org")
    wrong = client.post("/api/session", json={"email": "ada@example.org", "password": "not the password"})
    unknown = client.post("/api/session", json={"email": "nobody@example.org", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "email or password is wrong"}
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert "not the password" not in wrong.text


def test_cookie_requests_that_change_things_need_the_csrf_token(client: TestClient) -> None:
    csrf = api_signup(client, "ada@example.org")
    missing = client.post("/api/tokens", json={"name": "x"})
    forged = client.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "forged"})
    assert missing.status_code == forged.status_code == 403
    assert missing.json()["detail"] == "the form has expired; reload the page and try again"
    assert client.get("/api/tokens").json() == []  # nothing was made
    assert client.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf}).status_code == 201


def test_api_tokens_work_without_cookies_and_stop_when_revoked(app: FastAPI, client: TestClient) -> None:
    csrf = api_signup(client, "ada@example.org")
    secret = api_token(client, csrf, "laptop", scopes=["contribute", "read", "account"])
    listed = client.get("/api/tokens").json()
    assert [t["name"] for t in listed] == ["laptop"] and secret not in str(listed)
    assert secret.startswith(listed[0]["prefix"])
    with new_client(app) as script:
        assert script.get("/api/me", headers=bearer(secret)).json()["email"] == "ada@example.org"
        # No CSRF token: a bearer token is never sent by a browser on its own.
        made = script.post("/api/tokens", json={"name": "second"}, headers=bearer(secret))
        assert made.status_code == 201
        revoked = client.delete(f"/api/tokens/{listed[0]['id']}", headers={"X-CSRF-Token": csrf})
        assert revoked.json()["revoked_utc"] is not None
        refused = script.get("/api/me", headers=bearer(secret))
        assert refused.status_code == 401 and refused.json()["detail"] == "unknown or revoked API token"
        assert script.get("/api/me", headers={"Authorization": "Basic abc"}).status_code == 401
        assert script.get("/api/me").status_code == 401


def test_login_attempts_are_rate_limited_with_retry_after(app: FastAPI, client: TestClient) -> None:
    api_signup(client, "ada@example.org")  # its login succeeds: the account starts with no failures
    with new_client(app) as stranger:
        for _ in range(10):
            wrong = {"email": "ada@example.org", "password": "wrong guess!"}
            assert stranger.post("/api/session", json=wrong).status_code == 401
        limited = stranger.post("/api/session", json={"email": "ada@example.org", "password": PASSWORD})
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 15 * 60
    assert "too many login-email attempts" in limited.json()["detail"]


def test_strangers_locking_an_account_out_leave_its_owners_device_in(app: FastAPI, client: TestClient) -> None:
    csrf = api_signup(client, "ada@example.org")
    assert client.cookies.get("tutti_device")
    with new_client(app) as stranger:
        answers = [
            stranger.post("/api/session", json={"email": "ada@example.org", "password": f"guess {n}"}).status_code
            for n in range(12)
        ]
        assert answers == [401] * 10 + [429] * 2
        assert stranger.post("/api/session", json={"email": "ada@example.org", "password": PASSWORD}).status_code == 429
    assert client.delete("/api/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.post("/api/session", json={"email": "ada@example.org", "password": PASSWORD}).status_code == 200


def test_uploads_are_rate_limited_per_member(client: TestClient) -> None:
    csrf = api_signup(client, "ada@example.org")
    tiny = [("files", ("notes.txt", b"not an export", "text/plain"))]
    for _ in range(20):
        assert client.post("/api/contributions", files=tiny, headers={"X-CSRF-Token": csrf}).status_code == 202
    limited = client.post("/api/contributions", files=tiny, headers={"X-CSRF-Token": csrf})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert len(client.get("/api/contributions").json()) == 20


def test_the_waitlist_position_moves_when_a_passed_vote_makes_room(app: FastAPI, client: TestClient) -> None:
    steward_csrf = api_login(client, STEWARD_EMAIL, STEWARD_PASSWORD)
    # The founding steward was admitted today, so a capacity of 1 leaves no room.
    pass_policy(app.state.sessions, {"capacity_per_day": 1}, in_force=utcnow())
    full = client.get("/api/steward/onboarding").json()
    assert full == {"capacity_per_day": 1, "admitted_today": 1, "remaining_today": 0, "waiting": 0}
    with new_client(app) as ada, new_client(app) as bo:
        api_signup(ada, "ada@example.org")
        bo_csrf = api_signup(bo, "bo@example.org")
        assert ada.get("/api/me").json()["waitlist_position"] == 1
        assert bo.get("/api/me/waitlist").json() == {
            "status": "waitlisted",
            "position": 2,
            "waiting": 2,
            "capacity_per_day": 1,
        }
        assert [e["position"] for e in client.get("/api/steward/waitlist").json()] == [1, 2]
        # Waitlisted members cannot contribute; nobody, steward included, sets the capacity outside a vote.
        assert (
            bo.post(
                "/api/contributions", files=[("files", ("a.json", b"[]"))], headers={"X-CSRF-Token": bo_csrf}
            ).status_code
            == 403
        )
        for who, csrf in ((bo, bo_csrf), (client, steward_csrf)):
            change = who.put("/api/steward/onboarding", json={"capacity_per_day": 9}, headers={"X-CSRF-Token": csrf})
            assert change.status_code == 405
        assert bo.get("/api/steward/waitlist").status_code == 403
        pass_policy(app.state.sessions, {"capacity_per_day": 2}, in_force=utcnow())
        assert client.get("/api/steward/onboarding").json()["waiting"] == 1
        assert ada.get("/api/me").json()["status"] == "active"
        assert bo.get("/api/me/waitlist").json()["position"] == 1


@pytest.mark.samples
def test_uploading_a_real_export_answers_the_itemised_report(app: FastAPI, client: TestClient) -> None:
    secret = api_token(client, api_signup(client, "ada@example.org"))
    report = upload(client, sample(), bearer(secret))
    assert report["status"] == "accepted" and report["reasons"] == []
    assert report["plays_read"] == report["plays_added"] == MICA_PLAYS
    files = report["files"]
    assert isinstance(files, list)
    [file] = files
    assert file["name"] == sample().name and file["format"] == "spotify_extended" and file["plays"] == MICA_PLAYS
    plausibility = report["plausibility"]
    assert isinstance(plausibility, dict) and plausibility["passed"] and plausibility["score"] >= 60
    checks = {c["name"]: c for c in plausibility["checks"]}
    assert checks["overfull_hours"]["applicable"] and checks["overfull_hours"]["value"] is not None
    assert checks["scrobble_spacing"]["applicable"] is False
    copy = report["copy_check"]
    assert isinstance(copy, dict) and copy["near_copy"] is False and "matched_member_id" not in copy
    score = report["score"]
    assert isinstance(score, dict) and [i["name"] for i in score["items"]] == [
        "volume",
        "span",
        "diversity",
        "richness",
        "diminishing returns",
    ]
    assert report["points"] == sum(i["points"] for i in score["items"]) > 0
    listed = client.get("/api/contributions").json()
    assert [(c["id"], c["status"], c["plays_added"]) for c in listed] == [
        (report["contribution_id"], "accepted", MICA_PLAYS)
    ]
    again = client.get(f"/api/contributions/{report['contribution_id']}").json()
    assert again["status"] == "accepted" and again["report"] == report
    with new_client(app) as other:
        api_signup(other, "bo@example.org")
        assert other.get(f"/api/contributions/{report['contribution_id']}").status_code == 404


def test_an_upload_answers_at_once_and_its_progress_then_its_report_follow(app: FastAPI, client: TestClient) -> None:
    csrf = api_signup(client, "ada@example.org")
    response = client.post(
        "/api/contributions",
        files=[("files", ("notes.txt", b"my favourite songs, roughly", "text/plain"))],
        headers={"X-CSRF-Token": csrf},
    )
    pending = response.json()
    assert response.status_code == 202 and pending["status"] == "pending" and pending["report"] is None
    assert pending["progress"] == {
        "state": "queued",
        "done": 0,
        "total": None,
        "note": "waiting for a worker",
        "attempt": 0,
    }
    url = f"/api/contributions/{pending['contribution_id']}"
    assert client.get(url).json() == pending
    assert [c["status"] for c in client.get("/api/contributions").json()] == ["pending"]
    assert run_jobs(app) == 1
    decided = client.get(url).json()
    assert decided["status"] == "rejected" and decided["progress"] is None
    report = decided["report"]
    assert report["contribution_id"] == pending["contribution_id"] and report["status"] == "rejected"
    assert report["reasons"] == ["the upload holds no plays Tutti can read"]
    assert report["files"][0]["unread_reason"] == "not a listening-history file Tutti knows"
    assert client.post("/api/contributions", headers={"X-CSRF-Token": csrf}).status_code == 422


@pytest.mark.samples
def test_the_dashboard_counts_what_is_in_the_pool(client: TestClient) -> None:
    csrf = api_signup(client, "ada@example.org")
    empty = client.get("/api/me/pool").json()
    assert empty["plays"] == 0 and empty["by_source"] == {}
    upload(client, sample(), {"X-CSRF-Token": csrf})
    pool = client.get("/api/me/pool").json()
    assert pool["plays"] == MICA_PLAYS and pool["files"] == 1
    assert pool["by_source"] == {"spotify_extended": MICA_PLAYS}
    assert pool["first_play_utc"] < pool["last_play_utc"]
    uses = client.get("/api/me/uses").json()
    assert uses["uses"] == [] and uses["note"].startswith("No uses yet")


@pytest.mark.samples
def test_export_holds_all_of_the_members_data(client: TestClient) -> None:
    csrf = api_signup(client, "ada@example.org")
    upload(client, sample(), {"X-CSRF-Token": csrf})
    response = client.post("/api/me/export", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert sorted(archive.namelist()) == [
            "audit.json",
            "contributions.json",
            "governance.json",
            "member.json",
            "money.json",
            "plays.jsonl",
            "plays.parquet",
        ]
        assert len(archive.read("plays.jsonl").splitlines()) == MICA_PLAYS
        assert orjson.loads(archive.read("member.json"))["email"] == "ada@example.org"
        [contribution] = orjson.loads(archive.read("contributions.json"))
        assert contribution["plays_added"] == MICA_PLAYS
        kinds = [e["kind"] for e in orjson.loads(archive.read("audit.json"))]
        assert "contribution-accepted" in kinds or "ContributionAccepted" in kinds


@pytest.mark.samples
def test_withdrawal_answers_the_proof_and_ends_every_credential(app: FastAPI, client: TestClient) -> None:
    csrf = api_signup(client, "ada@example.org")
    secret = api_token(client, csrf)
    upload(client, sample(), bearer(secret))
    unconfirmed = client.post("/api/me/withdraw", json={"confirm": "yes"}, headers={"X-CSRF-Token": csrf})
    assert unconfirmed.status_code == 422
    proof = client.post("/api/me/withdraw", json={"confirm": "withdraw"}, headers={"X-CSRF-Token": csrf}).json()
    assert proof["member_rows_before"] == MICA_PLAYS and proof["member_rows_after"] == 0
    assert proof["pool_rows_before"] - proof["pool_rows_after"] == MICA_PLAYS
    assert proof["key_destroyed"] and proof["erased"] and proof["status"] == "withdrawn"
    assert proof["excluded_from_sales"] and proof["pool_files_removed"] == 1
    assert client.get("/api/me").status_code == 401
    with new_client(app) as script:
        assert script.get("/api/me", headers=bearer(secret)).status_code == 401
        login = script.post("/api/session", json={"email": "ada@example.org", "password": PASSWORD})
        assert login.status_code == 401


@pytest.mark.samples
def test_stewards_resolve_copy_cases_and_the_uploader_does_not_see_whose(app: FastAPI, client: TestClient) -> None:
    with new_client(app) as ada, new_client(app) as bo:
        first = upload(ada, sample(), {"X-CSRF-Token": api_signup(ada, "ada@example.org")})
        bo_csrf = api_signup(bo, "bo@example.org")
        copied = upload(bo, sample(), {"X-CSRF-Token": bo_csrf})
        assert first["status"] == "accepted" and copied["status"] == "held"
        assert any("held for the stewards" in r for r in copied["reasons"])  # type: ignore[attr-defined]
        assert (
            "matched_member_id" not in str(copied)
            and "matched_member_id" not in bo.get(f"/api/contributions/{copied['contribution_id']}").text
        )
        ada_id = ada.get("/api/me").json()["id"]
        bo_id = bo.get("/api/me").json()["id"]
        assert ada.get(f"/api/contributions/{first['contribution_id']}").json()["status"] == "held"
        assert bo.get("/api/steward/cases").status_code == 403
        headers = {"X-CSRF-Token": bo_csrf}
        assert (
            bo.post("/api/steward/cases/x/resolve", json={"resolution": "no-owner"}, headers=headers).status_code == 403
        )
    csrf = api_login(client, STEWARD_EMAIL, STEWARD_PASSWORD)
    [case] = client.get("/api/steward/cases").json()
    assert {(c["contribution_id"], c["member_id"]) for c in case["contributions"]} == {
        (first["contribution_id"], ada_id),
        (copied["contribution_id"], bo_id),
    }
    url, headers = f"/api/steward/cases/{case['case_id']}/resolve", {"X-CSRF-Token": csrf}
    bad = client.post(url, json={"owner_member_id": ada_id, "resolution": "because"}, headers=headers)
    assert bad.status_code == 422  # not a reason code of the schema
    body = {"owner_member_id": ada_id, "resolution": "steward-evidence"}
    done = client.post(url, json=body, headers=headers)
    assert done.status_code == 200, done.text
    assert done.json() == {
        "case_id": case["case_id"],
        "owner_member_id": ada_id,
        "released": [first["contribution_id"]],
        "refused": [copied["contribution_id"]],
    }
    assert client.get("/api/steward/cases").json() == []
    assert client.post(url, json=body, headers=headers).status_code == 400  # resolved already: a rule refuses
