"""Members' data keys: wrapping under the master key, sealed blobs, and erasure by destroying the key."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select, text

from tests.coop.conftest import CoopDb
from tutti.coop import audit, crypto
from tutti.coop._keywrap import member_key_context, unwrap
from tutti.coop.errors import DecryptionFailed, KeyDestroyed
from tutti.coop.members import accounts
from tutti.coop.models import Member, MemberKey
from tutti.coop.settings import CoopSettings

PASSWORD = "a long enough password"


def _member(db: CoopDb, email: str = "ana@example.org") -> Member:
    with db.sessions.begin() as session:
        return accounts.signup(session, email, PASSWORD)


def test_a_blob_round_trips_and_each_sealing_differs() -> None:
    key = crypto.new_data_key()
    data = os.urandom(100_000)
    first, second = crypto.encrypt_blob(key, data), crypto.encrypt_blob(key, data)
    assert first != second and data not in first
    assert crypto.decrypt_blob(key, first) == crypto.decrypt_blob(key, second) == data
    assert crypto.decrypt_blob(key, crypto.encrypt_blob(key, b"")) == b""


@pytest.mark.parametrize("damage", ["wrong-key", "flipped-bit", "truncated", "not-a-blob"])
def test_a_damaged_blob_or_the_wrong_key_is_refused(damage: str) -> None:
    key = crypto.new_data_key()
    blob = crypto.encrypt_blob(key, b"plays")
    if damage == "wrong-key":
        key = crypto.new_data_key()
    elif damage == "flipped-bit":
        blob = blob[:-1] + bytes([blob[-1] ^ 1])
    elif damage == "truncated":
        blob = blob[:20]
    else:
        blob = b"PAR1" + blob
    with pytest.raises(DecryptionFailed):
        crypto.decrypt_blob(key, blob)


def test_member_keys_are_stored_wrapped_and_stay_the_same(coop_db: CoopDb) -> None:
    ana = _member(coop_db)
    with coop_db.sessions.begin() as session:
        key = crypto.member_key(session, ana, coop_db.settings)
    with coop_db.sessions() as session:
        assert crypto.member_key(session, ana, coop_db.settings) == key
        wrapped = session.scalars(select(MemberKey.wrapped_key).where(MemberKey.member_id == ana.id)).one()
        assert wrapped is not None and key not in wrapped
        assert unwrap(coop_db.settings.master_key, wrapped, member_key_context(ana.id)) == key


def test_a_wrapped_key_opens_only_for_its_member_and_master_key(coop_db: CoopDb) -> None:
    ana, ben = _member(coop_db), _member(coop_db, "ben@example.org")
    with coop_db.sessions.begin() as session:
        crypto.member_key(session, ana, coop_db.settings)
    with coop_db.sessions() as session:
        wrapped = session.scalars(select(MemberKey.wrapped_key).where(MemberKey.member_id == ana.id)).one()
        assert wrapped is not None
        with pytest.raises(DecryptionFailed, match="master key"):
            unwrap(coop_db.settings.master_key, wrapped, member_key_context(ben.id))
        other = CoopSettings(
            data_dir=coop_db.settings.data_dir,
            database_url=coop_db.settings.database_url,
            master_key=os.urandom(32),
            session_secret=os.urandom(32),
        )
        with pytest.raises(DecryptionFailed):
            crypto.member_key(session, ana, other)


def test_destroying_the_key_makes_old_blobs_unreadable_for_good(coop_db: CoopDb) -> None:
    ana = _member(coop_db)
    with coop_db.sessions.begin() as session:
        blob = crypto.encrypt_blob(crypto.member_key(session, ana, coop_db.settings), b"ana's plays")
    with coop_db.sessions.begin() as session:
        crypto.destroy_member_key(session, session.get_one(Member, ana.id))
    with coop_db.sessions() as session:
        row = session.scalars(select(MemberKey).where(MemberKey.member_id == ana.id)).one()
        assert row.wrapped_key is None and row.destroyed_utc is not None
        with pytest.raises(KeyDestroyed):
            crypto.member_key(session, ana, coop_db.settings)
        # Nothing left in the row could open the blob, not even with the master key.
        stored = session.execute(
            text("SELECT wrapped_key FROM member_key WHERE member_id = :id"), {"id": ana.id}
        ).scalar()
        assert stored is None
        with pytest.raises(DecryptionFailed):
            crypto.decrypt_blob(crypto.new_data_key(), blob)
        assert [e.kind for e in audit.events_about(session, ana.id)][-1] == "key-destroyed"
        assert audit.verify_chain(session) == (True, None)


def test_a_member_without_a_key_can_have_none_made_after_destruction(coop_db: CoopDb) -> None:
    ana = _member(coop_db)
    with coop_db.sessions.begin() as session:
        crypto.destroy_member_key(session, ana)
        crypto.destroy_member_key(session, ana)
    with coop_db.sessions() as session:
        with pytest.raises(KeyDestroyed):
            crypto.member_key(session, ana, coop_db.settings)
        assert [e.kind for e in audit.events_about(session, ana.id)].count("key-destroyed") == 1


def test_the_log_signing_key_is_stored_wrapped(coop_db: CoopDb) -> None:
    with coop_db.sessions() as session:
        public, wrapped = session.execute(text("SELECT signing_public_key, signing_key_wrapped FROM cooperative")).one()
        private = crypto.load_signing_key(coop_db.settings.master_key, bytes(wrapped))
        assert private.public_key().public_bytes_raw() == bytes(public)
        assert len(bytes(wrapped)) > 32
