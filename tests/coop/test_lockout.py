"""The login limits cannot be turned against a member: strangers spending an account's attempts lock out
strangers, while the owner's right password from a device that has logged in before still works. Each way a
stranger might borrow that exemption (another account's device cookie, a forged one, a stolen one guessing) is
tried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.coop.conftest import CoopDb
from tutti.coop.errors import RateLimited, Unauthenticated
from tutti.coop.limits import LIMITS_BY_ACTION
from tutti.coop.members import accounts, devices

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
OWNER, PASSWORD = "owner@example.org", "kettle umbrella saxophone"
ATTACKER_CLIENT, OWNER_CLIENT = "203.0.113.66", "198.51.100.4"


def _member_id(db: CoopDb, email: str) -> str:
    with db.sessions.begin() as session:
        return accounts.signup(session, email, PASSWORD, now=T0).id


def _try(db: CoopDb, password: str, *, client: str, device: str | None = None, seconds: int = 0) -> str:
    """What the attempt came to: 'ok', 'wrong' or 'locked'."""
    with db.sessions.begin() as session:
        try:
            accounts.login(session, OWNER, password, client=client, device=device, now=T0 + timedelta(seconds=seconds))
        except Unauthenticated:
            return "wrong"
        except RateLimited:
            return "locked"
    return "ok"


def test_an_attackers_wrong_passwords_do_not_lock_the_owner_out(coop_db: CoopDb) -> None:
    device = devices.issue(coop_db.settings.session_secret, _member_id(coop_db, OWNER))
    allowed = coop_db.settings.limits["login-email"].attempts
    attacker = [_try(coop_db, f"guess number {n}", client=ATTACKER_CLIENT, seconds=n) for n in range(allowed + 5)]
    assert attacker == ["wrong"] * allowed + ["locked"] * 5
    # Even the right password is refused to a stranger now: the account is locked to unknown devices.
    assert _try(coop_db, PASSWORD, client=ATTACKER_CLIENT, seconds=60) == "locked"
    assert _try(coop_db, PASSWORD, client=OWNER_CLIENT, seconds=61) == "locked"
    assert _try(coop_db, PASSWORD, client=OWNER_CLIENT, device=device, seconds=62) == "ok"
    assert _try(coop_db, PASSWORD, client=ATTACKER_CLIENT, device=device, seconds=63) == "ok"


def test_nine_wrong_passwords_from_strangers_leave_the_owner_free_even_without_a_device(coop_db: CoopDb) -> None:
    _member_id(coop_db, OWNER)
    assert [_try(coop_db, f"guess {n}", client=ATTACKER_CLIENT) for n in range(9)] == ["wrong"] * 9
    assert _try(coop_db, PASSWORD, client=OWNER_CLIENT) == "ok"


@pytest.mark.parametrize("kind", ["another account's", "forged", "unsigned", "empty"])
def test_no_other_cookie_earns_the_exemption(coop_db: CoopDb, kind: str) -> None:
    owner_id = _member_id(coop_db, OWNER)
    other_id = _member_id(coop_db, "attacker@example.org")
    secret = coop_db.settings.session_secret
    genuine = devices.issue(secret, owner_id)
    cookie = {
        "another account's": devices.issue(secret, other_id),
        "forged": genuine.split(".")[0] + "." + "0" * 64,
        "unsigned": genuine.split(".")[0],
        "empty": "",
    }[kind]
    allowed = coop_db.settings.limits["login-email"].attempts
    for n in range(allowed):
        assert _try(coop_db, f"guess {n}", client=ATTACKER_CLIENT, device=cookie) == "wrong"
    assert _try(coop_db, PASSWORD, client=ATTACKER_CLIENT, device=cookie) == "locked"
    assert _try(coop_db, PASSWORD, client=OWNER_CLIENT, device=genuine) == "ok"


def test_a_stolen_device_cookie_guesses_no_more_than_its_own_limit(coop_db: CoopDb) -> None:
    owner_id = _member_id(coop_db, OWNER)
    device = devices.issue(coop_db.settings.session_secret, owner_id)
    allowed = LIMITS_BY_ACTION["login-device"].attempts
    guesses = [_try(coop_db, f"guess {n}", client=ATTACKER_CLIENT, device=device) for n in range(allowed + 2)]
    assert guesses == ["wrong"] * allowed + ["locked"] * 2
    # The owner's other devices, and the next window, are not held by it.
    other = devices.issue(coop_db.settings.session_secret, owner_id)
    assert _try(coop_db, PASSWORD, client=OWNER_CLIENT, device=other) == "ok"
    window = LIMITS_BY_ACTION["login-device"].window_seconds
    assert _try(coop_db, PASSWORD, client=OWNER_CLIENT, device=device, seconds=window) == "ok"


def test_device_cookies_are_bound_to_the_account_and_the_secret() -> None:
    cookie = devices.issue(b"k" * 32, "member-1")
    assert devices.recognised(b"k" * 32, "member-1", cookie) is not None
    assert devices.recognised(b"k" * 32, "member-2", cookie) is None
    assert devices.recognised(b"j" * 32, "member-1", cookie) is None
    assert "member-1" not in cookie
