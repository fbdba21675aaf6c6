"""What the pages and the API show, read from the cooperative's domain and turned into public schemas.

Reads only, and no queries of its own: every lookup is the domain's (``tutti.coop``); this module only turns
its results into the public schemas, so that routes hold neither queries nor conversions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tutti.coop.contributions import pipeline
from tutti.coop.contributions.pipeline import ContributionReport
from tutti.coop.members import waitlist
from tutti.coop.members.withdrawal import WithdrawalProof
from tutti.coop.models import Member, utcnow
from tutti.coop.settings import CoopSettings
from tutti.web.schemas import (
    ContributionReportPublic,
    ContributionSummaryPublic,
    DataUsesPublic,
    FlaggedContributionPublic,
    MemberPublic,
    OnboardingPublic,
    PoolSharePublic,
    WaitlistEntryPublic,
    WaitlistPositionPublic,
    WithdrawalProofPublic,
)

WAITLIST_SHOWN = 500
NO_USES_YET = (
    "No uses yet: the cooperative has not sold or shared any data. When members vote a sale through, every use "
    "that includes your plays is listed here, with what the buyer received."
)


def member_public(session: Session, member: Member) -> MemberPublic:
    public = MemberPublic.model_validate(member)
    public.waitlist_position = waitlist.waitlist_position(session, member)
    return public


def position_public(session: Session, member: Member) -> WaitlistPositionPublic:
    return WaitlistPositionPublic(
        status=member.status,
        position=waitlist.waitlist_position(session, member),
        waiting=waitlist.waiting(session),
        capacity_per_day=waitlist.capacity(session),
    )


def report_public(data: dict[str, Any], created_utc: datetime | None = None) -> ContributionReportPublic:
    """A report as the member may see it (the domain's JSON; whose history a near-copy matched is left out)."""
    fields = dict(data)
    fields["copy_check"] = fields.pop("copy", None)
    fields["created_utc"] = created_utc
    return ContributionReportPublic.model_validate(fields)


def fresh_report(report: ContributionReport) -> ContributionReportPublic:
    return report_public(report.to_json(for_member=True), utcnow())


def contributions_of(session: Session, member: Member) -> list[ContributionSummaryPublic]:
    return [
        ContributionSummaryPublic(
            id=row.id,
            created_utc=row.created_utc,
            status=row.status,
            formats=row.export_label,
            plays_added=row.plays_added,
            points=row.score,
            reasons=list(row.reasons),
        )
        for row in pipeline.member_contributions(session, member)
    ]


def contribution_of(session: Session, member: Member, contribution_id: str) -> ContributionReportPublic:
    """The report of one of the member's own contributions; NotFound for anyone else's."""
    row = pipeline.contribution_of(session, member, contribution_id)
    return report_public(row.report, row.created_utc)


def pool_share(session: Session, settings: CoopSettings, member: Member) -> PoolSharePublic:
    """The member's plays in the pool: rows from the files' plain footers, sources and dates decrypted."""
    return PoolSharePublic.model_validate(pipeline.pool_share(session, settings, member))


def data_uses(member: Member) -> DataUsesPublic:
    # Sales do not exist yet; the section is there so members know where uses will be shown.
    return DataUsesPublic(uses=[], note=NO_USES_YET)


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


def flagged(session: Session) -> list[FlaggedContributionPublic]:
    out = []
    for row in pipeline.flagged_for_stewards(session):
        copy = row.report.get("copy") or {}
        out.append(
            FlaggedContributionPublic(
                contribution_id=row.id,
                created_utc=row.created_utc,
                member_id=row.member_id,
                matched_member_id=copy.get("matched_member_id"),
                similarity=copy.get("similarity"),
                method=copy.get("method"),
                reasons=list(row.reasons),
            )
        )
    return out
