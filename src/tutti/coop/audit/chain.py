"""The audit log's chain: events (``events``) appended to a SHA-256 hash chain, each link signed with Ed25519.

The log stores exactly an event's fields as canonical JSON. A link's hash covers its sequence number, kind,
time, member id, payload and the previous link's hash; the cooperative row keeps the head of the chain, so
removing the newest links is detected too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tutti.coop._keywrap import load_signing_key
from tutti.coop.audit.events import EVENT_TYPES, Event
from tutti.coop.db import settings_of
from tutti.coop.errors import CoopError
from tutti.coop.models import GENESIS_HASH, AuditEvent, Cooperative, utcnow


def _plain(value: object) -> bool:
    # Floats only when finite: JSON has no NaN or infinity, and the payload must read back as it was hashed.
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, str | int | bool)


def _canonical_payload(event: Event) -> str:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        items = value if isinstance(value, tuple) else (value,)
        if not all(_plain(item) for item in items):
            raise TypeError(f"{type(event).__name__}.{f.name} must hold plain strings, numbers or flags")
        values[f.name] = value
    return orjson.dumps(values, option=orjson.OPT_SORT_KEYS).decode()


def link_hash(seq: int, kind: str, created_utc: datetime, member_id: str | None, payload: str, prev_hash: str) -> str:
    """The SHA-256 (hex) a link of the chain carries; anyone holding the rows can recompute it."""
    text = "\n".join(
        (str(seq), kind, created_utc.astimezone(UTC).isoformat(timespec="microseconds"), member_id or "", prev_hash)
    )
    return hashlib.sha256(text.encode() + b"\n" + payload.encode()).hexdigest()


def record(session: Session, event: Event, *, now: datetime | None = None) -> AuditEvent:
    """Append ``event`` to the log inside the caller's transaction; it is final when the caller commits."""
    if EVENT_TYPES.get(event.kind) is not type(event):
        raise TypeError(f"{type(event).__name__} is not a declared audit event")
    payload = _canonical_payload(event)
    # The update takes the cooperative row's lock (the write lock on SQLite): concurrent writers append in turn.
    head = session.execute(
        update(Cooperative)
        .where(Cooperative.id == 1)
        .values(audit_seq=Cooperative.audit_seq + 1)
        .returning(Cooperative.audit_seq, Cooperative.audit_head, Cooperative.signing_key_wrapped),
        execution_options={"synchronize_session": False},
    ).one_or_none()
    if head is None:
        raise CoopError("the cooperative is not set up yet: run `tutti coop init`")
    seq, prev_hash, wrapped = head
    created = (now or utcnow()).astimezone(UTC)
    digest = link_hash(seq, event.kind, created, event.subject(), payload, prev_hash)
    signature = load_signing_key(settings_of(session).master_key, wrapped).sign(bytes.fromhex(digest))
    row = AuditEvent(
        seq=seq,
        kind=event.kind,
        member_id=event.subject(),
        created_utc=created,
        payload=payload,
        prev_hash=prev_hash,
        hash=digest,
        signature=signature,
    )
    session.add(row)
    session.execute(
        update(Cooperative).where(Cooperative.id == 1).values(audit_head=digest),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    return row


class Link(Protocol):
    """What a link of the chain holds: a database row, or an entry read from the public log."""

    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def created_utc(self) -> datetime: ...
    @property
    def member_id(self) -> str | None: ...
    @property
    def payload(self) -> str: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...
    @property
    def signature(self) -> bytes: ...


def check_links(links: Iterable[Link], public_key: bytes) -> tuple[int | None, str, int]:
    """Walk links in order from the first: (the first bad sequence number or None, the last good hash, links seen).

    A link is bad when it is out of place (a gap, a repeat, a wrong previous hash), its hash is not the hash of its
    contents, or ``public_key`` did not sign it.
    """
    public = Ed25519PublicKey.from_public_bytes(public_key)
    prev_hash, expected = GENESIS_HASH, 1
    for link in links:
        if link.seq != expected or link.prev_hash != prev_hash:
            return expected, prev_hash, expected - 1
        digest = link_hash(link.seq, link.kind, link.created_utc, link.member_id, link.payload, link.prev_hash)
        if digest != link.hash:
            return link.seq, prev_hash, expected - 1
        try:
            public.verify(link.signature, bytes.fromhex(link.hash))
        except InvalidSignature:
            return link.seq, prev_hash, expected - 1
        prev_hash, expected = link.hash, expected + 1
    return None, prev_hash, expected - 1


def verify_chain(session: Session, *, public_key: bytes | None = None) -> tuple[bool, int | None]:
    """(True, None) when every link is intact, signed and the chain ends at the recorded head; else (False, the
    sequence number of the first link that is altered, missing or out of place).

    Signatures are checked with ``public_key`` when given (a key pinned outside the database, as
    ``tutti.coop.audit.transparency`` does), else with the key the database holds.
    """
    coop = session.execute(select(Cooperative.signing_public_key, Cooperative.audit_seq, Cooperative.audit_head)).one()
    # Streamed in batches (a server-side cursor on PostgreSQL): the log grows with every action.
    rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000))
    try:
        first_bad, head, seen = check_links(rows, public_key if public_key is not None else coop.signing_public_key)
    finally:
        rows.close()
    if first_bad is not None:
        return False, first_bad
    if coop.audit_seq != seen or coop.audit_head != head:
        return False, min(coop.audit_seq, seen) + 1
    return True, None


def load_event(row: AuditEvent) -> Event:
    """The typed event a log row holds."""
    cls = EVENT_TYPES[row.kind]
    values = orjson.loads(row.payload)
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def events_about(session: Session, member_id: str) -> list[AuditEvent]:
    """Every link that concerns one member, oldest first: what they see under "every use of my data"."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.member_id == member_id).order_by(AuditEvent.seq)))
