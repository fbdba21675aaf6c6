"""Signup tells nobody whether an email has an account: the answer (status, body, headers) and the work done
(one password hash, one message sent) are the same both ways; the address's owner learns of the attempt by mail,
delivered to a real SMTP server in this process, or kept in the outbox folder when none is set."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from tests.coop.conftest import STEWARD_EMAIL, CoopDb
from tests.helpers.smtp import Inbox, free_port
from tests.web.conftest import PASSWORD, follow_confirmation, form_token
from tutti.coop import mail
from tutti.coop.settings import MailSettings
from tutti.web.app import create_app

NEW, TAKEN = "newcomer@example.org", STEWARD_EMAIL


@pytest.fixture
def mailing_client(founded_db: CoopDb, smtp: tuple[Inbox, int]) -> Iterator[TestClient]:
    _, port = smtp
    settings = replace(
        founded_db.settings, mail=MailSettings(host="127.0.0.1", port=port, security="none", sender="coop@example.org")
    )
    with TestClient(create_app(settings, engine=founded_db.engine, admit_every=None, workers=0)) as client:
        yield client


def _comparable(answer: object) -> tuple[int, str, list[tuple[str, str]]]:
    status, text, headers = answer.status_code, answer.text, answer.headers  # type: ignore[attr-defined]
    varying = {"date", "content-length"}
    return status, text, sorted((k, v) for k, v in headers.items() if k not in varying)


def test_the_api_answers_the_same_for_a_new_and_a_taken_email(
    mailing_client: TestClient, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, _ = smtp
    hashes: list[str] = []
    original = PasswordHasher.hash

    def counting(self: PasswordHasher, password: str | bytes, *, salt: bytes | None = None) -> str:
        hashes.append("hash")
        return original(self, password, salt=salt)

    monkeypatch.setattr(PasswordHasher, "hash", counting)
    new = mailing_client.post("/api/signup", json={"email": NEW, "password": PASSWORD})
    hashed_for_new = len(hashes)
    taken = mailing_client.post("/api/signup", json={"email": TAKEN.upper(), "password": PASSWORD})
    assert new.status_code == 202
    assert _comparable(new) == _comparable(taken)
    assert "set-cookie" not in new.headers
    # No shortcut: the taken address's password is hashed just like a new one's.
    assert hashed_for_new == 1 and len(hashes) == 2
    [welcome] = inbox.to(NEW)
    [warning] = inbox.to(TAKEN)
    assert "Welcome" in welcome["Subject"] and welcome["From"] == "coop@example.org"
    assert "tried to sign up" in warning["Subject"]
    assert "Nothing was changed" in warning.get_content() and PASSWORD not in warning.get_content()
    assert len(inbox.messages) == 2
    # The owner's password was not changed by the stranger's attempt; the newcomer's account exists, and
    # opens once the address is confirmed from the link in the welcome (before, a login answers as a wrong one).
    assert mailing_client.post("/api/session", json={"email": NEW, "password": PASSWORD}).status_code == 401
    link = re.search(r"(http\S+/confirm\?token=\S+)", welcome.get_content())
    assert link is not None and "tried" not in welcome.get_content()
    follow_confirmation(mailing_client, link.group(1))
    assert mailing_client.post("/api/session", json={"email": NEW, "password": PASSWORD}).status_code == 200


def test_the_form_answers_the_same_for_a_new_and_a_taken_email(
    mailing_client: TestClient, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    answers = []
    for address in (NEW, TAKEN):
        body = {"email": address, "password": PASSWORD, "csrf_token": form_token(mailing_client)}
        answers.append(mailing_client.post("/signup", data=body, follow_redirects=False))
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"] == "/login?joined=1"
    assert "set-cookie" not in answers[0].headers and "set-cookie" not in answers[1].headers
    assert len(inbox.to(NEW)) == len(inbox.to(TAKEN)) == 1


def test_a_refused_password_reads_the_same_for_a_new_and_a_taken_email(
    mailing_client: TestClient, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    weak = [mailing_client.post("/api/signup", json={"email": a, "password": "password123"}) for a in (NEW, TAKEN)]
    assert _comparable(weak[0]) == _comparable(weak[1]) and weak[0].status_code == 400
    assert inbox.messages == []


def test_without_a_mail_server_messages_go_to_the_outbox_readable_by_the_owner_only(founded_db: CoopDb) -> None:
    app = create_app(founded_db.settings, engine=founded_db.engine, admit_every=None, workers=0)
    with TestClient(app) as client:
        assert client.post("/api/signup", json={"email": TAKEN, "password": PASSWORD}).status_code == 202
    outbox = founded_db.settings.data_dir / mail.OUTBOX
    [kept] = list(outbox.glob("*.eml"))
    assert kept.stat().st_mode & 0o077 == 0 and outbox.stat().st_mode & 0o077 == 0
    message = email.message_from_bytes(kept.read_bytes(), policy=email.policy.default)
    assert message["To"] == TAKEN and "tried to sign up" in message["Subject"]


def test_an_unreachable_mail_server_keeps_the_message_in_the_outbox(tmp_path: Path, founded_db: CoopDb) -> None:
    settings = replace(
        founded_db.settings, data_dir=tmp_path, mail=MailSettings(host="127.0.0.1", port=free_port(), security="none")
    )
    kept = mail.send(settings, mail.message(settings, NEW, "subject", "body"), about="member-7")
    assert kept is not None and kept.parent == tmp_path / mail.OUTBOX and b"subject" in kept.read_bytes()
    assert mail.kept_about(settings, "member-7") == [kept] and mail.kept_about(settings, "member-8") == []
