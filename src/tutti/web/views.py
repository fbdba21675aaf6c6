"""What the pages and the API show, read from the cooperative's domain and turned into public schemas.

Reads only, so that routes hold no queries. The few lookups the domain does not offer yet (a member's own
contributions, the waitlist queue, a member's pool counts) live here until it does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import contributions, crypto, waitlist
from tutti.coop.contributions import ContributionReport
from tutti.coop.errors import NotFound
from tutti.coop.models import Contribution, Member, WaitlistEntry, utcnow
from tutti.coop.settings import CoopSettings
from tutti.coop.withdrawal import WithdrawalProof
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
    rows = session.scalars(
        select(Contribution).where(Contribution.member_id == member.id).order_by(Contribution.created_utc.desc())
    )
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
        for row in rows
    ]


def contribution_of(session: Session, member: Member, contribution_id: str) -> ContributionReportPublic:
    """The report of one of the member's own contributions; NotFound for anyone else's."""
    row = session.get(Contribution, contribution_id)
    if row is None or row.member_id != member.id:
        raise NotFound("no such contribution")
    return report_public(row.report, row.created_utc)


def pool_share(session: Session, settings: CoopSettings, member: Member) -> PoolSharePublic:
    """The member's plays in the pool: rows from the files' plain footers, sources and dates decrypted."""
    pool = contributions.pool_of(settings)
    files = pool.files(member.pseudonym)
    rows = sum(pq.read_metadata(f).num_rows for f in files)
    if not rows:
        return PoolSharePublic(plays=0, files=len(files), by_source={}, first_play_utc=None, last_play_utc=None)
    key = crypto.member_key(session, member, settings)
    table = pool.member_table(member.pseudonym, key, ["source", "start_utc", "end_utc"])
    counted = pc.value_counts(table.column("source")).to_pylist()
    by_source = {str(c["values"]): int(c["counts"]) for c in sorted(counted, key=lambda c: -int(c["counts"]))}
    moments = pc.coalesce(table.column("start_utc"), table.column("end_utc"))
    span = pc.min_max(moments).as_py() if len(moments) else {"min": None, "max": None}
    return PoolSharePublic(
        plays=rows, files=len(files), by_source=by_source, first_play_utc=span["min"], last_play_utc=span["max"]
    )


def data_uses(member: Member) -> DataUsesPublic:
    # Sales do not exist yet; the section is there so members know where uses will be shown.
    return DataUsesPublic(uses=[], note=NO_USES_YET)


def proof_public(proof: WithdrawalProof) -> WithdrawalProofPublic:
    return WithdrawalProofPublic(
        member_id=proof.member_id,
        member_rows_before=proof.member_rows_before,
        member_rows_after=proof.member_rows_after,
        pool_rows_before=proof.pool_rows_before,
        pool_rows_after=proof.pool_rows_after,
        pool_files_removed=proof.pool_files_removed,
        blobs_destroyed=proof.blobs_destroyed,
        key_destroyed=proof.key_destroyed,
        status=proof.status,
        withdrawn_utc=proof.withdrawn_utc,
        excluded_from_sales=proof.excluded_from_sales,
        erased=proof.erased,
    )


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
    entries = session.scalars(select(WaitlistEntry).order_by(WaitlistEntry.created_utc, WaitlistEntry.id).limit(limit))
    return [
        WaitlistEntryPublic(position=i, member_id=e.member_id, created_utc=e.created_utc)
        for i, e in enumerate(entries, start=1)
    ]


def flagged(session: Session) -> list[FlaggedContributionPublic]:
    out = []
    for row in contributions.flagged_for_stewards(session):
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
