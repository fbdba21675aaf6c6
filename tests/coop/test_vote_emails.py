"""Vote emails delivered to a real SMTP server (aiosmtpd) on both databases: who gets which notice, what the result
says (and does not), and the outbox that keeps a notice while the server is down and sends it, once, when it is up.

The jobs run as a worker runs them (``Worker.run_one`` at a chosen time): ``send-vote-notices`` queued by the
vote, ``send-outbox`` scheduled by the worker for each ten-minute period.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.coop.conftest import STEWARD_EMAIL, CoopDb
from tests.helpers.governance import AFTER, DURING, OPENED, buyer, close, member, sale_terms, steward
from tests.helpers.smtp import Inbox, free_port, serving
from tutti.coop import mail
from tutti.coop.db import settings_of
from tutti.coop.governance import ballots, consent, proposals
from tutti.coop.governance.jobs import SEND_VOTE_NOTICES
from tutti.coop.jobs.housekeeping import remove_leftovers
from tutti.coop.jobs.outbox import SEND_OUTBOX
from tutti.coop.jobs.worker import Worker
from tutti.coop.members import emails, withdrawal
from tutti.coop.models import Job, JobStatus, Member, Proposal
from tutti.coop.settings import CoopSettings, MailSettings

SITE = "https://coop.example"
ADA, BO, CY = "ada@example.org", "bo@example.org", "cy@example.org"
TITLE = "Artist preferences"


def _mailing(db: CoopDb, port: int) -> CoopSettings:
    mailer = MailSettings(host="127.0.0.1", port=port, security="none", sender="coop@example.org")
    return replace(db.settings, mail=mailer)


def _open(db: CoopDb) -> str:
    """A sale's vote opened at ``OPENED`` by the steward, with links to ``SITE``; its id."""
    with db.sessions.begin() as session:
        draft = proposals.draft_sale(session, buyer(session), TITLE, sale_terms())
        proposals.open_vote(session, steward(session), draft.id, site=SITE, now=OPENED)
        return draft.id


def _run_all(worker: Worker, now: datetime) -> int:
    ran = 0
    while worker.run_one(now=now) is not None:
        ran += 1
    return ran


def _jobs(db: CoopDb, kind: str) -> list[Job]:
    with db.sessions() as session:
        return list(session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id)))


def _member(session: Session, email: str) -> Member:
    found = emails.find_member(session, settings_of(session), email)
    assert found is not None
    return found


