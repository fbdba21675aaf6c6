"""What governance holds about one member, for the export of everything the cooperative holds about them.

Their consent and email choices, the sales they opted out of, their buyer applications, the votes they could cast
and whether they did (never what they chose: nothing ties a ballot to them, not even for themselves; their
receipt's tracking code finds it among the published ones), and the sales that include them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop.governance import ballots, buyers, consent
from tutti.coop.models import Elector, Member, Proposal, SaleInclusion, SaleOptOut


def about(session: Session, member: Member) -> dict[str, Any]:
    def proposals_where(column: Any, table: Any) -> list[Proposal]:
        query = select(Proposal).join(table, column == Proposal.id).where(table.member_id == member.id)
        return list(session.scalars(query.order_by(Proposal.created_utc)))

    return {
        "consent": asdict(consent.preferences(session, member)),
        "opted_out_of": [p.id for p in proposals_where(SaleOptOut.proposal_id, SaleOptOut)],
        "buyer_applications": [
            {
                "id": a.id,
                "organisation": a.organisation,
                "kind": a.kind,
                "status": a.status,
                "created_utc": a.created_utc,
            }
            for a in buyers.applications_of(session, member)
        ],
        "votes": [
            {"proposal_id": p.id, "title": p.title, "voted": ballots.has_voted(session, p, member)}
            for p in proposals_where(Elector.proposal_id, Elector)
        ],
        "included_in_sales": [p.id for p in proposals_where(SaleInclusion.proposal_id, SaleInclusion)],
    }
