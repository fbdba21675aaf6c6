"""What the pages and the API show, read from the cooperative's domain and turned into public schemas.

Reads only, and no queries of its own: every lookup is the domain's (``tutti.coop``); this module only turns
its results into the public schemas, so that routes hold neither queries nor conversions.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy.orm import Session

from tutti.coop.contributions import cases, queries
from tutti.coop.contributions.report import ContributionReport
from tutti.coop.db import settings_of
from tutti.coop.members import emails, waitlist
from tutti.coop.members.withdrawal import WithdrawalProof
from tutti.coop.models import Contribution, Job, JobStatus, Member, utcnow
from tutti.coop.sales import uses
from tutti.coop.settings import CoopSettings
from tutti.web.schemas import (
    ContributionPublic,
    ContributionReportPublic,
    ContributionSummaryPublic,
    CopyCasePublic,
    DataUsePublic,
    DataUsesPublic,
    FlaggedContributionPublic,
    HeldContributionPublic,
    MemberPublic,
    OnboardingPublic,
    PoolSharePublic,
    ProgressPublic,
    WaitlistEntryPublic,
    WaitlistPositionPublic,
    WithdrawalProofPublic,
)

WAITLIST_SHOWN = 500
NO_USES_YET = (
    "No uses yet: the cooperative has not sold or shared any data. When members vote a sale through, it is listed "
    "here, whether your data is in it or not and why, with what of yours went in and every download and query since."
)


def member_public(session: Session, member: Member) -> MemberPublic:
    """The member as they see themselves; their address is unsealed for them (it is stored sealed)."""
    return MemberPublic(
        id=member.id,
        email=emails.email_of(session, settings_of(session), member),
        role=member.role,
        status=member.status,
        created_utc=member.created_utc,
        activated_utc=member.activated_utc,
        waitlist_position=waitlist.waitlist_position(session, member),
    )


def position_public(session: Session, member: Member) -> WaitlistPositionPublic:
    return WaitlistPositionPublic(
        status=member.status,
        position=waitlist.waitlist_position(session, member),
        waiting=waitlist.waiting(session),
        capacity_per_day=waitlist.capacity(session),
    )


def report_public(report: ContributionReport, created_utc: datetime | None = None) -> ContributionReportPublic:
    """A report as the member may see it (whose history a near-copy matched is left out)."""
    public = ContributionReportPublic.model_validate(report.for_member())
    public.created_utc = created_utc
    return public


def progress_public(job: Job | None) -> ProgressPublic | None:
    if job is None:
        return None
    running = job.status is JobStatus.RUNNING
    return ProgressPublic(
        state="running" if running else "queued",
        done=job.progress_done if running else 0,
        total=job.progress_total if running else None,
        note=(job.progress_note if running else "") or ("starting" if running else "waiting for a worker"),
        attempt=job.attempts,
    )


def contribution_public(session: Session, row: Contribution) -> ContributionPublic:
    """A contribution as its member sees it: its progress while pending, then its report."""
    report = queries.report_of(session, row)
    return ContributionPublic(
        contribution_id=row.id,
        status=row.status,
        created_utc=row.created_utc,
        progress=progress_public(queries.validation_job(session, row)) if report.pending else None,
        report=None if report.pending else report_public(report, row.created_utc),
    )


def contributions_of(session: Session, member: Member) -> list[ContributionSummaryPublic]:
    return [
        ContributionSummaryPublic(
            id=row.id,
            created_utc=row.created_utc,
            status=row.status,
            formats=row.export_label,
            plays_added=row.plays_added,
            points=row.score,
            reasons=list(queries.report_of(session, row).reasons),
        )
        for row in queries.member_contributions(session, member)
    ]


def contribution_of(session: Session, member: Member, contribution_id: str) -> ContributionPublic:
    """One of the member's own contributions; NotFound for anyone else's."""
    return contribution_public(session, queries.contribution_of(session, member, contribution_id))


def pool_share(session: Session, settings: CoopSettings, member: Member) -> PoolSharePublic:
    """The member's plays in the pool: rows from the files' plain footers, sources and dates decrypted."""
    return PoolSharePublic.model_validate(queries.pool_share(session, settings, member))


def data_uses(session: Session, member: Member) -> DataUsesPublic:
    """Every sale the member was in or left out of, and every use of their data since (``sales.uses``)."""
    found = uses.uses_of(session, member)
    return DataUsesPublic(
        uses=[DataUsePublic(description=u.description, when_utc=u.when_utc) for u in found],
        note="" if found else NO_USES_YET,
    )


def proof_public(proof: WithdrawalProof) -> WithdrawalProofPublic:
    return WithdrawalProofPublic.model_validate(proof)  # reads ``erased``, a property, too


def onboarding(session: Session) -> OnboardingPublic:
    today = utcnow().date()
    return OnboardingPublic(
        capacity_per_day=waitlist.capacity(session),
        admitted_today=waitlist.admitted_on(session, today),
        remaining_today=waitlist.remaining_on(session, today),
        waiting=waitlist.waiting(session),
    )


def waitlist_queue(session: Session, limit: int = WAITLIST_SHOWN) -> list[WaitlistEntryPublic]:
    """The first ``limit`` members waiting, in the order they will be admitted (no email: stewards need none)."""
    return [
        WaitlistEntryPublic(position=q.position, member_id=q.member_id, created_utc=q.since_utc)
        for q in waitlist.queue(session, limit)
    ]


def copy_cases(session: Session) -> list[CopyCasePublic]:
    """Open copy cases, oldest first, with what each side holds (member ids only)."""
    return [
        CopyCasePublic(
            case_id=case.case_id,
            opened_utc=case.opened_utc,
            resolved_utc=case.resolved_utc,
            owner_member_id=case.owner_member_id,
            resolution=case.resolution,
            contributions=[HeldContributionPublic(**dataclasses.asdict(c)) for c in case.contributions],
        )
        for case in cases.open_cases(session)
    ]


def flagged(session: Session) -> list[FlaggedContributionPublic]:
    out = []
    for row, report in queries.flagged_for_stewards(session):
        copy = report.copy_check
        out.append(
            FlaggedContributionPublic(
                contribution_id=row.id,
                created_utc=row.created_utc,
                member_id=row.member_id,
                matched_member_id=copy.matched_member_id if copy else None,
                similarity=copy.similarity if copy else None,
                method=copy.method if copy else None,
                reasons=list(report.reasons),
            )
        )
    return out
