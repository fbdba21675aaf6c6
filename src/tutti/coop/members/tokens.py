"""API tokens for scripts: the secret is shown once at creation; the database keeps only its SHA-256 hash and a
short prefix to recognise it by in lists.

A token carries scopes (``SCOPES``) and an expiry, so the token a laptop uses for uploads cannot also export the
member's data, make more tokens or withdraw the member: a stolen one does as little harm as it can, for as short
a time as the member chose. Tokens made before scopes existed hold every scope and never expire (they keep
working as they did); a member replaces them with narrower ones at will.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

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
DEFAULT_DAYS = 90
MAX_DAYS = 365


@dataclass(frozen=True)
class Scope:
    name: str
    description: str


CONTRIBUTE = Scope("contribute", "Upload exports and follow their validation: all that `tutti coop contribute` needs.")
READ = Scope(
    "read",
    "Read the member's own data: profile, contributions, pool share, data uses, waitlist place (and, for "
    "stewards, the stewards' views).",
)
ACCOUNT = Scope(
    "account",
    "Act on the account: make, list and revoke tokens, export all the member's data, withdraw (and, for "
    "stewards, change the cooperative's settings).",
)
SCOPES: tuple[Scope, ...] = (CONTRIBUTE, READ, ACCOUNT)
SCOPE_NAMES = tuple(scope.name for scope in SCOPES)


@dataclass(frozen=True)
class TokenAuth:
    member: Member
    scopes: frozenset[str]


def _scopes(names: Iterable[str]) -> str:
    chosen = sorted(set(names), key=lambda name: SCOPE_NAMES.index(name) if name in SCOPE_NAMES else -1)
    unknown = [name for name in chosen if name not in SCOPE_NAMES]
    if unknown:
        raise InvalidInput(f"unknown token scope {unknown[0]!r}; the scopes are {', '.join(SCOPE_NAMES)}")
    if not chosen:
        raise InvalidInput(f"a token needs at least one scope: {', '.join(SCOPE_NAMES)}")
    return " ".join(chosen)


def create_api_token(
    session: Session,
    member: Member,
    *,
    name: str = "",
    scopes: Iterable[str] = (CONTRIBUTE.name,),
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``member`` with ``scopes``, valid ``days``: (the stored row, the secret). The secret cannot
    be recovered later."""
    if member.status is Status.WITHDRAWN:
        raise InvalidInput("a withdrawn member cannot have API tokens")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"a token name has at most {MAX_NAME} characters")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"a token lasts from 1 to {MAX_DAYS} days")
    granted = _scopes(scopes)
    when = now or utcnow()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        member_id=member.id,
        token_hash=token_hash(secret),
        prefix=secret[:DISPLAY_CHARS],
        name=name.strip(),
        created_utc=when,
        scopes=granted,
        expires_utc=when + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    return row, secret


def authenticate(session: Session, secret: str, *, now: datetime | None = None) -> TokenAuth:
    """The member a token belongs to and the token's scopes (noting when it was last used); Unauthenticated for
    unknown, revoked or expired tokens."""
    when = now or utcnow()
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(secret))).one_or_none()
    if row is None or row.revoked:
        raise Unauthenticated("unknown or revoked API token")
    if row.expires_utc is not None and row.expires_utc <= when:
        raise Unauthenticated("the API token has expired; make a new one")
    member = session.get(Member, row.member_id)
    if member is None or member.status is Status.WITHDRAWN:
        raise Unauthenticated("unknown or revoked API token")
    _note_use(session, row, when)
    return TokenAuth(member, frozenset(row.scope_names))


def member_for_api_token(session: Session, secret: str, *, now: datetime | None = None) -> Member:
    """The member a token belongs to, whatever its scopes (see ``authenticate``)."""
    return authenticate(session, secret, now=now).member


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
