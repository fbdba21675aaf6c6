"""The login limits cannot be turned against a member: strangers spending an account's attempts lock out
strangers, while the owner's right password from a device that has logged in before still works. Each way a
stranger might borrow that exemption (another account's device cookie, a forged one, a stolen one guessing) is
tried. Past the allowed failures each attempt waits, twice as long after each further failure: a day of guessing
at one account, or at many from one client, and a burst of guesses sent at once, get few guesses checked."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tests.coop.conftest import CoopDb
from tutti.coop.errors import RateLimited, Unauthenticated
from tutti.coop.limits import LIMITS_BY_ACTION
from tutti.coop.members import accounts, devices
from tutti.coop.ratelimit import FIRST_WAIT_SECONDS

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
OWNER, PASSWORD = "owner@example.org", "kettle umbrella saxophone"
ATTACKER_CLIENT, OWNER_CLIENT = "203.0.113.66", "198.51.100.4"


def _member_id(db: CoopDb, email: str) -> str:
    with db.sessions.begin() as session:
        return accounts.signup(session, email, PASSWORD, now=T0).id


def _try(
    db: CoopDb,
    password: str,
    *,
    client: str,
    device: str | None = None,
    seconds: float = 0,
    email: str = OWNER,
) -> str:
    """What the attempt came to: 'ok', 'wrong' or 'locked'."""
    return _attempt(db, password, client=client, device=device, seconds=seconds, email=email)[0]


def _attempt(
    db: CoopDb, password: str, *, client: str, device: str | None = None, seconds: float = 0, email: str = OWNER
) -> tuple[str, int]:
    """('ok' | 'wrong' | 'locked', seconds to wait when locked)."""
    with db.sessions.begin() as session:
        try:
            accounts.login(session, email, password, client=client, device=device, now=T0 + timedelta(seconds=seconds))
        except Unauthenticated:
            return "wrong", 0
        except RateLimited as exc:
            return "locked", exc.retry_after
    return "ok", 0


def test_an_attackers_wrong_passwords_do_not_lock_the_owner_out(coop_db: CoopDb) -> None:
    device = devices.issue(coop_db.settings.session_secret, _member_id(coop_db, OWNER))
    allowed = coop_db.settings.limits["login-email"].attempts
    attacker = [_try(coop_db, f"guess number {n}", client=ATTACKER_CLIENT, seconds=n) for n in range(allowed + 5)]
    assert attacker == ["wrong"] * allowed + ["locked"] * 5
    # Even the right password is refused to a stranger now: the account is locked to unknown devices.
    assert _try(coop_db, PASSWORD, client=ATTACKER_CLIENT, seconds=allowed + 5) == "locked"
    assert _try(coop_db, PASSWORD, client=OWNER_CLIENT, seconds=allowed + 6) == "locked"
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
    # The owner's other devices are not held by it, and the device itself only for the wait.
    other = devices.issue(coop_db.settings.session_secret, owner_id)
    assert _try(coop_db, PASSWORD, client=OWNER_CLIENT, device=other) == "ok"
    assert _try(coop_db, PASSWORD, client=OWNER_CLIENT, device=device, seconds=FIRST_WAIT_SECONDS) == "ok"


def test_each_further_failure_doubles_the_wait_up_to_the_window(coop_db: CoopDb) -> None:
    _member_id(coop_db, OWNER)
    allowed = coop_db.settings.limits["login-email"].attempts
    longest = coop_db.settings.limits["login-email"].window_seconds
    at = 0.0
    for n in range(allowed):
        assert _try(coop_db, f"guess {n}", client=f"198.51.100.{n}", seconds=at) == "wrong"
    waits = []
    for n in range(8):
        verdict, wait = _attempt(coop_db, "still guessing", client=ATTACKER_CLIENT, seconds=at)
        assert verdict == "locked"
        waits.append(wait)
        # Trying again before the wait is over changes nothing; once it is over, one more guess is checked.
        assert _attempt(coop_db, "again", client=ATTACKER_CLIENT, seconds=at + wait - 1)[0] == "locked"
        at += wait
        assert _try(coop_db, f"late guess {n}", client=f"203.0.113.{n}", seconds=at) == "wrong"
    expected = [min(longest, FIRST_WAIT_SECONDS * 2**n) for n in range(8)]
    assert waits == expected and waits[-1] == longest
    # The right password clears the account's failures: the owner, after the last wait, starts again afresh.
    assert _try(coop_db, PASSWORD, client=OWNER_CLIENT, seconds=at + longest) == "ok"
    assert [_try(coop_db, f"after {n}", client=OWNER_CLIENT, seconds=at + longest) for n in range(3)] == ["wrong"] * 3


def test_a_day_of_guessing_at_one_account_checks_few_guesses(coop_db: CoopDb) -> None:
    _member_id(coop_db, OWNER)
    allowed = coop_db.settings.limits["login-email"].attempts
    longest = coop_db.settings.limits["login-email"].window_seconds
    day, at, checked = 24 * 3600, 0.0, 0
    while at < day:
        # A new client address for every guess: only the account's back-off holds it.
        verdict, wait = _attempt(
            coop_db, f"guess {checked}", client=f"10.{checked // 250}.{checked % 250}.1", seconds=at
        )
        assert verdict != "ok"
        checked += verdict == "wrong"
        at += wait or 1
    assert checked <= allowed + 6 + day // longest  # the waits grow to the window, then one guess a window


def test_a_client_guessing_at_many_accounts_backs_off(coop_db: CoopDb) -> None:
    allowed = coop_db.settings.limits["login-client"].attempts
    emails = [f"member{n}@example.org" for n in range(allowed + 2)]
    answers = [_try(coop_db, "password1234", client=ATTACKER_CLIENT, email=e) for e in emails]
    assert answers == ["wrong"] * allowed + ["locked"] * 2
    _member_id(coop_db, OWNER)
    assert _try(coop_db, PASSWORD, client=OWNER_CLIENT) == "ok"


def test_guesses_sent_at_once_are_each_counted(coop_db: CoopDb) -> None:
    _member_id(coop_db, OWNER)
    allowed = coop_db.settings.limits["login-email"].attempts
    answers: list[str] = []
    start = threading.Barrier(allowed * 2)

    def guess(n: int) -> None:
        start.wait()
        answers.append(_try(coop_db, f"parallel guess {n}", client=f"192.0.2.{n}"))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(allowed * 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == ["locked"] * allowed + ["wrong"] * allowed


def test_device_cookies_are_bound_to_the_account_and_the_secret() -> None:
    cookie = devices.issue(b"k" * 32, "member-1")
    assert devices.recognised(b"k" * 32, "member-1", cookie) is not None
    assert devices.recognised(b"k" * 32, "member-2", cookie) is None
    assert devices.recognised(b"j" * 32, "member-1", cookie) is None
    assert "member-1" not in cookie
