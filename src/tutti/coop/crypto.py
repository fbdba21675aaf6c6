"""Members' data keys: each member's blobs are sealed with their own AES-256-GCM key, stored wrapped by the
server master key. Destroying that wrapped key makes every blob of the member unreadable, wherever copies are.

Blob layout: one version byte, a 12-byte nonce, then ciphertext and tag.
"""

from __future__ import annotations

import os
from datetime import datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import audit
from tutti.coop._keywrap import NONCE_BYTES, load_signing_key, member_key_context, new_signing_key, unwrap, wrap
from tutti.coop.errors import DecryptionFailed, KeyDestroyed
from tutti.coop.models import Member, MemberKey, utcnow
from tutti.coop.settings import CoopSettings

__all__ = [
    "decrypt_blob",
    "destroy_member_key",
    "encrypt_blob",
    "key_destroyed",
    "load_signing_key",
    "member_key",
    "new_data_key",
    "new_signing_key",
]

BLOB_VERSION = b"\x01"
BLOB_CONTEXT = b"tutti-coop blob v1"


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def encrypt_blob(member_key: bytes, data: bytes) -> bytes:
    """``data`` sealed with the member's key (a fresh nonce each time)."""
    nonce = os.urandom(NONCE_BYTES)
    return BLOB_VERSION + nonce + AESGCM(member_key).encrypt(nonce, data, BLOB_CONTEXT)


def decrypt_blob(member_key: bytes, blob: bytes) -> bytes:
    """The plain bytes of a blob; DecryptionFailed for the wrong key, altered bytes or an unknown layout."""
    if blob[:1] != BLOB_VERSION or len(blob) < 1 + NONCE_BYTES + 16:
        raise DecryptionFailed("not a blob sealed by this cooperative")
    try:
        return AESGCM(member_key).decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], BLOB_CONTEXT)
    except InvalidTag:
        raise DecryptionFailed(
            "the blob does not open with this key (wrong member, destroyed key or altered bytes)"
        ) from None


def member_key(session: Session, member: Member, settings: CoopSettings, *, now: datetime | None = None) -> bytes:
    """The member's data key, unwrapped; made on first use. KeyDestroyed once it was destroyed."""
    row = session.scalars(select(MemberKey).where(MemberKey.member_id == member.id)).one_or_none()
    if row is None:
        key = new_data_key()
        session.add(
            MemberKey(
                member_id=member.id,
                wrapped_key=wrap(settings.master_key, key, member_key_context(member.id)),
                created_utc=now or utcnow(),
            )
        )
        session.flush()
        return key
    if row.wrapped_key is None or row.destroyed_utc is not None:
        raise KeyDestroyed("this member's data key was destroyed; their data cannot be read any more")
    return unwrap(settings.master_key, row.wrapped_key, member_key_context(member.id))


def key_destroyed(session: Session, member: Member) -> bool:
    """Whether the member's data key was destroyed (their sealed data is then unreadable everywhere)."""
    row = session.scalars(select(MemberKey).where(MemberKey.member_id == member.id)).one_or_none()
    return row is not None and row.wrapped_key is None and row.destroyed_utc is not None


def destroy_member_key(session: Session, member: Member, *, now: datetime | None = None) -> None:
    """Wipe the member's wrapped key for good (recording when, and the event in the audit log).

    A member who never had a key gets a destroyed marker, so no key can be made for them afterwards.
    """
    when = now or utcnow()
    row = session.scalars(select(MemberKey).where(MemberKey.member_id == member.id)).one_or_none()
    if row is None:
        row = MemberKey(member_id=member.id, wrapped_key=None, created_utc=when)
        session.add(row)
    elif row.destroyed_utc is not None:
        return
    row.wrapped_key = None
    row.destroyed_utc = when
    session.flush()
    audit.record(session, audit.KeyDestroyed(member_id=member.id), now=when)
