"""The server-rendered pages, driven like a browser without JavaScript would (and as htmx does, by its headers):
forms with CSRF tokens, refusals shown on the form, the waitlist, an upload and its report, tokens, export,
withdrawal, the steward's page; and that no page refers to anything outside this server."""

from __future__ import annotations

import io
import re
import zipfile
from html.parser import HTMLParser

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
    confirm_by_mail,
    form_token,
    new_client,
    run_jobs,
    sample,
)
from tutti.coop.models import utcnow
from tutti.web.deps import SESSION_COOKIE

HTMX = {"HX-Request": "true"}


class Markup(HTMLParser):
    """What a page refers to, and how its form fields are labelled."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inputs: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.h1 = 0
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.urls += [v for k, v in attrs if k in ("src", "href", "action", "hx-get", "hx-post") and v]
        if tag == "input" and found.get("type") not in ("hidden", "submit"):
            self.inputs.append(found)
        if tag == "label" and found.get("for"):
            self.label_for.add(str(found["for"]))
        self.h1 += tag == "h1"
        if tag == "html":
            self.lang = found.get("lang")


def markup(html: str) -> Markup:
    parsed = Markup()
    parsed.feed(html)
    return parsed


def signup_form(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign up through the page form, confirm the address from the mailed link, then log in as it asks; where
    the login sent the new member."""
    response = client.post(
        "/signup",
        data={"email": email, "password": password, "csrf_token": form_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/login?joined=1" and SESSION_COOKIE not in client.cookies
    confirm_by_mail(client, email)
    login = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": form_token(client, "/login?joined=1", "/login")},
        follow_redirects=False,
    )
    assert login.status_code == 303, login.text
    return str(login.headers["location"])


def member_token(client: TestClient, page: str = "/dashboard") -> str:
    return form_token(client, page)


@pytest.mark.parametrize("path", ["/", "/signup", "/login"])
def test_public_pages_are_self_contained_and_accessible(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page = markup(response.text)
    assert page.lang == "en" and page.h1 == 1
    # Nothing from another host: every reference is a path on this server (or an inline data: URL).
    assert page.urls and all(u.startswith(("/", "#", "data:")) and not u.startswith("//") for u in page.urls)
    assert all(i.get("id") in page.label_for for i in page.inputs), page.inputs
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in response.text


def test_htmx_and_its_licence_are_served_from_the_package(client: TestClient) -> None:
    script = client.get("/static/htmx.min.js")
    assert script.status_code == 200 and "htmx" in script.text[:200]
    assert "Zero-Clause BSD" in client.get("/static/htmx.LICENSE").text
    assert client.get("/static/app.css").status_code == 200


def test_signup_page_admits_and_lands_on_the_dashboard(client: TestClient) -> None:
    assert signup_form(client, "ada@example.org") == "/dashboard"
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie
    dashboard = client.get("/dashboard").text
    assert "Your dashboard" in dashboard
    assert "No uploads yet" in dashboard and "No uses yet" in dashboard
    assert "Nothing of yours is in the pool yet" in dashboard
    assert client.get("/", follow_redirects=False).headers["location"] == "/dashboard"


def test_refusals_are_shown_on_the_form_without_the_password(client: TestClient) -> None:
    token = form_token(client, "/login")
    response = client.post(
        "/login", data={"email": "ada@example.org", "password": "my secret guess", "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 401
    assert "email or password is wrong" in response.text and "Test cooperative" in response.text
    assert 'value="ada@example.org"' in response.text and "my secret guess" not in response.text
    weak = client.post(
        "/signup", data={"email": "bo@example.org", "password": "short", "csrf_token": form_token(client)}
    )
    assert weak.status_code == 400 and "at least 10 characters" in weak.text


def test_forms_without_the_csrf_token_are_refused(client: TestClient) -> None:
    forged = client.post("/signup", data={"email": "ada@example.org", "password": PASSWORD, "csrf_token": "x" * 64})
    assert forged.status_code == 403 and "the form has expired" in forged.text
    assert client.post("/login", data={"email": "a@example.org", "password": PASSWORD}).status_code == 403
    visitor_token = form_token(client)
    signup_form(client, "ada@example.org")
    assert client.post("/logout", data={}).status_code == 403
    # A visitor's form token is not the member's session token.
    assert client.post("/tokens", data={"name": "x", "csrf_token": visitor_token}).status_code == 403
    assert client.get("/dashboard").status_code == 200  # still logged in
    out = client.post("/logout", data={"csrf_token": member_token(client)}, follow_redirects=False)
    assert out.status_code == 303 and client.get("/dashboard", follow_redirects=False).headers["location"] == (
        "/login?next=/dashboard"
    )


def test_login_sends_back_to_the_page_asked_for_and_never_elsewhere(client: TestClient) -> None:
    signup_form(client, "ada@example.org")
    client.post("/logout", data={"csrf_token": member_token(client)})
    assert 'name="next" value="/tokens"' in client.get("/login?next=/tokens").text
    for wanted, landing in (
        ("/tokens", "/tokens"),
        ("//evil.example/x", "/dashboard"),
        ("https://evil.example", "/dashboard"),
    ):
        response = client.post(
            "/login",
            data={
                "email": "ada@example.org",
                "password": PASSWORD,
                "csrf_token": form_token(client, "/login"),
                "next": wanted,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == landing


def test_a_signup_beyond_capacity_sees_its_place_update(app: FastAPI, client: TestClient) -> None:
    pass_policy(app.state.sessions, {"capacity_per_day": 1}, in_force=utcnow())
    with new_client(app) as ada:
        assert signup_form(ada, "ada@example.org") == "/waitlist"
        page = ada.get("/waitlist").text
        assert re.search(r"You are number <strong>1</strong> on the waitlist", page)
        assert 'hx-get="/waitlist/position"' in page
        assert ada.get("/dashboard", follow_redirects=False).headers["location"] == "/waitlist"
        pass_policy(app.state.sessions, {"capacity_per_day": 2}, in_force=utcnow())
        fragment = ada.get("/waitlist/position", headers=HTMX).text
        assert "You're in!" in fragment and "hx-trigger" not in fragment
        assert ada.get("/waitlist", follow_redirects=False).headers["location"] == "/dashboard"


@pytest.mark.samples
def test_uploading_through_the_form_shows_the_progress_then_the_itemised_report(
    app: FastAPI, client: TestClient
) -> None:
    signup_form(client, "ada@example.org")
    page = client.get("/contribute").text
    assert 'accept=".zip,.json,.csv,.tsv,.jsonl,.txt"' in page and "multiple" in page and "<progress" in page
    with sample().open("rb") as fp:
        response = client.post(
            "/contribute",
            files=[("files", (sample().name, fp, "application/json"))],
            data={"csrf_token": member_token(client, "/contribute")},
            follow_redirects=False,
        )
    assert response.status_code == 303
    url = response.headers["location"]
    waiting = client.get(url).text
    assert "Checking your export" in waiting and "Waiting for a worker" in waiting
    assert f'hx-get="{url}/progress"' in waiting and 'hx-trigger="every 1s"' in waiting
    assert '<span class="badge na">checking</span>' in client.get("/dashboard").text
    assert run_jobs(app) == 1
    report = client.get(url).text
    assert "Accepted:" in report and f"{MICA_PLAYS:,} plays read" in report and "hx-trigger" not in report
    for part in (sample().name, "spotify extended", "Overfull hours", "measured", "Copy check", "Score", "Richness"):
        assert part in report, part
    dashboard = client.get("/dashboard").text
    assert f"{MICA_PLAYS:,}" in dashboard and "spotify extended" in dashboard and "accepted" in dashboard


def test_an_htmx_upload_answers_a_fragment_that_polls_until_the_report(app: FastAPI, client: TestClient) -> None:
    signup_form(client, "ada@example.org")
    csrf = member_token(client, "/contribute")
    response = client.post(
        "/contribute",
        files=[("files", ("notes.txt", b"not an export", "text/plain"))],
        headers={**HTMX, "X-CSRF-Token": csrf},
    )
    url = response.headers["hx-push-url"]
    assert response.status_code == 200 and url.startswith("/contributions/")
    assert "<html" not in response.text and "Checking your export" in response.text
    assert f'hx-get="{url}/progress"' in response.text
    assert client.get(f"{url}/progress", headers=HTMX).text == response.text
    assert run_jobs(app) == 1
    fragment = client.get(f"{url}/progress", headers=HTMX).text
    assert "<html" not in fragment and "hx-trigger" not in fragment
    assert "Rejected" in fragment and "the upload holds no plays Tutti can read" in fragment
    refused = client.post("/contribute", files=[("files", ("a.json", b"[]"))], headers=HTMX)
    assert refused.status_code == 403 and 'role="alert"' in refused.text and "<html" not in refused.text
    with new_client(app) as other:
        signup_form(other, "bo@example.org")
        assert other.get(f"{url}/progress", headers=HTMX).status_code == 404


def test_tokens_page_shows_a_new_secret_once(client: TestClient) -> None:
    signup_form(client, "ada@example.org")
    made = client.post("/tokens", data={"name": "laptop", "csrf_token": member_token(client, "/tokens")})
    secret = re.search(r"data-select>(tutti_[^<]+)<", made.text)
    assert secret is not None and "shown this once" in made.text
    listing = client.get("/tokens").text
    assert "laptop" in listing and secret.group(1) not in listing and secret.group(1)[:12] in listing
    token_id = re.search(r'action="/tokens/(\d+)/revoke"', listing)
    assert token_id is not None
    client.post(f"/tokens/{token_id.group(1)}/revoke", data={"csrf_token": member_token(client, "/tokens")})
    assert "revoked" in client.get("/tokens").text


def test_export_and_withdrawal_from_the_pages(client: TestClient) -> None:
    signup_form(client, "ada@example.org")
    download = client.post("/export", data={"csrf_token": member_token(client)})
    assert download.headers["content-type"] == "application/zip"
    assert "member.json" in zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    confirm_page = client.get("/withdraw").text
    assert "your data key is destroyed" in confirm_page and "What stays" in confirm_page
    token = member_token(client, "/withdraw")
    refused = client.post("/withdraw", data={"confirm": "yes please", "csrf_token": token})
    assert refused.status_code == 400 and "nothing was erased" in refused.text
    proof = client.post("/withdraw", data={"confirm": "Withdraw", "csrf_token": token})
    assert proof.status_code == 200 and "Your data is erased" in proof.text
    assert "Data key destroyed: <strong>yes</strong>" in proof.text
    assert f'{SESSION_COOKIE}=""' in proof.headers["set-cookie"] or "Max-Age=0" in proof.headers["set-cookie"]
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_the_steward_page_is_for_stewards(app: FastAPI, client: TestClient) -> None:
    with new_client(app) as ada:
        api_signup(ada, "ada@example.org")
        refused = ada.get("/steward")
        assert refused.status_code == 403 and "Only stewards may see this" in refused.text
        assert 'href="/steward"' not in ada.get("/dashboard").text
    api_login(client, STEWARD_EMAIL, STEWARD_PASSWORD)
    page = client.get("/steward").text
    for part in ("Onboarding capacity", "Waitlist", "Nobody is waiting", "Flagged near-copies", "No flagged uploads"):
        assert part in page
    assert 'href="/steward"' in client.get("/dashboard").text


def test_unknown_pages_and_logged_out_visits(client: TestClient) -> None:
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Not found" in missing.text and "<html" in missing.text
    assert client.get("/api/no-such-thing").json() == {"detail": "Not Found"}
    assert client.get("/contribute", follow_redirects=False).headers["location"] == "/login?next=/contribute"
    assert client.get("/waitlist/position", headers=HTMX).headers["hx-redirect"].startswith("/login")
