"""The web layer over a founded cooperative on both databases: a TestClient, a live server, and small helpers."""

from __future__ import annotations

import email as email_message
import email.policy as email_policy
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import samples_path
from tests.coop import conftest as coop_conftest
from tests.coop.conftest import STEWARD_EMAIL, STEWARD_PASSWORD, CoopDb
from tutti.coop import mail
from tutti.coop.contributions.validation import VALIDATE_CONTRIBUTION
from tutti.coop.jobs.worker import Worker
from tutti.coop.settings import CoopSettings
from tutti.web.app import create_app
from tutti.web.server import server_config

PASSWORD = "a long enough passphrase"
MICA = ("spotify-extended", "mica-92", "Streaming_History_Audio_2024_4.json")
MICA_PLAYS = 3283
__all__ = ["STEWARD_EMAIL", "STEWARD_PASSWORD"]

# The cooperative's database fixtures (SQLite and PostgreSQL), shared with tests/coop.
empty_db = coop_conftest.empty_db
coop_settings = coop_conftest.coop_settings
founded_db = coop_conftest.founded_db


@pytest.fixture
def app(founded_db: CoopDb) -> FastAPI:
    # No periodic admissions: a test's waitlist stays as the test left it (tests/web/test_admissions.py runs them).
    # No background workers either: tests run the jobs when they choose (``run_jobs``).
    return create_app(founded_db.settings, engine=founded_db.engine, admit_every=None, workers=0)


def run_jobs(app: FastAPI) -> int:
    """Validate the uploads waiting, as a background worker would; how many."""
    return Worker(app.state.sessions, app.state.settings, [VALIDATE_CONTRIBUTION]).drain()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def new_client(app: FastAPI, *, https: bool = False) -> TestClient:
    return TestClient(app, base_url="https://testserver" if https else "http://testserver")


def sample() -> Path:
    return samples_path(*MICA)


def form_token(client: TestClient, page: str = "/signup", action: str | None = None) -> str:
    """The CSRF token of the form on ``page`` posting to ``action`` (default: the page itself, else the first)."""
    html = client.get(page).text
    marker = f'action="{action or page}"'
    found = re.search(r'name="csrf_token" value="([^"]*)"', html.split(marker, 1)[-1])
    assert found is not None, f"no CSRF field on {page}"
    return found.group(1)


def api_signup(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign up through the API, confirm the address from the mailed link, then log in (with a cookie); the
    session's CSRF token."""
    response = client.post("/api/signup", json={"email": email, "password": password})
    assert response.status_code == 202, response.text
    confirm_by_mail(client, email)
    return api_login(client, email, password)


def mailed_link(settings: CoopSettings, email: str) -> str:
    """The confirmation link of the newest message kept in the outbox for ``email`` (no SMTP server is set)."""
    kept = sorted((settings.data_dir / mail.OUTBOX).glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    messages = [email_message.message_from_bytes(p.read_bytes(), policy=email_policy.default) for p in kept]
    bodies = [str(m.get_content()) for m in messages if isinstance(m, EmailMessage) and m["To"] == email]
    assert bodies, f"no message to {email} in the outbox"
    found = re.search(r"(https?://\S+/confirm\?token=\S+)", bodies[-1])
    assert found is not None, "the message holds no confirmation link"
    return found.group(1)


def confirm_by_mail(client: httpx.Client, email: str, settings: CoopSettings | None = None) -> None:
    """Open the mailed link and press its button, as the address's owner does (``settings``: the server's, when
    ``client`` is no TestClient of the app)."""
    if settings is None:
        assert isinstance(client, TestClient)
        settings = client.app.state.settings  # type: ignore[attr-defined]
    assert settings is not None
    follow_confirmation(client, mailed_link(settings, email))


def follow_confirmation(client: httpx.Client, link: str) -> None:
    """Open a confirmation link and press the page's button."""
    token = link.split("token=", 1)[1]
    page = client.get(f"/confirm?token={token}").text.split('action="/confirm"', 1)[-1]
    found = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert found is not None, "no form on the confirmation page"
    answer = client.post("/confirm", data={"csrf_token": found.group(1), "token": token})
    assert answer.status_code in (200, 303), answer.text


def api_login(client: TestClient, email: str, password: str) -> str:
    response = client.post("/api/session", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def api_token(client: TestClient, csrf: str, name: str = "script", scopes: list[str] | None = None) -> str:
    """A new API token's secret: with ``scopes``, else the server's default (``contribute`` only)."""
    body: dict[str, object] = {"name": name} | ({"scopes": scopes} if scopes else {})
    response = client.post("/api/tokens", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    return str(response.json()["secret"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(client: TestClient, path: Path, headers: dict[str, str]) -> dict[str, object]:
    """Upload through the API (202, pending), let a worker validate it, and return the report."""
    with path.open("rb") as fp:
        response = client.post(
            "/api/contributions", files=[("files", (path.name, fp, "application/json"))], headers=headers
        )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending" and response.json()["report"] is None
    assert isinstance(client.app, FastAPI) and run_jobs(client.app) == 1
    decided = client.get(f"/api/contributions/{response.json()['contribution_id']}", headers=headers).json()
    assert decided["status"] != "pending" and decided["progress"] is None
    data: dict[str, object] = decided["report"]
    return data


@dataclass(frozen=True)
class LiveServer:
    url: str
    db: CoopDb


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(app: FastAPI, db: CoopDb) -> Iterator[LiveServer]:
    """``app`` under uvicorn, configured as ``tutti coop serve`` does, on 127.0.0.1 and a free port."""
    port = free_port()
    server = uvicorn.Server(server_config(app, "127.0.0.1", port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", db)
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture
def live_server(founded_db: CoopDb) -> Iterator[LiveServer]:
    """The real app in a background thread, with a background worker."""
    app = create_app(founded_db.settings, engine=founded_db.engine, admit_every=None, workers=1)
    with serving(app, founded_db) as server:
        yield server
