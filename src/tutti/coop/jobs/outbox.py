"""``send-outbox``: every ten minutes, the messages kept in the outbox go to the mail server, when one is set
(``mail.retry_kept``).

Messages about a member who has withdrawn are deleted unsent first. The withdrawal deleted those it found, but a
message kept while it ran (a vote's notice, read as addressed to an active member a moment before) can land after.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tutti.coop import mail
from tutti.coop.jobs.kinds import JobKind
from tutti.coop.jobs.run import JobRun
from tutti.coop.models import Member, Status

SEND_EVERY = timedelta(minutes=10)


def _withdrawn(run: JobRun, member_ids: list[str]) -> set[str]:
    found: set[str] = set()
    with run.sessions() as session:
        for start in range(0, len(member_ids), 1_000):
            chunk = member_ids[start : start + 1_000]
            query = select(Member.id).where(Member.id.in_(chunk), Member.status == Status.WITHDRAWN)
            found.update(session.scalars(query))
    return found


def _send(run: JobRun) -> None:
    waiting = mail.kept(run.settings)
    withdrawn = _withdrawn(run, sorted({mail.about_of(path) for path in waiting}))
    dropped = [path for path in waiting if mail.about_of(path) in withdrawn]
    for path in dropped:
        path.unlink(missing_ok=True)
    done = mail.retry_kept(run.settings)
    with run.settle():
        run.result = {
            "sent": done.sent,
            "refused": done.refused,
            "unreadable": done.unreadable,
            "waiting": done.waiting,
            "withdrawn_dropped": len(dropped),
        }


SEND_OUTBOX = JobKind(
    "send-outbox",
    "Send the messages kept in the outbox, oldest first and 200 at most, when a mail server is set; each is deleted "
    "once the server took it (those about a withdrawn member, unsent). A server that cannot be reached ends the "
    "run; the next one tries again.",
    handler=_send,
    lease=timedelta(minutes=10),
    every=SEND_EVERY,
)
