"""The governance's background work, as job kinds: closing a vote when its window ends, and its emails.

``close-vote`` is queued when a vote opens, to run when it ends: it closes the vote (``closing.close``) in the
job's settling transaction, then scrubs the old versions of the ballot box and voter roll from the database.
``send-vote-notices`` sends one kind of email about one proposal (``notices``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import Engine

from tutti.coop.governance import ballots, closing, notices
from tutti.coop.governance.proposals import CLOSE_JOB, NOTICE_JOB
from tutti.coop.jobs.kinds import JobKind
from tutti.coop.jobs.run import JobRun

_log = logging.getLogger("tutti.coop.governance")


def _close(run: JobRun) -> None:
    proposal_id = str(run.payload["proposal_id"])
    with run.settle() as session:
        proposal = closing.close(session, proposal_id, site=str(run.payload.get("site", "")))
        run.result = {"status": proposal.status, "outcome": proposal.outcome}
        engine = session.get_bind()
    if isinstance(engine, Engine) and not ballots.scrub(engine):
        _log.warning("the ballot box of a closed vote could not be scrubbed yet; the next close or housekeeping will")


def _notify(run: JobRun) -> None:
    with run.sessions() as session:
        payload = run.payload
        sent = notices.send(session, run.settings, str(payload["proposal_id"]), str(payload["notice"]),
                            site=str(payload.get("site", "")))  # fmt: skip
    with run.settle():
        run.result = {"sent": sent}


CLOSE_VOTE = JobKind(
    CLOSE_JOB,
    "Close a vote when its window ends: publish the ballots and the tally, fix who a passed sale includes, execute "
    "what passed, then scrub the old versions of the ballot box from the database.",
    handler=_close,
    lease=timedelta(minutes=5),
)
SEND_VOTE_NOTICES = JobKind(
    NOTICE_JOB,
    "Email the electors who chose it that a vote opened, closes in a day (to those who have not voted), or its result.",
    handler=_notify,
    lease=timedelta(minutes=10),
)
