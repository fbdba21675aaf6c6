"""Contributing an export, in one pass: read -> check -> fingerprint -> score -> decide -> seal -> pool.

``run`` lists the stages in order; each lives in its own module and takes what the stages before it made. An
upload is *accepted* when it can be read, holds plays, its files agree with each other, it is plausible and it
shares no notable part of another member's history; one that does is *held* with the contributions it matched
until a steward resolves the case (``cases``); otherwise it is *rejected* with the reasons. Nothing of a held or
rejected upload enters the pool. Either way the contribution row, its report (``report``) and an audit event record the
outcome.

The stages up to scoring compute and hold no database connection: what they measure against is loaded before
(``known``) in a short session. Deciding, sealing and pooling then happen in one short transaction that reads
again what may have changed meanwhile. Where the pass gets those two is its *intake*: a validation job
(``validation``: short sessions, a transaction fenced by the job's lease) or, for ``contribute``, the caller's
own session, which runs the same stages at once (tests and ``benchmarks/contribute.py`` use it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from tutti.coop.actions import CONTRIBUTE, require
from tutti.coop.contributions import (
    checking,
    copies,
    deciding,
    evidence,
    known,
    pooling,
    reading,
    scoring,
    sealing,
)
from tutti.coop.contributions.known import Known
from tutti.coop.contributions.report import ContributionReport
from tutti.coop.db import lock_cooperative
from tutti.coop.models import Contribution, ContributionStatus, Member, new_id, utcnow
from tutti.coop.scratch import scratch_folder
from tutti.coop.settings import CoopSettings

# (steps done, steps in all, what is under way): one step per file read, then one per stage after reading.
Progress = Callable[[int, int, str], None]
_AFTER_READING = ("checking the plays", "comparing with other members' histories", "scoring what is new", "pooling")


class Intake(Protocol):
    """Where a pass gets what the upload is measured against, and the transaction that decides it."""

    settings: CoopSettings

    def known(self) -> Known: ...

    def looking(self) -> AbstractContextManager[Session]: ...

    def deciding(self) -> AbstractContextManager[Session]: ...


def run(
    intake: Intake,
    contribution_id: str,
    paths: Sequence[Path],
    *,
    now: datetime,
    roots: Sequence[Path] = (),
    progress: Progress | None = None,
    spool: Path | None = None,
) -> ContributionReport | None:
    """Validate the pending contribution ``contribution_id`` (its files at ``paths``) and record the outcome.

    ``spool``: the scratch folder where zips inside the upload's zips are unpacked while it is read.

    None when, by the time of the decision, the contribution was no longer pending (its member withdrew).
    """
    steps = _Steps(progress)
    before = intake.known()
    upload = reading.read_upload(paths, now=now, roots=roots, progress=steps.reading, spool=spool)  # read
    checked = checking.check(upload)  # check
    steps.next()
    own = before.own_plays()
    printed = copies.fingerprint_upload(checked, own)  # fingerprint
    steps.next()
    scored = scoring.score_new(printed.rows, own, printed.own_known) if checked.passed else None  # score
    steps.next()
    with intake.looking() as session:  # the copy index, before the lock: only the catch-up runs under it
        looked = copies.look(session, before.member_id, printed) if checked.usable else None
    with intake.deciding() as session:
        lock_cooperative(session)
        contribution = session.get(Contribution, contribution_id, populate_existing=True)
        if contribution is None or contribution.status is not ContributionStatus.PENDING:
            return None  # its member withdrew meanwhile
        if checked.passed:  # and against what other members' plays show of the same tracks
            checked = checking.with_checks(checked, evidence.check(session, printed.rows))
        decision = deciding.decide(session, before, checked, printed, scored, looked)  # decide
        blob = sealing.seal(session, intake.settings, before, contribution_id, upload.table, decision)  # seal
        return pooling.record(session, intake.settings, contribution, before, checked, printed, decision, blob, now=now)


@dataclass
class _Steps:
    report: Progress | None
    files: int = 0
    done: int = 0

    def reading(self, done: int, total: int) -> None:
        self.files, self.done = total, done
        self._show(f"reading file {min(done + 1, total)} of {total}" if done < total else _AFTER_READING[0])

    def next(self) -> None:
        # Past reading, whether or not every file was read (an unreadable one ends the reading early).
        self.done = max(self.done, self.files) + 1
        self._show(_AFTER_READING[min(self.done - self.files, len(_AFTER_READING) - 1)])

    def _show(self, note: str) -> None:
        if self.report is not None:
            self.report(self.done, self.files + len(_AFTER_READING), note)


@dataclass
class _InSession:
    """The intake of ``contribute``: everything in the caller's session and transaction."""

    session: Session
    settings: CoopSettings
    member: Member

    def known(self) -> Known:
        return known.load(self.session, self.settings, self.member)

    @contextmanager
    def looking(self) -> Iterator[Session]:
        yield self.session

    @contextmanager
    def deciding(self) -> Iterator[Session]:
        yield self.session


def pending_report(contribution_id: str) -> ContributionReport:
    return ContributionReport(contribution_id, ContributionStatus.PENDING)


def contribute(
    session: Session,
    settings: CoopSettings,
    member: Member,
    upload: Sequence[Path] | bytes,
    filename: str | None = None,
    *,
    now: datetime | None = None,
) -> ContributionReport:
    """Validate one upload (paths, or the bytes of one file named ``filename``) and pool its new plays at once,
    inside the caller's transaction (the caller commits; the files follow that transaction)."""
    require(CONTRIBUTE, member)
    when = now or utcnow()
    contribution_id = new_id()
    session.add(
        Contribution(
            id=contribution_id,
            member_id=member.id,
            created_utc=when,
            status=ContributionStatus.PENDING,
            report=pending_report(contribution_id).to_json(),
        )
    )
    session.flush()
    intake = _InSession(session, settings, member)
    if not isinstance(upload, bytes):
        report = run(intake, contribution_id, [Path(p) for p in upload], now=when)
    else:
        with scratch_folder(settings, "contribute-") as scratch:
            path = scratch / (Path(filename or "upload").name or "upload")
            path.write_bytes(upload)
            report = run(intake, contribution_id, [path], now=when, roots=[scratch], spool=scratch)
    assert report is not None, "the caller's own transaction holds the contribution pending"
    return report
