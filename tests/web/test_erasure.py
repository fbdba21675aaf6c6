"""Erasure that erases, on SQLite and PostgreSQL, through the running web app.

A member with a unique canary email uploads a real export under canary file names (one upload accepted, one
rejected, whose report quotes its file's name), then withdraws. Afterwards the canary strings, and track names
only their export holds, are searched for byte by byte in every place the cooperative writes: the SQLite file
with its ``-wal`` and ``-shm``, PostgreSQL's relation files of the test's schema (with their TOAST tables and
indexes), the data folder (pool, sealed files, scratch, log checkpoints), the temporary folder the server's
uploads spool to, every audit payload and job row, and the server's captured logs: no hit. And a backup taken
before the withdrawal (the data folder and the database's rows, never the master key) opens the member's plays
and email until the next master-key rotation, and never after.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from tests.conftest import samples_path
from tests.coop.conftest import CoopDb, EmptyDb
from tests.web.conftest import api_signup, form_token, run_jobs
from tutti.coop import crypto, rotation
from tutti.coop._keywrap import member_key_context, unwrap
from tutti.coop.bootstrap import found_cooperative
from tutti.coop.db import session_factory, upgrade
from tutti.coop.errors import DecryptionFailed
from tutti.coop.members import emails
from tutti.coop.models import AuditEvent, Job, Member, MemberKey
from tutti.coop.pool.files import Pool
from tutti.coop.settings import MASTER_KEY, MASTER_KEY_FILE, CoopSettings, create_master_key_file
from tutti.web.app import create_app

CANARY_EXPORT = ("spotify-extended", "mica-92")
OTHER_EXPORT = ("spotify-extended", "candidlyred")
PASSWORD = "a long enough passphrase"


@dataclass
class Keyed:
    """A founded cooperative whose master key lives in its key file (as `tutti coop init` leaves it), its app."""

    db: CoopDb
    app: FastAPI
    tmp: Path


@pytest.fixture
def keyed(empty_db: EmptyDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Keyed]:
    monkeypatch.delenv(MASTER_KEY.env, raising=False)
    # Uploads spool to the temporary folder: the test's own, so it can be searched.
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    data_dir = tmp_path / "coop"
    key = base64.b64decode(create_master_key_file(data_dir).read_text())
    settings = CoopSettings(
        data_dir=data_dir,
        database_url=empty_db.url,
        master_key=key,
        session_secret=os.urandom(32),
        password_time_cost=1,
        password_memory_kib=8192,
    )
    upgrade(empty_db.engine)
    sessions = session_factory(empty_db.engine, settings)
    with sessions.begin() as session:
        found_cooperative(session, settings, name="Canaries", steward_email="s@example.org", steward_password=PASSWORD)
        rotation.check_key_matches(session, key)
    app = create_app(settings, engine=empty_db.engine, admit_every=None, workers=0)
    yield Keyed(CoopDb(empty_db.kind, empty_db.engine, sessions, settings), app, tmp_path)


def _distinctive_tracks(mine: Path, theirs: Path, count: int = 3) -> list[str]:
    """Track names only the canary's export holds (long enough to be unique bytes)."""

    def names(folder: Path) -> set[str]:
        found = set()
        for path in folder.glob("*.json"):
            for record in orjson.loads(path.read_bytes()):
                name = record.get("master_metadata_track_name")
                if isinstance(name, str):
                    found.add(name)
        return found

    only = sorted(n for n in names(mine) - names(theirs) if len(n) >= 14 and n.isascii())
    assert len(only) >= count
    return only[:count]


def _upload(client: TestClient, csrf: str, paths: list[Path]) -> str:
    handles = [p.open("rb") for p in paths]
    try:
        files = [("files", (p.name, fp, "application/json")) for p, fp in zip(paths, handles, strict=True)]
        response = client.post("/api/contributions", files=files, headers={"X-CSRF-Token": csrf})
    finally:
        for fp in handles:
            fp.close()
    assert response.status_code == 202, response.text
    return str(response.json()["contribution_id"])


