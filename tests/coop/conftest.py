"""The cooperative's database on both engines: every test using ``coop_db`` runs on SQLite and on PostgreSQL.

PostgreSQL is expected at 127.0.0.1:5432 (database ``test``, user ``postgres``, trust auth); each test gets a
fresh schema with a random name, dropped afterwards. If PostgreSQL is down those variants fail, not skip.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import samples_path
from tutti.coop import crypto
from tutti.coop.bootstrap import create_cooperative, found_cooperative
from tutti.coop.contributions import uploads, validation
from tutti.coop.contributions.pipeline import contribute
from tutti.coop.contributions.report import ContributionReport
from tutti.coop.db import make_engine, session_factory, settings_of, upgrade
from tutti.coop.jobs.worker import Worker
from tutti.coop.members import accounts, emails
from tutti.coop.models import AuditEvent, Member
from tutti.coop.scratch import scratch_folder
from tutti.coop.settings import CoopSettings

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STEWARD_EMAIL = "steward@example.org"
STEWARD_PASSWORD = "founding steward passphrase"
ENGINES = ["sqlite", "postgresql"]
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@dataclass
class EmptyDb:
    """A database with no tables yet: a SQLite file, or a fresh PostgreSQL schema."""

    kind: str
    engine: Engine
    url: str
    schema: str | None


@dataclass
class CoopDb:
    """A migrated database holding a founded cooperative (no members yet), with settings and sessions."""

    kind: str
    engine: Engine
    sessions: sessionmaker[Session]
    settings: CoopSettings


@pytest.fixture(params=ENGINES)
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmptyDb]:
    kind: str = request.param
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'coop.sqlite'}"
        engine = make_engine(url)
        yield EmptyDb(kind, engine, url, None)
        engine.dispose()
        return
    schema = f"test_coop_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(POSTGRES_URL, schema=schema)
        try:
            yield EmptyDb(kind, engine, POSTGRES_URL, schema)
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture
def coop_settings(empty_db: EmptyDb, tmp_path: Path) -> CoopSettings:
    return CoopSettings.for_tests(tmp_path / "coop", empty_db.url)


def migrated_cooperative(empty_db: EmptyDb, settings: CoopSettings) -> CoopDb:
    """``empty_db`` migrated, with the cooperative row (signing key, founding policy, first log link), no members."""
    upgrade(empty_db.engine)
    sessions = session_factory(empty_db.engine, settings)
    with sessions.begin() as session:
        create_cooperative(session, settings, "Test cooperative")
    return CoopDb(empty_db.kind, empty_db.engine, sessions, settings)


@pytest.fixture
def coop_db(empty_db: EmptyDb, coop_settings: CoopSettings) -> CoopDb:
    """Migrated, with the cooperative row (signing key, founding policy, first log link) but no members."""
    return migrated_cooperative(empty_db, coop_settings)


@pytest.fixture
def founded_db(empty_db: EmptyDb, coop_settings: CoopSettings) -> CoopDb:
    """Like ``coop_db`` but founded the way ``tutti coop init`` does it: with an active steward."""
    upgrade(empty_db.engine)
    sessions = session_factory(empty_db.engine, coop_settings)
    with sessions.begin() as session:
        found_cooperative(
            session,
            coop_settings,
            name="Test cooperative",
            steward_email=STEWARD_EMAIL,
            steward_password=STEWARD_PASSWORD,
        )
    return CoopDb(empty_db.kind, empty_db.engine, sessions, coop_settings)


def steward_of(session: Session) -> Member:
    """The founding steward of a ``founded_db``."""
    steward = emails.find_member(session, settings_of(session), STEWARD_EMAIL)
    assert steward is not None
    return steward


def join(db: CoopDb, email: str) -> str:
    """A new member signed up at ``NOW``; their id."""
    with db.sessions.begin() as session:
        return accounts.signup(session, email, "a long enough passphrase", now=NOW).id


def give(db: CoopDb, member_id: str, upload: list[Path] | bytes, filename: str | None = None) -> ContributionReport:
    """The member's upload contributed at ``NOW``, in a transaction of its own."""
    with db.sessions.begin() as session:
        member = session.get_one(Member, member_id)
        return contribute(session, db.settings, member, upload, filename, now=NOW)


def events(session: Session, kind: str) -> list[AuditEvent]:
    """The audit log's events of ``kind``, oldest first."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.seq)))


def files_of(*parts: str) -> list[Path]:
    """The JSON files of a sample export's folder (a test using it is marked ``samples``)."""
    return sorted(samples_path(*parts).glob("*.json"))


def submit(db: CoopDb, member_id: str, paths: list[Path]) -> str:
    """What the upload request does: seal the files with the member's key, store them pending, queue the job."""
    with db.sessions.begin() as session:
        key = crypto.member_key(session, session.get_one(Member, member_id), db.settings)
    with scratch_folder(db.settings, "upload-") as scratch:
        sealed = uploads.seal(paths, key, scratch / "sealed")
        with db.sessions.begin() as session:
            return validation.submit(session, db.settings, session.get_one(Member, member_id), sealed).id


def validation_worker(db: CoopDb) -> Worker:
    """A worker that validates uploads (and runs nothing else), as ``tutti coop worker`` would."""
    return Worker(db.sessions, db.settings, [validation.VALIDATE_CONTRIBUTION], poll=0.01)


def cli_database_url(empty_db: EmptyDb) -> str:
    """The database's URL as a command run in another process gets it (PostgreSQL: in the test's own schema)."""
    if empty_db.schema is None:
        return empty_db.url
    # libpq options in the URL: the CLI's database lives in the test's own schema.
    return f"{empty_db.url}?options=-csearch_path%3D{empty_db.schema}"
