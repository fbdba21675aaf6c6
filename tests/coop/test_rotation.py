"""Master-key rotation: every key wrapped anew, the old key destroyed, backups from before unopenable, a crash at
any step settled; and the server refusing a master key that is not the database's."""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.conftest import samples_path
from tests.coop.conftest import CoopDb, EmptyDb, give, join
from tutti.coop import audit, crypto, rotation
from tutti.coop._keywrap import master_key_id, member_key_context, unwrap
from tutti.coop.bootstrap import create_cooperative
from tutti.coop.db import session_factory, upgrade
from tutti.coop.errors import ConfigError, DecryptionFailed
from tutti.coop.members import accounts, emails
from tutti.coop.members.withdrawal import withdraw
from tutti.coop.models import AuditEvent, Cooperative, Member, MemberKey
from tutti.coop.pool.files import pool_of
from tutti.coop.settings import MASTER_KEY, MASTER_KEY_FILE, CoopSettings, create_master_key_file

EXPORT = ("spotify-extended", "mica-92", "Streaming_History_Audio_2024_4.json")


def _settings(data_dir: Path, url: str, key: bytes) -> CoopSettings:
    return CoopSettings(data_dir=data_dir, database_url=url, master_key=key, session_secret=os.urandom(32))


@pytest.fixture
def keyed(empty_db: EmptyDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CoopDb:
    """A cooperative whose master key lives in its key file, as `tutti coop init` leaves it."""
    monkeypatch.delenv(MASTER_KEY.env, raising=False)
    data_dir = tmp_path / "coop"
    key = base64.b64decode(create_master_key_file(data_dir).read_text())
    settings = _settings(data_dir, empty_db.url, key)
    upgrade(empty_db.engine)
    sessions = session_factory(empty_db.engine, settings)
    with sessions.begin() as session:
        create_cooperative(session, settings, "Rotating cooperative")
        rotation.check_key_matches(session, key)
    return CoopDb(empty_db.kind, empty_db.engine, sessions, settings)


def _rotate(db: CoopDb) -> tuple[CoopDb, rotation.Rotation]:
    with db.sessions() as session:
        done = rotation.rotate(session, db.settings)
    key = base64.b64decode((db.settings.data_dir / MASTER_KEY_FILE).read_text())
    settings = _settings(db.settings.data_dir, db.settings.database_url, key)
    return CoopDb(db.kind, db.engine, session_factory(db.engine, settings), settings), done


def _files_hold(folder: Path, needle: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.mark.samples
def test_a_rotation_rewraps_every_key_and_destroys_the_old_one(keyed: CoopDb) -> None:
    member_id = join(keyed, "rotate@example.org")
    report = give(keyed, member_id, [samples_path(*EXPORT)])
    old_key = keyed.settings.master_key
    old_text = base64.b64encode(old_key)
    rotated, done = _rotate(keyed)
    assert (done.generation, done.member_keys, done.old_key_destroyed) == (2, 1, True)
    assert rotated.settings.master_key != old_key
    # Nothing of the old key is left in the data folder; the new one is private.
    assert not _files_hold(keyed.settings.data_dir, old_text)
    assert ((keyed.settings.data_dir / MASTER_KEY_FILE).stat().st_mode & 0o777) == 0o600
    with rotated.sessions.begin() as session:
        member = session.get_one(Member, member_id)
        key = crypto.member_key(session, member, rotated.settings)
        # The member's data opens with the key as it is now wrapped; the log goes on signing and verifying.
        assert pool_of(rotated.settings).member_table(member.pseudonym, key).num_rows == report.plays_added
        audit.record(session, audit.MemberExported(member_id=member_id, contributions=1))
    with rotated.sessions() as session:
        assert audit.verify_chain(session) == (True, None)
        coop = session.scalars(select(Cooperative)).one()
        assert (coop.master_key_generation, coop.master_key_id) == (2, master_key_id(rotated.settings.master_key))
        events = session.scalars(select(AuditEvent.payload).where(AuditEvent.kind == "master-key-rotated")).all()
        assert events == ['{"generation":2}']


@pytest.mark.samples
def test_a_backup_made_before_a_withdrawal_cannot_be_opened_after_the_next_rotation(
    keyed: CoopDb, tmp_path: Path
) -> None:
    leaving = join(keyed, "leaving@example.org")
    give(keyed, leaving, [samples_path(*EXPORT)])
    # The backup: the database's key rows and every file of the data folder but the master key, which is kept
    # apart (the README's backup policy).
    with keyed.sessions() as session:
        wrapped = session.scalars(select(MemberKey.wrapped_key).where(MemberKey.member_id == leaving)).one()
    assert wrapped is not None
    backup = tmp_path / "backup"
    shutil.copytree(keyed.settings.data_dir, backup, ignore=shutil.ignore_patterns(MASTER_KEY_FILE))
    with keyed.sessions() as session:
        withdraw(session, keyed.settings, session.get_one(Member, leaving))
    # Until the rotation, the master key still opens the member key the backup holds.
    assert unwrap(keyed.settings.master_key, wrapped, member_key_context(leaving))
    rotated, _ = _rotate(keyed)
    with pytest.raises(DecryptionFailed):
        unwrap(rotated.settings.master_key, wrapped, member_key_context(leaving))
    # And the old master key exists nowhere the cooperative keeps anything.
    old_text = base64.b64encode(keyed.settings.master_key)
    assert not _files_hold(keyed.settings.data_dir, old_text) and not _files_hold(backup, old_text)


def test_a_crash_before_the_commit_leaves_the_old_key_in_force(keyed: CoopDb) -> None:
    pending = keyed.settings.data_dir / (MASTER_KEY_FILE + rotation.NEW_SUFFIX)
    pending.write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    rotation.settle(keyed.engine, keyed.settings.data_dir)
    assert not pending.exists()
    assert base64.b64decode((keyed.settings.data_dir / MASTER_KEY_FILE).read_text()) == keyed.settings.master_key
    with keyed.sessions.begin() as session:
        rotation.check_key_matches(session, keyed.settings.master_key)


def test_a_crash_after_the_commit_is_finished_when_the_cooperative_opens(
    keyed: CoopDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = keyed.settings.data_dir / MASTER_KEY_FILE
    real_replace = Path.replace

    def crash(self: Path, target: Path) -> Path:
        if self == key_file:
            raise KeyboardInterrupt("killed between the commit and the rename")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", crash)
    with keyed.sessions() as session, pytest.raises(KeyboardInterrupt):
        rotation.rotate(session, keyed.settings)
    monkeypatch.setattr(Path, "replace", real_replace)
    # The database now expects the new key, which waits in master.key.new; opening settles it.
    with keyed.sessions.begin() as session, pytest.raises(ConfigError):
        rotation.check_key_matches(session, keyed.settings.master_key)
    rotation.settle(keyed.engine, keyed.settings.data_dir)
    new_key = base64.b64decode(key_file.read_text())
    assert new_key != keyed.settings.master_key
    assert not list(keyed.settings.data_dir.glob(MASTER_KEY_FILE + ".*"))
    with Session(keyed.engine) as session:
        rotation.check_key_matches(session, new_key)


def test_a_failed_rotation_changes_nothing(keyed: CoopDb, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(audit, "record", refuse)
    with keyed.sessions() as session, pytest.raises(RuntimeError):
        rotation.rotate(session, keyed.settings)
    assert sorted(p.name for p in keyed.settings.data_dir.glob(MASTER_KEY_FILE + "*")) == [MASTER_KEY_FILE]
    with keyed.sessions.begin() as session:
        rotation.check_key_matches(session, keyed.settings.master_key)


def test_a_server_refuses_a_master_key_that_is_not_the_databases(keyed: CoopDb) -> None:
    with keyed.sessions() as session, pytest.raises(ConfigError, match="not the one"):
        rotation.check_key_matches(session, os.urandom(32))


def test_with_the_key_in_the_environment_the_new_key_goes_to_the_named_file(
    keyed: CoopDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MASTER_KEY.env, base64.b64encode(keyed.settings.master_key).decode())
    with keyed.sessions() as session, pytest.raises(ConfigError, match="--out"):
        rotation.rotate(session, keyed.settings)
    out = tmp_path / "new.key"
    with keyed.sessions() as session:
        done = rotation.rotate(session, keyed.settings, out=out)
    assert done.key_file == out and not done.old_key_destroyed and (out.stat().st_mode & 0o777) == 0o600
    with Session(keyed.engine) as session:
        rotation.check_key_matches(session, base64.b64decode(out.read_text()))
        with pytest.raises(ConfigError):
            rotation.check_key_matches(session, keyed.settings.master_key)


def test_the_sqlite_database_is_created_private(tmp_path: Path) -> None:
    from tutti.coop.db import make_engine

    folder = tmp_path / "open"
    folder.mkdir(mode=0o777)
    os.chmod(folder, 0o777)
    engine = make_engine(f"sqlite:///{folder / 'coop.sqlite'}")
    try:
        upgrade(engine)
        with engine.connect() as connection:
            connection.execute(text("SELECT count(*) FROM member")).all()
            # While a connection is open the write-ahead log exists, and it is as private as the database.
            for name in ("coop.sqlite", "coop.sqlite-wal", "coop.sqlite-shm"):
                assert (folder / name).stat().st_mode & 0o077 == 0, name
    finally:
        engine.dispose()


def test_after_a_rotation_members_still_log_in_by_an_address_hashed_under_the_new_key(keyed: CoopDb) -> None:
    member_id = join(keyed, "Rotate.Login@example.org")
    with keyed.sessions() as session:
        before = session.get_one(Member, member_id).email_lookup
    rotated, _ = _rotate(keyed)
    with rotated.sessions.begin() as session:
        member, _token, _csrf = accounts.login(session, "rotate.login@example.org", "a long enough passphrase")
        assert member.id == member_id
        assert member.email_lookup != before
        assert member.email_lookup == emails.lookup_hash(rotated.settings.master_key, "rotate.login@example.org")
        assert emails.email_of(session, rotated.settings, member) == "rotate.login@example.org"
