"""A new account logs in only once its address is confirmed from the mailed link, and until then a login answers
as a wrong password does. Links are tried as an attacker would: forged, another account's, out of date, and one
from before a later signup of the same unconfirmed address (whose password it no longer matches)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.coop.conftest import NOW, CoopDb
from tests.helpers.governance import pass_policy
from tutti.coop import audit, mail
from tutti.coop.errors import InvalidInput, Unauthenticated
from tutti.coop.jobs.housekeeping import PURGE_EXPIRED
from tutti.coop.jobs.queue import enqueue
from tutti.coop.jobs.worker import Worker
from tutti.coop.members import accounts, emails, waitlist
from tutti.coop.members.withdrawal import withdraw
from tutti.coop.models import Member, MemberKey, Status

PASSWORD, OTHER_PASSWORD = "kettle umbrella saxophone", "lantern orchard violin"
NEW = "newcomer@example.org"


def _register(db: CoopDb, address: str = NEW, password: str = PASSWORD, *, days: int = 0) -> tuple[str, str, bool]:
    """(member id, the link's token, whether a confirmation is what the address is mailed)."""
    with db.sessions.begin() as session:
        member, waiting = accounts.register(session, address, password, now=NOW + timedelta(days=days))
        return member.id, accounts.confirmation_token(session, member, now=NOW + timedelta(days=days)), waiting


def _login(db: CoopDb, password: str = PASSWORD, address: str = NEW, *, days: int = 0) -> str:
    with db.sessions.begin() as session:
        try:
            accounts.login(session, address, password, now=NOW + timedelta(days=days))
        except Unauthenticated as refused:
            return str(refused)
    return "ok"


def _confirm(db: CoopDb, token: str, *, days: int = 0) -> str:
    with db.sessions.begin() as session:
        try:
            accounts.confirm_email(session, token, now=NOW + timedelta(days=days))
        except InvalidInput as refused:
            return str(refused)
    return "ok"


def test_a_new_account_logs_in_only_once_confirmed_and_answers_as_a_wrong_password_before(coop_db: CoopDb) -> None:
    _member, token, waiting = _register(coop_db)
    assert waiting
    unconfirmed = _login(coop_db)
    assert unconfirmed == _login(coop_db, "not the password") == _login(coop_db, address="nobody@example.org")
    assert unconfirmed == accounts.WRONG_CREDENTIALS
    assert _confirm(coop_db, token) == "ok"
    assert _login(coop_db) == "ok"
    assert _confirm(coop_db, token) == "ok"  # a second click changes nothing


@pytest.mark.parametrize("how", ["forged", "another account's", "out of date", "cut short", "not a link"])
def test_a_link_that_is_not_this_accounts_own_confirms_nothing(coop_db: CoopDb, how: str) -> None:
    member, token, _ = _register(coop_db)
    _other, others, _ = _register(coop_db, "someone@example.org")
    member_id, expires, signature = token.split(".")
    forged = {
        "forged": f"{member_id}.{expires}.{'0' * len(signature)}",
        "another account's": f"{member_id}.{others.split('.', 1)[1]}",
        "out of date": token,
        "cut short": f"{member_id}.{expires}",
        "not a link": "x",
    }[how]
    days = accounts.CONFIRM_DAYS + 1 if how == "out of date" else 0
    assert _confirm(coop_db, forged, days=days) == accounts.BAD_LINK
    assert _login(coop_db) == accounts.WRONG_CREDENTIALS and member


def test_a_later_signup_of_an_unconfirmed_address_voids_the_earlier_link(coop_db: CoopDb) -> None:
    # Someone signs up first with another person's address and a password of their own; the address's owner
    # signs up later: the owner's password replaces it, and only the owner's link works.
    _member, squatters_link, _ = _register(coop_db, password=OTHER_PASSWORD)
    _same, owners_link, waiting = _register(coop_db, days=1)
    assert waiting and _same == _member
    assert _confirm(coop_db, squatters_link, days=1) == accounts.BAD_LINK
    assert _confirm(coop_db, owners_link, days=1) == "ok"
    assert _login(coop_db, OTHER_PASSWORD, days=1) == accounts.WRONG_CREDENTIALS
    assert _login(coop_db, days=1) == "ok"
    # Confirmed, the account is taken like any other: a signup changes nothing and mails its owner a word.
    _again, _link, waiting = _register(coop_db, password=OTHER_PASSWORD, days=2)
    assert not waiting and _login(coop_db, days=2) == "ok"


def test_a_withdrawn_members_link_confirms_nothing(coop_db: CoopDb) -> None:
    member_id, token, _ = _register(coop_db)
    assert _confirm(coop_db, token) == "ok"
    with coop_db.sessions() as session:
        withdraw(session, coop_db.settings, session.get_one(Member, member_id), now=NOW)
    assert _confirm(coop_db, token) == accounts.BAD_LINK


def test_signups_go_through_while_another_process_keeps_writing(founded_db: CoopDb) -> None:
    # A worker writes all the time (jobs, housekeeping): a signup waits its turn, never fails at once as SQLite does
    # when a transaction that read first has to become a writer after someone else wrote.
    stop, written = threading.Event(), [0]

    def keep_writing() -> None:
        while not stop.is_set():
            with founded_db.sessions.begin() as session:
                enqueue(session, "purge-expired", {}, unique_key=f"busy-{written[0]}")
            written[0] += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        joined = [_register(founded_db, f"busy{n}@example.org")[0] for n in range(40)]
    finally:
        stop.set()
        writer.join()
    assert len(set(joined)) == 40 and written[0] > 40


def test_addresses_nobody_confirms_take_no_place_of_the_day(founded_db: CoopDb) -> None:
    # One place a day: a flood of signups with addresses nobody reads must not take it.
    pass_policy(founded_db.sessions, {"capacity_per_day": 1}, in_force=NOW - timedelta(days=1))
    for n in range(5):
        _register(founded_db, f"nobody{n}@example.org")
    with founded_db.sessions() as session:
        assert waitlist.admitted_on(session, NOW.date()) == 0 and waitlist.waiting(session) == 0
    member_id, token, _ = _register(founded_db)
    assert _login(founded_db) != "ok"
    assert _confirm(founded_db, token) == "ok"
    assert _confirm(founded_db, token) == "ok"  # again: placed once
    with founded_db.sessions() as session:
        member = session.get_one(Member, member_id)
        assert member.status is Status.ACTIVE and waitlist.admitted_on(session, NOW.date()) == 1
        joined = [audit.load_event(row) for row in audit.events_about(session, member_id)]
        assert joined == [
            audit.MemberJoined(member_id=member_id, waitlisted=False),
            audit.MemberAdmitted(member_id=member_id),
        ]
    assert _login(founded_db) == "ok"
    _, late, _ = _register(founded_db, "second@example.org")
    _register(founded_db, "third@example.org")
    _confirm(founded_db, late)
    with founded_db.sessions() as session:  # the day is full now: the next confirmed address waits, first in line
        assert waitlist.admitted_on(session, NOW.date()) == 1 and [q.position for q in waitlist.queue(session)] == [1]


def test_an_account_never_confirmed_is_deleted_once_its_link_expires(founded_db: CoopDb) -> None:
    member_id, _, _ = _register(founded_db)
    confirmed_id, token, _ = _register(founded_db, "confirmed@example.org")
    assert _confirm(founded_db, token) == "ok"
    with founded_db.sessions.begin() as session:
        assert accounts.purge_unconfirmed(session, now=NOW + timedelta(days=6)) == []
    _register(founded_db, days=6)  # signed up again: a new link, valid seven days from now
    with founded_db.sessions.begin() as session:
        assert accounts.purge_unconfirmed(session, now=NOW + timedelta(days=12)) == []
        welcome = mail.message(founded_db.settings, NEW, "Welcome", "Confirm your address.")
        kept = mail.send(founded_db.settings, welcome, about=member_id)
        assert kept is not None and kept.exists()
    # The worker's hourly purge (on today's clock, months after): the account, its address, key and mail go.
    assert Worker(founded_db.sessions, founded_db.settings, [PURGE_EXPIRED]).drain() == 1
    assert not kept.exists()
    with founded_db.sessions() as session:
        assert session.get(Member, member_id) is None
        assert session.scalar(select(MemberKey).where(MemberKey.member_id == member_id)) is None
        assert emails.find_member(session, founded_db.settings, NEW) is None
        assert session.get(Member, confirmed_id) is not None  # a confirmed account stays, however old
    again, token, waiting = _register(founded_db)  # the address is free: a new account, a new link
    assert waiting and again != member_id and _confirm(founded_db, token) == "ok"