def _postgres_files(engine: Engine, schema: str) -> list[Path]:
    """The relation files (tables, indexes, TOAST) of ``schema``, flushed to disk first."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("CHECKPOINT"))
        data_dir = Path(connection.execute(text("SHOW data_directory")).scalar_one())
        rows = connection.execute(
            text(
                """WITH mine AS (SELECT c.oid, c.reltoastrelid FROM pg_class c
                                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :schema),
                        toast AS (SELECT reltoastrelid AS oid FROM mine WHERE reltoastrelid <> 0),
                        toast_index AS (SELECT indexrelid AS oid FROM pg_index
                                        WHERE indrelid IN (SELECT oid FROM toast))
                   SELECT pg_relation_filepath(oid) FROM
                     (SELECT oid FROM mine UNION SELECT oid FROM toast UNION SELECT oid FROM toast_index) r"""
            ),
            {"schema": schema},
        ).scalars()
        paths = [data_dir / p for p in rows if p]
    if not os.access(data_dir, os.R_OK | os.X_OK):
        pytest.skip(f"PostgreSQL's data directory {data_dir} is not readable by the tests")
    return [f for p in paths for f in (p, *p.parent.glob(p.name + ".*")) if f.is_file()]


def _database_files(keyed: Keyed, schema: str | None) -> list[Path]:
    if keyed.db.kind == "sqlite":
        path = Path(keyed.db.settings.database_url.removeprefix("sqlite:///"))
        return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
    assert schema is not None
    return _postgres_files(keyed.db.engine, schema)


def _hits(files: list[Path], needles: list[bytes]) -> list[tuple[str, bytes]]:
    found = []
    for path in files:
        content = path.read_bytes().lower()
        found += [(str(path), n) for n in needles if n.lower() in content]
    return found


def _rows_text(keyed: Keyed) -> bytes:
    """Everything the audit log and the job table hold, as text."""
    with keyed.db.sessions() as session:
        payloads = [e.payload for e in session.scalars(select(AuditEvent))]
        jobs = [
            orjson.dumps([j.payload, j.result, j.error, j.progress_note]).decode() for j in session.scalars(select(Job))
        ]
    return "\n".join(payloads + jobs).encode()


@pytest.mark.samples
def test_a_withdrawn_canary_leaves_no_trace_and_old_backups_close_at_the_next_rotation(
    keyed: Keyed, empty_db: EmptyDb, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = f"canary{secrets.token_hex(5)}"
    email = f"{canary}@example.org"
    folder = keyed.tmp / "upload"
    folder.mkdir()
    paths = []
    for source in sorted(samples_path(*CANARY_EXPORT).glob("*.json")):
        paths.append(folder / f"{canary}-{source.name}")
        shutil.copy(source, paths[-1])
    # Cut short: its report names the file it could not read.
    empty = folder / f"{canary}-cut-short.json"
    empty.write_text('[{"ts": "2024-01-01T00:00:00Z", "ms_played": 1000, "master_metadata_track_name": ')
    tracks = _distinctive_tracks(samples_path(*CANARY_EXPORT), samples_path(*OTHER_EXPORT))
    needles = [canary.encode(), email.encode(), *(t.encode() for t in tracks)]

    with TestClient(keyed.app) as other:
        csrf = api_signup(other, "other@example.org")
        _upload(other, csrf, sorted(samples_path(*OTHER_EXPORT).glob("*.json")))
    with TestClient(keyed.app) as client:
        csrf = api_signup(client, email)
        accepted = _upload(client, csrf, paths)
        rejected = _upload(client, csrf, [empty])
        assert run_jobs(keyed.app) == 3
        assert client.get(f"/api/contributions/{accepted}").json()["status"] == "accepted"
        shown = client.get(f"/api/contributions/{rejected}").json()
        # The member reads their own file names in their reports (unsealed for them).
        assert shown["status"] == "rejected" and any(empty.name in r for r in shown["report"]["reasons"])
        assert client.get("/api/me").json()["email"] == email

        # The backup: the data folder without the master key, and the database's rows of this member.
        backup = keyed.tmp / "backup"
        shutil.copytree(keyed.db.settings.data_dir, backup, ignore=shutil.ignore_patterns(MASTER_KEY_FILE))
        with keyed.db.sessions() as session:
            member = session.scalars(select(Member).where(Member.email_lookup.is_not(None))).all()
            [mine] = [m for m in member if emails.email_of(session, keyed.db.settings, m) == email]
            member_id, pseudonym = mine.id, mine.pseudonym
            sealed_email, lookup = mine.email_sealed, mine.email_lookup
            wrapped = session.scalars(select(MemberKey.wrapped_key).where(MemberKey.member_id == member_id)).one()
        assert sealed_email is not None and wrapped is not None
        # While the master key lives, the backup opens: the test below can fail.
        old_master = keyed.db.settings.master_key
        key = unwrap(old_master, wrapped, member_key_context(member_id))
        assert crypto.decrypt_blob(key, sealed_email) == email.encode()
        assert Pool(backup / "pool").member_table(pseudonym, key).num_rows > 0
        assert lookup == emails.lookup_hash(old_master, email)

        token = form_token(client, "/withdraw")
        done = client.post("/withdraw", data={"confirm": "withdraw", "csrf_token": token})
        assert done.status_code == 200 and "Your data is erased" in done.text

    # The searches can find what they look for: a planted canary is found in every kind of place.
    schema = empty_db.schema
    planted = keyed.db.settings.data_dir / "planted.txt"
    planted.write_bytes(canary.encode())
    assert _hits([planted], needles) == [(str(planted), canary.encode())]
    planted.unlink()
    if keyed.db.kind == "postgresql":
        with keyed.db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE planted (t text)"))
            connection.execute(text("INSERT INTO planted VALUES (:t)"), {"t": canary})
        assert _hits(_database_files(keyed, schema), needles), "the relation files are not where they were sought"
        with keyed.db.engine.begin() as connection:
            connection.execute(text("DROP TABLE planted"))

    everywhere = _database_files(keyed, schema) + [
        p for root in (keyed.db.settings.data_dir, keyed.tmp / "tmp") for p in root.rglob("*") if p.is_file()
    ]
    assert len(everywhere) > 3
    assert _hits(everywhere, needles) == []
    assert [n for n in needles if n.lower() in _rows_text(keyed).lower()] == []
    logged = "\n".join([caplog.text, *(str(r.args) for r in caplog.records)]).encode().lower()
    assert [n for n in needles if n.lower() in logged] == []

    # The next rotation closes the backup for good: the only master key that exists no longer opens its key.
    with keyed.db.sessions() as session:
        rotation.rotate(session, keyed.db.settings)
    new_master = base64.b64decode((keyed.db.settings.data_dir / MASTER_KEY_FILE).read_text())
    assert new_master != old_master
    with pytest.raises(DecryptionFailed):
        unwrap(new_master, wrapped, member_key_context(member_id))
    old_text = base64.b64encode(old_master)
    assert not [p for p in keyed.db.settings.data_dir.rglob("*") if p.is_file() and old_text in p.read_bytes()]
    # And the backup's lookup hash can no longer be matched against a guessed address.
    assert lookup != emails.lookup_hash(new_master, email)
