"""Members' email addresses, never stored in plain: sealed with the member's own data key, found by a keyed hash.

Why: a deleted row survives in database pages, the SQLite WAL, PostgreSQL's WAL segments and every backup. What
those copies hold of an address is its ciphertext under the member's data key, which withdrawal destroys, and its
lookup hash, HMAC-SHA256 of the normalised address under a key derived from the master key: after the next
master-key rotation (which recomputes every live member's hash under the new key) no copy can even be matched
against a guessed address.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import crypto
from tutti.coop.errors import KeyDestroyed
from tutti.coop.models import Member
from tutti.coop.settings import CoopSettings

LOOKUP_CONTEXT = b"tutti-coop email lookup key"


def lookup_key(master_key: bytes) -> bytes:
    """The key of the lookup hashes, derived from (and rotated with) the master key."""
    return hmac.new(master_key, LOOKUP_CONTEXT, hashlib.sha256).digest()


def lookup_hash(master_key: bytes, address: str) -> str:
    """The lookup hash (hex) of an already normalised address."""
    return hmac.new(lookup_key(master_key), address.encode(), hashlib.sha256).hexdigest()


def set_email(session: Session, settings: CoopSettings, member: Member, address: str) -> None:
    """Give ``member`` the normalised ``address``: sealed with their key (made now if they have none) and hashed."""
    key = crypto.member_key(session, member, settings)
    member.email_sealed = crypto.encrypt_blob(key, address.encode())
    member.email_lookup = lookup_hash(settings.master_key, address)


def find_member(session: Session, settings: CoopSettings, address: str) -> Member | None:
    """The member whose normalised address this is, if any."""
    return session.scalars(
        select(Member).where(Member.email_lookup == lookup_hash(settings.master_key, address))
    ).one_or_none()


def email_of(session: Session, settings: CoopSettings, member: Member) -> str | None:
    """The member's address in plain (for the member themselves); None once withdrawn."""
    if member.email_sealed is None:
        return None
    try:
        key = crypto.member_key(session, member, settings)
    except KeyDestroyed:
        return None
    return crypto.decrypt_blob(key, member.email_sealed).decode()


def forget(member: Member) -> None:
    """Remove the address (its ciphertext and hash), as withdrawal does."""
    member.email_sealed = None
    member.email_lookup = None
    member.plain_email = None


def seal_plain_rows(session: Session, settings: CoopSettings) -> int:
    """Seal what databases from before sealing hold in plain: addresses, and contribution reports with the
    reasons they quote (``contributions.sealed_reports``). Idempotent; how many rows changed."""
    from tutti.coop.contributions import sealed_reports  # contributions depend on members, not the reverse

    changed = 0
    for member in session.scalars(select(Member).where(Member.plain_email.is_not(None))):
        address = member.plain_email
        assert address is not None
        member.plain_email = None
        session.flush()  # the unique address goes before its hash arrives
        if member.withdrawn_utc is None:
            set_email(session, settings, member, address)
        changed += 1
    changed += sealed_reports.seal_plain_reports(session, settings)
    session.flush()
    return changed


def recompute_lookups(session: Session, keys: dict[str, bytes], new_master_key: bytes) -> int:
    """Every live address's lookup hash under ``new_master_key`` (rotation), given the members' unwrapped data
    keys by member id; in the caller's transaction. How many."""
    members = list(session.scalars(select(Member).where(Member.email_sealed.is_not(None))))
    for member in members:
        assert member.email_sealed is not None
        address = crypto.decrypt_blob(keys[member.id], member.email_sealed).decode()
        member.email_lookup = lookup_hash(new_master_key, address)
    session.flush()
    return len(members)
