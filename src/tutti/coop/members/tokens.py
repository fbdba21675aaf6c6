"""API tokens for scripts: the secret is shown once at creation; the database keeps only its SHA-256 hash and a
short prefix to recognise it by in lists."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tutti.coop.errors import InvalidInput, NotFound, Unauthenticated
from tutti.coop.members.accounts import token_hash
from tutti.coop.models import ApiToken, Member, Status, utcnow

TOKEN_PREFIX = "tutti_"
# Enough of the token to tell tokens apart in a list, far too little to guess the rest.
DISPLAY_CHARS = len(TOKEN_PREFIX) + 6
MAX_NAME = 100
_USES = "tutti_api_token_uses"


def create_api_token(
    session: Session, member: Member, *, name: str = "", now: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``member``: (the stored row, the secret). The secret cannot be recovered later."""
    if member.status is Status.WITHDRAWN:
        raise InvalidInput("a withdrawn member cannot have API tokens")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"a token name has at most {MAX_NAME} characters")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        member_id=member.id,
        token_hash=token_hash(secret),
        prefix=secret[:DISPLAY_CHARS],
        name=name.strip(),
        created_utc=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row, secret


def member_for_api_token(session: Session, secret: str, *, now: datetime | None = None) -> Member:
    """The member a token belongs to (noting when it was last used); Unauthenticated for unknown or revoked ones."""
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(secret))).one_or_none()
    if row is None or row.revoked:
        raise Unauthenticated("unknown or revoked API token")
    member = session.get(Member, row.member_id)
    if member is None or member.status is Status.WITHDRAWN:
        raise Unauthenticated("unknown or revoked API token")
    _note_use(session, row, now or utcnow())
    return member


def _note_use(session: Session, row: ApiToken, when: datetime) -> None:
    """Record when the token was used with whatever the caller commits, and only then: set now, the change would
    be flushed by the caller's next query, so reading a page would write (and on SQLite queue behind every other
    writer for the lock, under load for seconds) only for the write to be rolled back."""
    uses: dict[int, tuple[ApiToken, datetime]] = session.info.setdefault(_USES, {})
    if not event.contains(session, "before_commit", _write_uses):
        event.listen(session, "before_commit", _write_uses)
    uses[row.id] = (row, when)


def _write_uses(session: Session) -> None:
    uses: dict[int, tuple[ApiToken, datetime]] = session.info.get(_USES, {})
    for row, when in uses.values():
        row.last_used_utc = when
    uses.clear()


def api_tokens(session: Session, member: Member) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.member_id == member.id).order_by(ApiToken.id)))


def revoke_api_token(session: Session, member: Member, token_id: int, *, now: datetime | None = None) -> ApiToken:
    """Revoke one of the member's own tokens (revoking twice keeps the first time)."""
    row = session.get(ApiToken, token_id)
    if row is None or row.member_id != member.id:
        raise NotFound("no such API token")
    if row.revoked_utc is None:
        row.revoked_utc = now or utcnow()
        session.flush()
    return row
