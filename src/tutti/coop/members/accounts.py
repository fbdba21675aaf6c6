"""Accounts: signup, login sessions (with a CSRF secret each), logout and roles.

Addresses are sealed and found by a keyed hash (``emails``). Passwords are hashed with Argon2id at the cost the
cooperative's settings name (``password_time_cost``, ``password_memory_kib``); a hash made at another cost is
redone at the member's next login. Session tokens are
stored as SHA-256 hashes only, so a copy of the database lets nobody log in. Every login failure reads the same,
and takes about as long, whether the email exists or not: an unknown email is checked against a decoy hash of
the same cost.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tutti.coop import audit, ratelimit
from tutti.coop.actions import SET_ROLE, SIGNUP, require
from tutti.coop.db import lock_cooperative, settings_of
from tutti.coop.errors import Conflict, CsrfMismatch, InvalidInput, NotFound, Unauthenticated
from tutti.coop.members import devices, emails, waitlist
from tutti.coop.members.passwords import check_password
from tutti.coop.models import LoginSession, Member, Role, Status, WaitlistEntry, new_id, utcnow

MAX_EMAIL = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
WRONG_CREDENTIALS = "email or password is wrong"
FORM_EXPIRED = "the form has expired; reload the page and try again"


@functools.cache
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def password_hasher(session: Session) -> PasswordHasher:
    """The Argon2id hasher at the cost set for the cooperative this session belongs to."""
    settings = settings_of(session)
    return _hasher(settings.password_time_cost, settings.password_memory_kib)


@functools.cache
def _decoy_hash(hasher: PasswordHasher) -> str:
    # Verified against when the email is unknown, so that case costs as much time as a wrong password.
    return hasher.hash(secrets.token_hex(16))


def token_hash(token: str) -> str:
    """SHA-256 of a high-entropy token: enough to look it up, useless to log in with."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    address = email.strip().lower()
    if len(address) > MAX_EMAIL or not _EMAIL.match(address):
        raise InvalidInput("that is not an email address")
    return address


def create_member(
    session: Session,
    email: str,
    password: str,
    *,
    role: Role = Role.MEMBER,
    now: datetime | None = None,
    hashed: str | None = None,
    confirmed: bool = True,
) -> Member:
    """A new waitlisted member (not yet placed, not yet audited): the shared first step of signup and init.

    ``hashed`` is the password's hash when the caller checked and hashed it already (``register``); an account
    not ``confirmed`` cannot log in until its address is (``confirm_email``)."""
    address = normalise_email(email)
    settings = settings_of(session)
    if hashed is None:
        check_password(password, email=address)
        hashed = password_hasher(session).hash(password)
    if _exists(session, address):
        raise Conflict("an account with this email already exists")
    when = now or utcnow()
    member = Member(
        id=new_id(), password_hash=hashed, role=role, created_utc=when, email_confirmed_utc=when if confirmed else None
    )
    session.add(member)
    try:
        emails.set_email(session, settings, member, address)
        session.flush()
    except IntegrityError:
        # Another signup with the same address won the race; the caller rolls back, as after any refusal.
        raise Conflict("an account with this email already exists") from None
    return member


def _exists(session: Session, address: str) -> bool:
    return emails.find_member(session, settings_of(session), address) is not None


def register(
    session: Session, email: str, password: str, *, client: str | None = None, now: datetime | None = None
) -> tuple[Member, bool]:
    """Signup as the web offers it, which must not tell whether an email has an account: (the member the address
    belongs to, whether it waits for its address to be confirmed). A new account waits; so does one that never
    confirmed, which takes the new password (the link mailed now is the one that counts: ``confirmation_token``
    binds a link to the password). For a confirmed account nothing changes. The caller mails the address either
    a confirmation link or a word to its owner, and answers the same. A new account takes no place of the day
    and joins no queue until its address is confirmed (``confirm_email`` places it).

    Both ways do the same work that takes time: the rate limit, the password's checks and its hash.
    """
    require(SIGNUP, None)
    when = now or utcnow()
    if client is not None:
        ratelimit.hit(session, "signup-client", client, now=when)
    address = normalise_email(email)
    check_password(password, email=address)
    hashed = password_hasher(session).hash(password)
    # Signups take turns from here (places are counted under this lock anyway). On SQLite this also opens the
    # transaction as a writer: begun by the savepoint below and reading before it writes, it could not become one
    # once another process had written meanwhile ("database is locked" at once, without waiting).
    lock_cooperative(session)
    owner = emails.find_member(session, settings_of(session), address)
    if owner is not None:
        waiting = owner.email_confirmed_utc is None and owner.status is not Status.WITHDRAWN
        if waiting:
            # An account never confirmed counts from its latest signup: its new link lasts as long as the first.
            owner.password_hash, owner.created_utc = hashed, when
        return owner, waiting
    try:
        with session.begin_nested():
            member = create_member(session, address, password, now=when, hashed=hashed, confirmed=False)
    except Conflict:
        # The same address signed up at this very moment: taken, like any other.
        return session.get_one(Member, _member_id_of(session, address)), False
    # Not placed yet: a place of the day (or in the queue) goes to an address that is confirmed, so addresses
    # nobody reads cannot fill the day's capacity (``confirm_email`` places the member).
    return member, True


