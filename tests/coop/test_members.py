"""Accounts, logins, API tokens, roles and rate limits, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import argon2
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, text

from tests.coop.conftest import STEWARD_PASSWORD, CoopDb, steward_of
from tutti.coop import ratelimit
from tutti.coop.db import session_factory
from tutti.coop.errors import Conflict, CsrfMismatch, InvalidInput, NotAllowed, NotFound, RateLimited, Unauthenticated
from tutti.coop.members import accounts, emails, tokens
from tutti.coop.models import ApiToken, LoginSession, Member, RateLimitWindow, Role, Status
from tutti.coop.settings import TEST_PASSWORD_MEMORY_KIB, TEST_PASSWORD_TIME_COST

PASSWORD = "correct horse battery"
T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


def _signup(db: CoopDb, email: str = "Listener@Example.org", password: str = PASSWORD) -> Member:
    with db.sessions.begin() as session:
        return accounts.signup(session, email, password, now=T0)


def test_signup_normalises_the_email_and_hashes_the_password(coop_db: CoopDb) -> None:
    member = _signup(coop_db, "  Listener@Example.ORG ")
    with coop_db.sessions() as session:
        assert emails.email_of(session, coop_db.settings, member) == "listener@example.org"
    # Stored sealed and hashed, never in plain.
    assert member.plain_email is None and member.email_sealed and b"listener" not in member.email_sealed
    assert member.email_lookup == emails.lookup_hash(coop_db.settings.master_key, "listener@example.org")
    assert (member.role, member.status, member.activated_utc) == (Role.MEMBER, Status.ACTIVE, T0)
    assert member.password_hash is not None and member.password_hash.startswith("$argon2id$")
    assert PASSWORD not in member.password_hash
    assert re.fullmatch(r"[0-9a-f]{32}", member.pseudonym)
    assert member.pseudonym != hashlib.md5(b"listener@example.org").hexdigest()


def test_pseudonyms_are_random_not_derived(coop_db: CoopDb) -> None:
    first = _signup(coop_db, "a@example.org")
    second = _signup(coop_db, "b@example.org")
    assert first.pseudonym != second.pseudonym
    assert first.id != second.id


def test_a_taken_email_is_refused_whatever_its_case(coop_db: CoopDb) -> None:
    _signup(coop_db, "ada@example.org")
    with coop_db.sessions.begin() as session, pytest.raises(Conflict, match="already exists"):
        accounts.signup(session, "ADA@example.org", PASSWORD)


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("ada@example.org", "short", "too weak"),
        ("ada@example.org", "x" * 2000, "too long"),
        ("not an email", PASSWORD, "not an email address"),
        ("ada@localhost", PASSWORD, "not an email address"),
    ],
)
def test_weak_passwords_and_bad_emails_are_refused(coop_db: CoopDb, email: str, password: str, message: str) -> None:
    with coop_db.sessions.begin() as session, pytest.raises(InvalidInput, match=message) as refused:
        accounts.signup(session, email, password)
    assert password not in str(refused.value)
    with coop_db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 0


def test_login_gives_a_session_and_a_csrf_token_stored_only_as_hashes(coop_db: CoopDb) -> None:
    member = _signup(coop_db)
    with coop_db.sessions.begin() as session:
        found, token, csrf = accounts.login(session, "LISTENER@example.org", PASSWORD, now=T0)
    assert found.id == member.id and token != csrf
    with coop_db.sessions() as session:
        row = session.scalars(select(LoginSession)).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert row.expires_utc == T0 + timedelta(hours=coop_db.settings.session_hours)
        everything = " ".join(str(v) for v in session.execute(text("SELECT * FROM login_session")).one())
        assert token not in everything
        assert accounts.member_for_session(session, token, now=T0).id == member.id
        assert accounts.check_csrf(session, token, csrf, now=T0).id == member.id
        # A wrong or missing token is a refusal (403), not a missing login (401).
        for sent in ("forged", "", None):
            with pytest.raises(CsrfMismatch, match="form has expired"):
                accounts.check_csrf(session, token, sent, now=T0)
        with pytest.raises(Unauthenticated):
            accounts.check_csrf(session, "not a login", csrf, now=T0)
    assert issubclass(CsrfMismatch, NotAllowed) and not issubclass(CsrfMismatch, Unauthenticated)


def test_wrong_password_and_unknown_email_fail_alike(coop_db: CoopDb) -> None:
    _signup(coop_db)
    messages = []
    for email, password in [("listener@example.org", "wrong password!"), ("nobody@example.org", PASSWORD)]:
        with coop_db.sessions() as session, pytest.raises(Unauthenticated) as failed:
            accounts.login(session, email, password)
        messages.append(str(failed.value))
    assert messages == [accounts.WRONG_CREDENTIALS, accounts.WRONG_CREDENTIALS] == ["email or password is wrong"] * 2


def test_unknown_email_costs_a_password_hash_too(coop_db: CoopDb, monkeypatch: pytest.MonkeyPatch) -> None:
    # Counted, not timed: both failures verify one hash at the cooperative's cost, so they take as long.
    _signup(coop_db)
    verified: list[argon2.Parameters] = []
    verify = PasswordHasher.verify

    def counting_verify(hasher: PasswordHasher, encoded: str, password: str) -> bool:
        verified.append(argon2.extract_parameters(encoded))
        return verify(hasher, encoded, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    for email in ("listener@example.org", "nobody@example.org"):
        with coop_db.sessions() as session, pytest.raises(Unauthenticated):
            accounts.login(session, email, "wrong password!")
    assert [(p.time_cost, p.memory_cost) for p in verified] == [(TEST_PASSWORD_TIME_COST, TEST_PASSWORD_MEMORY_KIB)] * 2


def test_passwords_are_hashed_at_the_set_cost_and_rehashed_when_it_changes(coop_db: CoopDb) -> None:
    member = _signup(coop_db)
    assert member.password_hash is not None
    made = argon2.extract_parameters(member.password_hash)
    assert (made.time_cost, made.memory_cost) == (TEST_PASSWORD_TIME_COST, TEST_PASSWORD_MEMORY_KIB)
    dearer = session_factory(coop_db.engine, replace(coop_db.settings, password_time_cost=2, password_memory_kib=64))
    with dearer.begin() as session:
        accounts.login(session, "listener@example.org", PASSWORD, now=T0)
    with dearer() as session:
        rehashed = session.get_one(Member, member.id).password_hash
        assert rehashed is not None and rehashed != member.password_hash
        again = argon2.extract_parameters(rehashed)
        assert (again.time_cost, again.memory_cost) == (2, 64)
        accounts.login(session, "listener@example.org", PASSWORD, now=T0)  # the new hash still takes the password


def test_sessions_expire_and_logout_ends_them(coop_db: CoopDb) -> None:
    _signup(coop_db)
    with coop_db.sessions.begin() as session:
        _, token, _ = accounts.login(session, "listener@example.org", PASSWORD, now=T0)
    with coop_db.sessions.begin() as session:
        _, other, _ = accounts.login(session, "listener@example.org", PASSWORD, now=T0)
    later = T0 + timedelta(hours=coop_db.settings.session_hours)
    with coop_db.sessions.begin() as session:
        accounts.member_for_session(session, token, now=later - timedelta(seconds=1))
        with pytest.raises(Unauthenticated, match="expired"):
            accounts.member_for_session(session, token, now=later)
        assert accounts.purge_expired_sessions(session, now=later) == 2
    with coop_db.sessions.begin() as session:
        _, token, _ = accounts.login(session, "listener@example.org", PASSWORD)
        accounts.logout(session, token)
        with pytest.raises(Unauthenticated, match="not logged in"):
            accounts.member_for_session(session, token)
        with pytest.raises(Unauthenticated):
            accounts.member_for_session(session, other)


def test_withdrawn_members_cannot_log_in(coop_db: CoopDb) -> None:
    member = _signup(coop_db)
    with coop_db.sessions.begin() as session:
        _, token, _ = accounts.login(session, "listener@example.org", PASSWORD)
        session.get_one(Member, member.id).status = Status.WITHDRAWN
    with coop_db.sessions() as session:
        with pytest.raises(Unauthenticated, match="email or password is wrong"):
            accounts.login(session, "listener@example.org", PASSWORD)
        with pytest.raises(Unauthenticated):
            accounts.member_for_session(session, token)


def test_api_tokens_are_shown_once_and_stored_as_hashes(coop_db: CoopDb) -> None:
    member = _signup(coop_db)
    with coop_db.sessions.begin() as session:
        row, secret = tokens.create_api_token(session, member, name="upload script", now=T0)
    assert secret.startswith("tutti_") and row.prefix == secret[: len(row.prefix)] and len(secret) > 40
    with coop_db.sessions.begin() as session:
        stored = " ".join(str(v) for v in session.execute(text("SELECT * FROM api_token")).one())
        assert secret not in stored
        assert session.scalars(select(ApiToken.token_hash)).one() == hashlib.sha256(secret.encode()).hexdigest()
        assert tokens.member_for_api_token(session, secret, now=T0 + timedelta(days=1)).id == member.id
    with coop_db.sessions() as session:
        # Reading with a token writes nothing until the request commits: a page that only reads never does.
        tokens.member_for_api_token(session, secret, now=T0 + timedelta(days=2))
        assert not session.dirty
    with coop_db.sessions.begin() as session:
        listed = tokens.api_tokens(session, member)
        assert [(t.name, t.last_used_utc) for t in listed] == [("upload script", T0 + timedelta(days=1))]
        tokens.revoke_api_token(session, member, row.id)
    with coop_db.sessions() as session, pytest.raises(Unauthenticated, match="revoked"):
        tokens.member_for_api_token(session, secret)
    with coop_db.sessions() as session, pytest.raises(Unauthenticated):
        tokens.member_for_api_token(session, secret[:-1] + ("A" if secret[-1] != "A" else "B"))


def test_members_revoke_only_their_own_tokens(coop_db: CoopDb) -> None:
    owner, other = _signup(coop_db, "owner@example.org"), _signup(coop_db, "other@example.org")
    with coop_db.sessions.begin() as session:
        row, _ = tokens.create_api_token(session, owner)
    with coop_db.sessions() as session, pytest.raises(NotFound):
        tokens.revoke_api_token(session, other, row.id)


def test_only_stewards_set_roles_and_one_steward_always_remains(founded_db: CoopDb) -> None:
    member = _signup(founded_db, "member@example.org")
    with founded_db.sessions.begin() as session:
        steward = steward_of(session)
        with pytest.raises(NotAllowed, match="steward"):
            accounts.set_role(session, session.get_one(Member, member.id), steward, Role.MEMBER)
        with pytest.raises(Conflict, match="at least one steward"):
            accounts.set_role(session, steward, steward, Role.MEMBER)
        accounts.set_role(session, steward, session.get_one(Member, member.id), Role.STEWARD)
    with founded_db.sessions.begin() as session:
        promoted = session.get_one(Member, member.id)
        assert promoted.role is Role.STEWARD
        accounts.set_role(session, promoted, steward_of(session), Role.BUYER)
    with founded_db.sessions() as session:
        assert steward_of(session).role is Role.BUYER


def test_login_attempts_are_limited_per_email_even_when_each_attempt_is_rolled_back(coop_db: CoopDb) -> None:
    _signup(coop_db)
    limit = ratelimit.LIMITS_BY_ACTION["login-email"]
    for n in range(limit.attempts):
        with coop_db.sessions() as session, pytest.raises(Unauthenticated):
            accounts.login(session, "listener@example.org", "wrong password!", now=T0 + timedelta(seconds=n))
    with coop_db.sessions() as session, pytest.raises(RateLimited) as limited:
        accounts.login(session, "listener@example.org", PASSWORD, now=T0 + timedelta(seconds=limit.attempts))
    assert 0 < limited.value.retry_after <= limit.window_seconds
    with coop_db.sessions() as session:
        stored = session.scalars(select(RateLimitWindow.key)).all()
    assert stored and all("listener" not in key for key in stored)
    with coop_db.sessions.begin() as session:
        accounts.login(session, "listener@example.org", PASSWORD, now=T0 + timedelta(seconds=limit.window_seconds))
        # The right password clears the account's failures.
        assert session.scalars(select(RateLimitWindow.key)).all() == []


def test_login_attempts_are_limited_per_client(coop_db: CoopDb) -> None:
    limit = ratelimit.LIMITS_BY_ACTION["login-client"]
    for n in range(limit.attempts):
        with coop_db.sessions() as session, pytest.raises(Unauthenticated):
            accounts.login(session, f"guess{n}@example.org", "some password", client="203.0.113.9", now=T0)
    with coop_db.sessions() as session, pytest.raises(RateLimited):
        accounts.login(session, "other@example.org", "some password", client="203.0.113.9", now=T0)
    with coop_db.sessions() as session, pytest.raises(Unauthenticated):
        accounts.login(session, "other@example.org", "some password", client="198.51.100.7", now=T0)
    with coop_db.engine.connect() as connection:
        dump = " ".join(str(row) for row in connection.execute(text("SELECT * FROM rate_limit")))
        assert "203.0.113.9" not in dump


def test_uploads_are_limited_per_member(coop_db: CoopDb) -> None:
    limit = ratelimit.LIMITS_BY_ACTION["upload"]
    with coop_db.sessions() as session:
        for _ in range(limit.attempts):
            ratelimit.hit(session, "upload", "member-1", now=T0)
        with pytest.raises(RateLimited, match="too many upload attempts"):
            ratelimit.hit(session, "upload", "member-1", now=T0)
        ratelimit.hit(session, "upload", "member-2", now=T0)
        assert ratelimit.purge(session, now=T0 + timedelta(days=2)) == 2
        session.commit()


def test_counting_after_the_callers_own_write_fails_fast_on_sqlite_and_works_on_postgresql(coop_db: CoopDb) -> None:
    with coop_db.sessions() as session:
        accounts.signup(session, "writer@example.org", PASSWORD)
        if coop_db.kind == "sqlite":
            # SQLite has one writer per file: waiting for our own open write would only time out.
            with pytest.raises(RuntimeError, match="before the session writes"):
                ratelimit.hit(session, "upload", "member-1")
        else:
            ratelimit.hit(session, "upload", "member-1")


def test_steward_password_fixture_logs_in(founded_db: CoopDb) -> None:
    with founded_db.sessions.begin() as session:
        steward, _, _ = accounts.login(session, "steward@example.org", STEWARD_PASSWORD)
        assert steward.role is Role.STEWARD and steward.is_active


def test_concurrent_attempts_are_all_counted(coop_db: CoopDb) -> None:
    def attempt(_: int) -> bool:
        with coop_db.sessions() as session:
            try:
                ratelimit.hit(session, "upload", "busy-member", now=T0)
            except RateLimited:
                return False
            return True

    limit = ratelimit.LIMITS_BY_ACTION["upload"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(attempt, range(limit.attempts + 10)))
    assert outcomes.count(True) == limit.attempts
    with coop_db.sessions() as session:
        assert session.scalars(select(RateLimitWindow.hits)).one() == limit.attempts + 10