def test_a_vote_opening_mails_each_elector_who_chose_it_once(founded_db: CoopDb, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    with founded_db.sessions.begin() as session:
        member(session, ADA)
        consent.set_emails(session, member(session, BO), ["closing", "result"])  # not "opened"
    sale = _open(founded_db)
    with founded_db.sessions.begin() as session:
        member(session, CY, now=DURING)  # joined once the electorate was frozen
    worker = Worker(founded_db.sessions, _mailing(founded_db, port), [SEND_VOTE_NOTICES], poll=0.01)
    assert _run_all(worker, DURING) == 1
    # Ada and the steward chose it; Bo turned it off; Cy is not an elector; the buyer never is.
    assert sorted(str(m["To"]) for m in inbox.messages) == sorted([ADA, STEWARD_EMAIL])
    for message in inbox.messages:
        assert message["Subject"] == f"Vote open: {TITLE}" and message["From"] == "coop@example.org"
        assert f"{SITE}/proposals/{sale}" in message.get_content()
    jobs = {job.payload["notice"]: job for job in _jobs(founded_db, SEND_VOTE_NOTICES.name)}
    assert (jobs["opened"].status, jobs["opened"].result) == (JobStatus.DONE, {"sent": 2})
    assert mail.kept(founded_db.settings) == []


def test_the_closing_reminder_goes_only_to_electors_who_have_not_voted(
    founded_db: CoopDb, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    with founded_db.sessions.begin() as session:
        member(session, ADA), member(session, BO)
    sale = _open(founded_db)
    with founded_db.sessions.begin() as session:
        proposal = session.get_one(Proposal, sale)
        for voter in (steward(session), _member(session, ADA)):
            ballots.cast(session, voter, proposal, "yes", now=DURING)
        closes = proposal.closes_utc
    assert closes is not None
    worker = Worker(founded_db.sessions, _mailing(founded_db, port), [SEND_VOTE_NOTICES], poll=0.01)
    _run_all(worker, closes - timedelta(hours=23))
    [reminder] = [m for m in inbox.messages if m["Subject"] == f"A day left to vote: {TITLE}"]
    assert reminder["To"] == BO and f"{SITE}/proposals/{sale}" in reminder.get_content()


def test_the_result_mail_carries_the_outcome_and_the_tally_and_no_voters_choice(
    founded_db: CoopDb, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    with founded_db.sessions.begin() as session:
        member(session, ADA), member(session, BO)
    sale = _open(founded_db)
    with founded_db.sessions.begin() as session:
        proposal = session.get_one(Proposal, sale)
        for who, choice in ((STEWARD_EMAIL, "yes"), (ADA, "yes"), (BO, "no")):
            ballots.cast(session, _member(session, who), proposal, choice, now=DURING)
    closed = close(founded_db.sessions, sale)
    assert closed.outcome == "passed"
    worker = Worker(founded_db.sessions, _mailing(founded_db, port), [SEND_VOTE_NOTICES], poll=0.01)
    _run_all(worker, AFTER)
    results = [m for m in inbox.messages if m["Subject"] == f"Vote result: {TITLE}"]
    assert sorted(str(m["To"]) for m in results) == sorted([ADA, BO, STEWARD_EMAIL])
    bodies = {m.get_content() for m in results}
    # One text for every elector: nothing in it depends on who reads it, or on how anyone voted.
    [body] = bodies
    assert f'"{TITLE}" closed: passed.' in body
    assert "Yes 2, no 1, abstain 0, 3 ballots of 3 members." in body
    assert not any(address in body for address in (ADA, BO, STEWARD_EMAIL))
    assert "you voted" not in body.lower() and "your vote" not in body.lower()


def test_a_notice_kept_while_the_server_is_down_is_sent_once_when_it_is_up(founded_db: CoopDb) -> None:
    port = free_port()  # nothing listens there yet
    settings = _mailing(founded_db, port)
    with founded_db.sessions.begin() as session:
        ada_id = member(session, ADA).id
    _open(founded_db)
    notices = Worker(founded_db.sessions, settings, [SEND_VOTE_NOTICES], poll=0.01)
    assert _run_all(notices, DURING) == 1
    jobs = {job.payload["notice"]: job for job in _jobs(founded_db, SEND_VOTE_NOTICES.name)}
    assert jobs["opened"].status == JobStatus.DONE  # the server being down fails nothing
    kept = mail.kept(settings)
    assert len(kept) == 2 and len(mail.kept_about(settings, ada_id)) == 1
    assert all(path.stat().st_mode & 0o077 == 0 for path in kept)
    as_kept = {path.name: path.read_bytes() for path in kept}

    outbox = Worker(founded_db.sessions, settings, [SEND_OUTBOX], poll=0.01)
    assert outbox.run_one(now=DURING) is not None  # still down: the run ends, the messages wait
    assert mail.kept(settings) == kept
    with serving(port) as inbox:
        assert outbox.run_one(now=DURING + timedelta(minutes=10)) is not None
        assert sorted(str(m["To"]) for m in inbox.messages) == sorted([ADA, STEWARD_EMAIL])
        # Byte for byte as kept (SMTP carries lines ending in CRLF).
        assert sorted(raw.replace(b"\r\n", b"\n") for raw in inbox.raw) == sorted(as_kept.values())
        assert mail.kept(settings) == [] and list((settings.data_dir / mail.OUTBOX).iterdir()) == []
        assert outbox.run_one(now=DURING + timedelta(minutes=20)) is not None
        assert len(inbox.messages) == 2  # nothing sent twice
    runs = _jobs(founded_db, SEND_OUTBOX.name)
    assert [run.status for run in runs] == [JobStatus.DONE] * 3
    assert [run.result["sent"] for run in runs if run.result] == [0, 2, 0]
    assert [run.result["waiting"] for run in runs if run.result] == [2, 0, 0]


def test_a_withdrawn_members_kept_messages_are_never_sent(founded_db: CoopDb) -> None:
    port = free_port()
    settings = _mailing(founded_db, port)
    with founded_db.sessions.begin() as session:
        ada_id = member(session, ADA).id
    _open(founded_db)
    _run_all(Worker(founded_db.sessions, settings, [SEND_VOTE_NOTICES], poll=0.01), DURING)
    assert len(mail.kept_about(settings, ada_id)) == 1
    with founded_db.sessions() as session:
        withdrawal.withdraw(session, settings, session.get_one(Member, ada_id), now=DURING)
    assert mail.kept_about(settings, ada_id) == []  # the withdrawal deleted it
    # A notice read as addressed to Ada just before she withdrew, kept just after: the retry drops it unsent.
    late = mail.send(settings, mail.message(settings, ADA, f"Vote open: {TITLE}", "late"), about=ada_id)
    assert late is not None and mail.kept_about(settings, ada_id) == [late]
    with serving(port) as inbox:
        assert Worker(founded_db.sessions, settings, [SEND_OUTBOX], poll=0.01).run_one(now=DURING) is not None
    assert [str(m["To"]) for m in inbox.messages] == [STEWARD_EMAIL]
    assert mail.kept(settings) == [] and not late.exists()
    [run] = _jobs(founded_db, SEND_OUTBOX.name)
    assert run.result == {"sent": 1, "refused": 0, "unreadable": 0, "waiting": 0, "withdrawn_dropped": 1}


def test_a_half_written_message_in_the_outbox_is_never_sent(founded_db: CoopDb, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = _mailing(founded_db, port)
    down = replace(settings, mail=replace(settings.mail, port=free_port()))
    whole = mail.send(down, mail.message(down, ADA, "whole", "all of it"), about="member-1")
    assert whole is not None
    folder = whole.parent
    full = mail.message(settings, "victim@example.org", "planted", "a body")
    # What a crash leaves mid-write (a hidden .partial), and a message cut inside its headers.
    mid_write = folder / f".{whole.name.replace('member-1', 'member-2')}.partial"
    mid_write.write_bytes(full.as_bytes())
    cut = folder / whole.name.replace("member-1", "member-3")
    cut.write_bytes(full.as_bytes()[: full.as_bytes().index(b"To:")])
    done = mail.retry_kept(settings)
    assert [str(m["Subject"]) for m in inbox.messages] == ["whole"]
    assert (done.sent, done.unreadable, done.waiting) == (1, 1, 1)
    assert mid_write.exists() and cut.exists() and not whole.exists()
    assert mail.retry_kept(settings).sent == 0 and len(inbox.messages) == 1
    # Housekeeping removes what the crash left once it is an hour old.
    with founded_db.sessions() as session:
        remove_leftovers(session, settings, now=datetime.now(tz=OPENED.tzinfo) + timedelta(hours=2))
    assert not mid_write.exists()


def test_a_message_another_run_is_sending_is_left_to_it(founded_db: CoopDb, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = _mailing(founded_db, port)
    down = replace(settings, mail=replace(settings.mail, port=free_port()))
    kept = mail.send(down, mail.message(down, ADA, "once", "body"), about="member-1")
    assert kept is not None
    fd = os.open(kept, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as the other run holds it while it sends
        assert mail.retry_kept(settings).sent == 0 and inbox.messages == [] and kept.exists()
    finally:
        os.close(fd)
    assert mail.retry_kept(settings).sent == 1 and len(inbox.messages) == 1


def test_a_message_refused_for_good_is_set_aside_and_the_rest_go(founded_db: CoopDb) -> None:
    port = free_port()
    settings = _mailing(founded_db, port)
    for to in ("gone@example.org", ADA):
        mail.send(settings, mail.message(settings, to, "hello", "body"), about="member-1")
    with serving(port, Inbox(refusing=frozenset({"gone@example.org"}))) as inbox:
        done = mail.retry_kept(settings)
    assert (done.sent, done.refused, done.waiting) == (1, 1, 0)
    assert [str(m["To"]) for m in inbox.messages] == [ADA]
    [refused] = mail.kept_about(settings, "member-1")
    assert refused.name.endswith(".eml.refused") and b"gone@example.org" in refused.read_bytes()


def test_without_a_mail_server_the_outbox_waits(founded_db: CoopDb) -> None:
    kept = mail.send(founded_db.settings, mail.message(founded_db.settings, ADA, "s", "b"), about="member-1")
    assert founded_db.settings.mail.host is None
    assert Worker(founded_db.sessions, founded_db.settings, [SEND_OUTBOX], poll=0.01).run_one(now=DURING)
    assert mail.kept(founded_db.settings) == [kept]


def test_a_run_sends_a_bounded_number_and_the_next_run_the_rest(founded_db: CoopDb, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = _mailing(founded_db, port)
    down = replace(settings, mail=replace(settings.mail, port=free_port()))
    for n in range(3):
        mail.send(down, mail.message(down, ADA, f"message {n}", "body"), about="member-1")
    assert (mail.retry_kept(settings, limit=2).sent, len(mail.kept(settings))) == (2, 1)
    assert (mail.retry_kept(settings, limit=2).sent, len(mail.kept(settings))) == (1, 0)
    assert sorted(str(m["Subject"]) for m in inbox.messages) == ["message 0", "message 1", "message 2"]
