"""A database from the release that stored addresses and reports in plain, on SQLite and PostgreSQL: the migration
adds the sealed columns, and the first opening of the cooperative seals every plain address and report (the
master key is needed, which migrations never see), after which members log in as before, read their reports as
before, and the plain text is gone from the database (SQLite: from its file and WAL too)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text

from tests.coop.conftest import EmptyDb, cli_database_url
from tutti.coop import bootstrap
from tutti.coop.bootstrap import create_cooperative
from tutti.coop.contributions.queries import report_of
from tutti.coop.db import session_factory, upgrade
from tutti.coop.members import accounts, emails
from tutti.coop.models import Contribution, Member
from tutti.coop.settings import MASTER_KEY, CoopSettings

EMAIL = "plain.sighted@example.org"
FILE = "plain-sighted-history.json"
REASON = f"the upload cannot be read: {FILE} is not valid JSON"


def test_plain_addresses_and_reports_are_sealed_when_the_cooperative_first_opens(
    empty_db: EmptyDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = os.urandom(32)
    monkeypatch.setenv(MASTER_KEY.env, base64.b64encode(key).decode())
    settings = CoopSettings(
        data_dir=tmp_path / "coop", database_url=empty_db.url, master_key=key, session_secret=os.urandom(32)
    )
    upgrade(empty_db.engine, "0004")
    with session_factory(empty_db.engine, settings).begin() as session:
        create_cooperative(session, settings, "Old cooperative")
        # What the release before wrote: the address in plain, a worded report naming the upload's file.
        hashed = accounts.password_hasher(session).hash("a long enough passphrase")
        session.execute(
            text(
                "INSERT INTO member (id, email, password_hash, role, status, created_utc, pseudonym) "
                "VALUES ('m1', :email, :hash, 'member', 'active', CURRENT_TIMESTAMP, 'abc123')"
            ),
            {"email": EMAIL, "hash": hashed},
        )
        report = {"contribution_id": "c1", "status": "rejected", "reasons": [REASON], "version": 1}
        session.execute(
            text(
                "INSERT INTO contribution (id, member_id, created_utc, status, reasons, report, plays_added, score) "
                "VALUES ('c1', 'm1', CURRENT_TIMESTAMP, 'rejected', :reasons, :report, 0, 0)"
            ),
            {"reasons": orjson.dumps([REASON]).decode(), "report": orjson.dumps(report).decode()},
        )

    bootstrap.open_cooperative(tmp_path, cli_database_url(empty_db)).engine.dispose()

    sessions = session_factory(empty_db.engine, settings)
    with sessions.begin() as session:
        member, _token, _csrf = accounts.login(session, EMAIL, "a long enough passphrase")
        assert member.id == "m1" and member.plain_email is None
        assert emails.email_of(session, settings, member) == EMAIL
        row = session.get_one(Contribution, "c1")
        assert report_of(session, row).reasons == (REASON,) and row.reasons == ["unusable"]
        assert row.sealed_report is not None and row.report == {}
        dumped = [
            str(tuple(r))
            for table in ("member", "contribution", "audit_event")
            for r in session.execute(text(f"SELECT * FROM {table}"))
        ]
    assert not [r for r in dumped if EMAIL in r or FILE in r]
    if empty_db.kind == "sqlite":
        path = Path(empty_db.url.removeprefix("sqlite:///"))
        for file in (path, Path(f"{path}-wal")):
            if file.exists():
                assert EMAIL.encode() not in file.read_bytes() and FILE.encode() not in file.read_bytes()
    # A second opening finds nothing left to seal.
    with sessions.begin() as session:
        assert emails.seal_plain_rows(session, settings) == 0
        assert session.get_one(Member, "m1").email_sealed is not None