def _member_id_of(session: Session, address: str) -> str:
    found = emails.find_member(session, settings_of(session), address)
    if found is None:
        raise Conflict("an account with this email already exists")
    return found.id


def signup(
    session: Session, email: str, password: str, *, client: str | None = None, now: datetime | None = None
) -> Member:
    """Create an account: active at once while today's capacity lasts, otherwise waitlisted (FIFO).

    ``client`` (the web layer's client address) is only used, keyed and hashed, for rate limiting.
    """
    require(SIGNUP, None)
    when = now or utcnow()
    if client is not None:
        ratelimit.hit(session, "signup-client", client, now=when)
    member = create_member(session, email, password, now=when)
    waitlist.place(session, member, now=when)
    return member


CONFIRM_DAYS = 7
BAD_LINK = "this confirmation link is not valid, or has expired: sign up again for a new one"


def _confirmation_signature(secret: bytes, member: Member, expires: int) -> str:
    message = f"confirm\x00{member.id}\x00{expires}\x00{member.password_hash or ''}"
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def confirmation_token(session: Session, member: Member, *, now: datetime | None = None) -> str:
    """What the link mailed at signup carries: the member's id, an expiry and an HMAC under the session secret of
    both and of the password's hash, so a later signup's new password makes earlier links worthless."""
    expires = int(((now or utcnow()) + timedelta(days=CONFIRM_DAYS)).timestamp())
    return f"{member.id}.{expires}.{_confirmation_signature(settings_of(session).session_secret, member, expires)}"


def confirm_email(session: Session, token: str, *, now: datetime | None = None) -> Member:
    """Confirm the address of the account ``token`` names (again: a no-op); InvalidInput for a link that is not
    one of ours, is out of date or belongs to a withdrawn account."""
    when = now or utcnow()
    member_id, _, rest = token.partition(".")
    expires, _, signature = rest.partition(".")
    member = session.get(Member, member_id) if member_id and expires.isdigit() else None
    if member is None or member.status is Status.WITHDRAWN or int(expires) < when.timestamp():
        raise InvalidInput(BAD_LINK)
    expected = _confirmation_signature(settings_of(session).session_secret, member, int(expires))
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise InvalidInput(BAD_LINK)
    if member.email_confirmed_utc is None:
        lock_cooperative(session)  # confirmations and signups take places in turn
        member.email_confirmed_utc = when
        session.flush()
        if not waitlist.placed(session, member):
            waitlist.place(session, member, now=when)
    return member


def login(
    session: Session,
    email: str,
    password: str,
    *,
    client: str | None = None,
    device: str | None = None,
    now: datetime | None = None,
) -> tuple[Member, str, str]:
    """(member, session token, CSRF token) for a right email and password; Unauthenticated otherwise.

    Attempts from a device that has logged in to this account before (``device``, its signed cookie) count
    against that device's own limit; all others against the account's limit and, when ``client`` is given, the
    client's. So strangers spending the account's attempts cannot lock its owner out (``devices``). Past a
    limit's allowed failures in a row, each attempt waits, twice as long after each further failure
    (``ratelimit.attempt``); a success clears the account's (or device's) failures.
    """
    when = now or utcnow()
    address = email.strip().lower()
    member = emails.find_member(session, settings_of(session), address)
    known = devices.recognised(settings_of(session).session_secret, member.id, device) if member else None
    account: list[ratelimit.Bucket] = [("login-device", known) if known is not None else ("login-email", address)]
    clients: list[ratelimit.Bucket] = [("login-client", client)] if client is not None and known is None else []
    ratelimit.attempt(session, [*account, *clients], now=when)
    stored = member.password_hash if member is not None and member.password_hash else None
    hasher = password_hasher(session)
    try:
        hasher.verify(stored or _decoy_hash(hasher), password)
    except (VerificationError, InvalidHashError):
        raise Unauthenticated(WRONG_CREDENTIALS) from None
    # An address never confirmed answers as a wrong password does: a login says nothing of who signed up.
    if member is None or stored is None or member.status is Status.WITHDRAWN or member.email_confirmed_utc is None:
        raise Unauthenticated(WRONG_CREDENTIALS)
    ratelimit.succeeded(session, forget=account, give_back=clients, now=when)
    if hasher.check_needs_rehash(stored):
        member.password_hash = hasher.hash(password)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    hours = settings_of(session).session_hours
    session.add(
        LoginSession(
            token_hash=token_hash(token),
            member_id=member.id,
            created_utc=when,
            expires_utc=when + timedelta(hours=hours),
            csrf_secret=csrf,
        )
    )
    session.flush()
    return member, token, csrf


