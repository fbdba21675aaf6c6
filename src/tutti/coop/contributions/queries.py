"""What members and stewards look up about contributions: their own, one report, their pool share, flags."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import crypto
from tutti.coop.contributions import sealed_reports
from tutti.coop.contributions.report import ContributionReport
from tutti.coop.errors import NotFound
from tutti.coop.models import Contribution, ContributionStatus, Job, Member
from tutti.coop.pool import catalog
from tutti.coop.pool.files import MemberShare, pool_of
from tutti.coop.settings import CoopSettings


def report_of(session: Session, row: Contribution) -> ContributionReport:
    """The typed report of a contribution row (unsealed with its member's key; of whichever version wrote it)."""
    return sealed_reports.read(session, row)


def member_contributions(session: Session, member: Member) -> list[Contribution]:
    """The member's own contributions, newest first."""
    return list(
        session.scalars(
            select(Contribution)
            .where(Contribution.member_id == member.id)
            .order_by(Contribution.created_utc.desc(), Contribution.id)
        )
    )


def contribution_of(session: Session, member: Member, contribution_id: str) -> Contribution:
    """One of the member's own contributions; NotFound for anyone else's, as for one that does not exist."""
    row = session.get(Contribution, contribution_id)
    if row is None or row.member_id != member.id:
        raise NotFound("no such contribution")
    return row


def validation_job(session: Session, contribution: Contribution) -> Job | None:
    """The job validating a pending contribution (for its progress), if it has one."""
    return session.get(Job, contribution.job_id) if contribution.job_id is not None else None


def pool_share(session: Session, settings: CoopSettings, member: Member) -> MemberShare:
    """What the pool holds of the member's plays; their key is only fetched when there is something to open."""
    counts = catalog.member_counts(session, member)
    if not counts.plays:
        return MemberShare(0, counts.files, {}, None, None)
    return pool_of(settings).member_share(member.pseudonym, crypto.member_key(session, member, settings), counts)


def flagged_for_stewards(session: Session) -> list[tuple[Contribution, ContributionReport]]:
    """Rejected near-copies, newest first, with their reports (which name whose history each matched)."""
    rows = session.scalars(
        select(Contribution)
        .where(Contribution.status == ContributionStatus.REJECTED)
        .order_by(Contribution.created_utc.desc())
    )
    reports = [(row, report_of(session, row)) for row in rows]
    return [(row, report) for row, report in reports if report.copy_check is not None and report.copy_check.near_copy]