def login_session(session: Session, token: str, *, now: datetime | None = None) -> LoginSession:
    """The live login session of ``token``; Unauthenticated if there is none or it expired.

    Only reads, so a request can still count rate limits afterwards (``purge_expired_sessions`` tidies up).
    """
    row = session.scalars(select(LoginSession).where(LoginSession.token_hash == token_hash(token))).one_or_none()
    if row is None:
        raise Unauthenticated("not logged in")
    if row.expires_utc <= (now or utcnow()):
        raise Unauthenticated("the login has expired; log in again")
    return row


def member_for_session(session: Session, token: str, *, now: datetime | None = None) -> Member:
    row = login_session(session, token, now=now)
    member = session.get(Member, row.member_id)
    if member is None or member.status is Status.WITHDRAWN:
        raise Unauthenticated("not logged in")
    return member


def check_csrf_token(expected: str, sent: str | None) -> None:
    """The one CSRF comparison (constant-time): CsrfMismatch when ``sent`` is missing or not ``expected``."""
    if not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise CsrfMismatch(FORM_EXPIRED)


def check_csrf(session: Session, token: str, csrf: str | None, *, now: datetime | None = None) -> Member:
    """The member of a state-changing request whose CSRF token matches its login session.

    Unauthenticated without a live login; CsrfMismatch (a refusal, not a missing login) for a wrong token.
    """
    row = login_session(session, token, now=now)
    check_csrf_token(row.csrf_secret, csrf)
    return member_for_session(session, token, now=now)


def logout(session: Session, token: str) -> None:
    """End one login session (a no-op for an unknown token)."""
    session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))


def logout_everywhere(session: Session, member: Member) -> None:
    session.execute(delete(LoginSession).where(LoginSession.member_id == member.id))


def purge_unconfirmed(session: Session, *, now: datetime | None = None) -> list[str]:
    """Delete the accounts whose address was never confirmed and whose link has expired (``CONFIRM_DAYS`` after
    their latest signup), with their sealed address and key; the ids deleted, for the caller to delete the mail
    kept about them once this commits. Only accounts never placed go: no place of the day, no queue, no role but
    member's (a confirmation places them, ``confirm_email``), so nothing about them is in the audit log."""
    queued = select(WaitlistEntry.member_id).where(WaitlistEntry.member_id == Member.id).exists()
    expired = select(Member.id).where(
        Member.email_confirmed_utc.is_(None),
        Member.created_utc <= (now or utcnow()) - timedelta(days=CONFIRM_DAYS),
        Member.status == Status.WAITLISTED,
        Member.activated_utc.is_(None),
        Member.role == Role.MEMBER,
        ~queued,
    )
    ids = list(session.scalars(expired))
    for start in range(0, len(ids), 1_000):
        session.execute(delete(Member).where(Member.id.in_(ids[start : start + 1_000])))
    return ids


def purge_expired_sessions(session: Session, *, now: datetime | None = None) -> int:
    result = session.execute(delete(LoginSession).where(LoginSession.expires_utc <= (now or utcnow())))
    return int(getattr(result, "rowcount", 0) or 0)


def get_member(session: Session, member_id: str) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("no such member")
    return member


def set_role(session: Session, actor: Member, member: Member, role: Role, *, now: datetime | None = None) -> None:
    """A steward sets ``member``'s role; the last active steward cannot step down."""
    require(SET_ROLE, actor)
    if member.status is Status.WITHDRAWN:
        raise Conflict("that member has withdrawn")
    if member.role is role:
        return
    if member.role is Role.STEWARD:
        stewards = session.scalar(
            select(func.count()).select_from(Member).where(Member.role == Role.STEWARD, Member.status == Status.ACTIVE)
        )
        if (stewards or 0) <= 1:
            raise Conflict("the cooperative needs at least one steward; appoint another first")
    member.role = role
    session.flush()
    audit.record(session, audit.RoleChanged(member_id=member.id, role=role.value, changed_by=actor.id), now=now)
